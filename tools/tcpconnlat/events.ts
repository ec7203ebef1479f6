// tcpconnlat's records and lines: decoding the record tcpconnlat.bpf.c sends per established
// connect, and printing it in bcc's columns (bcc's tools/tcpconnlat.py) or as JSON.
import { FLOW_SIZE, readFlow, type Flow } from '../../lib/output/inet.ts';

/**
 * Where each field of struct connlat_event (tcpconnlat.bpf.c) starts, by its C name. The C
 * struct is the truth: test/kernel/tcpconnlat.test.ts compares these with libbcc's layout.
 */
export const CONNLAT_EVENT_OFFSETS = { ts: 0, latency_ns: 8, pid: 16, pad: 20, comm: 24, flow: 40 } as const;
export const COMM_LEN = 16;
export const RECORD_SIZE = CONNLAT_EVENT_OFFSETS.flow + FLOW_SIZE;

export interface ConnlatEvent extends Flow {
  /** bpf_ktime_get_ns() at ESTABLISHED: CLOCK_MONOTONIC, the clock of process.hrtime.bigint(). */
  ts: bigint;
  /** From SYN_SENT to ESTABLISHED, in nanoseconds. */
  latencyNs: bigint;
  /** The process that called connect(). */
  pid: number;
  comm: string;
}

export function decodeConnlatRecord(buf: Buffer): ConnlatEvent {
  const o = CONNLAT_EVENT_OFFSETS;
  const nul = buf.indexOf(0, o.comm);
  const commEnd = nul < 0 || nul > o.comm + COMM_LEN ? o.comm + COMM_LEN : nul;
  return {
    ts: buf.readBigUInt64LE(o.ts),
    latencyNs: buf.readBigUInt64LE(o.latency_ns),
    pid: buf.readUInt32LE(o.pid),
    comm: buf.toString('utf8', o.comm, commEnd),
    ...readFlow(buf, o.flow),
  };
}

export interface ColumnOptions {
  /** -t: TIME(s) */
  timestamp?: boolean;
  /** -L: LPORT */
  lport?: boolean;
}

/** bcc's header: "%-7s %-12s %-2s %-16s [%-6s] %-16s %-5s %s", after "%-9s" TIME(s) with -t. */
export function headerLine(o: ColumnOptions): string {
  const time = o.timestamp ? 'TIME(s)'.padEnd(9) : '';
  const lport = o.lport ? ` ${'LPORT'.padEnd(6)}` : '';
  return `${time}${'PID'.padEnd(7)} ${'COMM'.padEnd(12)} ${'IP'.padEnd(2)} ${'SADDR'.padEnd(16)}${lport} ${'DADDR'.padEnd(16)} ${'DPORT'.padEnd(5)} LAT(ms)`;
}

/**
 * LAT(ms) as bcc prints it: the latency cut to whole microseconds, then "%.2f" of the
 * milliseconds. Python rounds an exact tie (x.xx5 ms, exactly representable only when the
 * microseconds end in 125, 375, 625 or 875) to even; toFixed would round it up.
 */
export function latencyMs(latencyNs: bigint): string {
  const us = latencyNs / 1000n;
  if (us % 250n === 125n) {
    const tenths = us / 10n; // the tie: choose the even one of tenths and tenths + 1
    const centi = tenths % 2n === 0n ? tenths : tenths + 1n;
    return `${centi / 100n}.${String(centi % 100n).padStart(2, '0')}`;
  }
  return (Number(us) / 1000).toFixed(2);
}

/** One row in bcc's layout; `seconds` is the TIME(s) value. */
export function rowLine(ev: ConnlatEvent, o: ColumnOptions, seconds: string): string {
  const time = o.timestamp ? seconds.padEnd(9) : '';
  const lport = o.lport ? ` ${String(ev.lport).padEnd(6)}` : '';
  return `${time}${String(ev.pid).padEnd(7)} ${[...ev.comm].slice(0, 12).join('').padEnd(12)} ${String(ev.ip).padEnd(2)} ` +
    `${ev.laddr.padEnd(16)}${lport} ${ev.raddr.padEnd(16)} ${String(ev.rport).padEnd(5)} ${latencyMs(ev.latencyNs)}`;
}

/**
 * --json: one object per established connect, every column whatever the options. Fields: time
 * (HH:MM:SS), timestamp (seconds since tracing began), pid, comm, ip, saddr, lport, daddr, dport,
 * lat_ms (as LAT(ms), a number), latency_ns (exact).
 */
export function jsonLine(ev: ConnlatEvent, clock: string, seconds: string): string {
  return JSON.stringify({
    time: clock,
    timestamp: Number(seconds),
    pid: ev.pid,
    comm: ev.comm,
    ip: ev.ip,
    saddr: ev.laddr,
    lport: ev.lport,
    daddr: ev.raddr,
    dport: ev.rport,
    lat_ms: Number(latencyMs(ev.latencyNs)),
    latency_ns: Number(ev.latencyNs),
  });
}
