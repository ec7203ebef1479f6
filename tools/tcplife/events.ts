// tcplife's records and lines: decoding the record tcplife.bpf.c sends when a connection closes,
// and printing it in bcc's columns (bcc's tools/tcplife.py: default, -w wide, -s CSV) or as JSON.
// Pure functions.
import { readFlow, type Flow } from '../../lib/output/inet.ts';

/**
 * Where each field of struct life_event (tcplife.bpf.c) starts, by its C name. The C struct is
 * the truth: test/kernel/tcplife.test.ts compares these with the layout libbcc reports for it.
 */
export const LIFE_EVENT_OFFSETS = {
  ts: 0, span_ns: 8, tx_bytes: 16, rx_bytes: 24, flow: 32, pid: 72, owner: 76, comm: 80,
} as const;
export const COMM_LEN = 16;
export const LIFE_EVENT_SIZE = 96;

/** How the owning process was found (OWNER_* in tcplife.bpf.c), as --json names it. */
export const OWNERS = ['unknown', 'connect', 'accept', 'close'] as const;
export type Owner = typeof OWNERS[number];

export interface LifeEvent extends Flow {
  /** bpf_ktime_get_ns() at the close: CLOCK_MONOTONIC, the clock of process.hrtime.bigint(). */
  ts: bigint;
  /** Nanoseconds from the first state change to the close. */
  spanNs: bigint;
  /** Bytes the peer acknowledged (tcp_sock.bytes_acked) and bytes received (bytes_received). */
  txBytes: bigint;
  rxBytes: bigint;
  pid: number;
  comm: string;
  owner: Owner;
}

const O = LIFE_EVENT_OFFSETS;

export function decodeLifeRecord(buf: Buffer): LifeEvent {
  const nul = buf.indexOf(0, O.comm);
  const commEnd = nul < 0 || nul > O.comm + COMM_LEN ? O.comm + COMM_LEN : nul;
  return {
    ts: buf.readBigUInt64LE(O.ts),
    spanNs: buf.readBigUInt64LE(O.span_ns),
    txBytes: buf.readBigUInt64LE(O.tx_bytes),
    rxBytes: buf.readBigUInt64LE(O.rx_bytes),
    ...readFlow(buf, O.flow),
    pid: buf.readUInt32LE(O.pid),
    owner: OWNERS[buf.readUInt32LE(O.owner)] ?? 'unknown',
    comm: buf.toString('utf8', O.comm, commEnd),
  };
}

export type Layout = 'default' | 'wide' | 'csv';

export interface ColumnOptions {
  layout: Layout;
  /** -T: TIME (HH:MM:SS) */
  time?: boolean;
  /** -t: TIME(s), seconds since the first connection shown */
  timestamp?: boolean;
}

/** bcc's KB columns: bytes / 1024 printed with %d, which truncates. */
export function kb(bytes: bigint): bigint {
  return bytes / 1024n;
}

/** Whole microseconds, as bcc's record carries the span. */
export function spanUs(ev: Pick<LifeEvent, 'spanNs'>): bigint {
  return ev.spanNs / 1000n;
}

/**
 * bcc's MS column: "%.2f" of µs / 1000 in Python, which rounds the double's exact value and a
 * tie to even (0.125 → "0.12"); toFixed() breaks ties upwards. Ties are the spans whose µs end in
 * 125, 375, 625 or 875, exactly representable as eighths.
 */
export function msText(us: bigint): string {
  if (us % 125n === 0n && us % 10n === 5n) {
    let hundredths = us / 10n;
    if (hundredths % 2n === 1n) hundredths += 1n;
    return `${hundredths / 100n}.${String(hundredths % 100n).padStart(2, '0')}`;
  }
  return (Number(us) / 1000).toFixed(2);
}

/** Python's "%-N.Ms": cut to M characters, then padded to N. */
function cut(text: string, width: number): string {
  return text.slice(0, width).padEnd(width);
}

function prefixHeader(o: ColumnOptions): string {
  let line = '';
  const csv = o.layout === 'csv';
  if (o.time) line += csv ? 'TIME,' : `${'TIME'.padEnd(8)} `;
  if (o.timestamp) line += csv ? 'TIME(s),' : `${'TIME(s)'.padEnd(9)} `;
  return line;
}

/** bcc's header line for the layout and time columns. */
export function headerLine(o: ColumnOptions): string {
  const prefix = prefixHeader(o);
  switch (o.layout) {
    case 'csv':
      return `${prefix}PID,COMM,IP,LADDR,LPORT,RADDR,RPORT,TX_KB,RX_KB,MS`;
    case 'wide':
      return `${prefix}${'PID'.padEnd(5)} ${cut('COMM', 16)} ${'IP'.padEnd(2)} ${'LADDR'.padEnd(26)} ${'LPORT'.padEnd(5)} ` +
        `${'RADDR'.padEnd(26)} ${'RPORT'.padEnd(5)} ${'TX_KB'.padStart(6)} ${'RX_KB'.padStart(6)} MS`;
    default:
      return `${prefix}${'PID'.padEnd(5)} ${cut('COMM', 10)} ${'LADDR'.padEnd(15)} ${'LPORT'.padEnd(5)} ` +
        `${'RADDR'.padEnd(15)} ${'RPORT'.padEnd(5)} ${'TX_KB'.padStart(5)} ${'RX_KB'.padStart(5)} MS`;
  }
}

/** One row in bcc's layout; `clock` and `seconds` are the TIME and TIME(s) values. */
export function rowLine(ev: LifeEvent, o: ColumnOptions, clock: string, seconds: string): string {
  let line = '';
  const csv = o.layout === 'csv';
  if (o.time) line += csv ? `${clock},` : `${clock.padEnd(8)} `;
  if (o.timestamp) line += csv ? `${seconds},` : `${seconds.padEnd(9)} `;
  const tx = String(kb(ev.txBytes));
  const rx = String(kb(ev.rxBytes));
  const ms = msText(spanUs(ev));
  switch (o.layout) {
    case 'csv':
      return `${line}${ev.pid},${ev.comm},${ev.ip},${ev.laddr},${ev.lport},${ev.raddr},${ev.rport},${tx},${rx},${ms}`;
    case 'wide':
      return `${line}${String(ev.pid).padEnd(5)} ${cut(ev.comm, 16)} ${String(ev.ip).padEnd(2)} ${ev.laddr.padEnd(26)} ` +
        `${String(ev.lport).padEnd(5)} ${ev.raddr.padEnd(26)} ${String(ev.rport).padEnd(5)} ${tx.padStart(6)} ${rx.padStart(6)} ${ms}`;
    default:
      // bcc's %-15s does not cut: a long IPv6 address pushes the columns after it right.
      return `${line}${String(ev.pid).padEnd(5)} ${cut(ev.comm, 10)} ${ev.laddr.padEnd(15)} ${String(ev.lport).padEnd(5)} ` +
        `${ev.raddr.padEnd(15)} ${String(ev.rport).padEnd(5)} ${tx.padStart(5)} ${rx.padStart(5)} ${ms}`;
  }
}

/**
 * bcc's TIME(s): seconds from the first connection shown (that row reads 0.000000), with
 * microseconds, as bcc computes it from its records' µs timestamps.
 */
export class FirstEventSeconds {
  private firstUs: bigint | null = null;

  text(ts: bigint): string {
    const us = ts / 1000n;
    this.firstUs ??= us;
    const delta = us - this.firstUs;
    const sign = delta < 0n ? '-' : '';
    const abs = delta < 0n ? -delta : delta;
    return `${sign}${abs / 1_000_000n}.${String(abs % 1_000_000n).padStart(6, '0')}`;
  }
}

/**
 * --json: one object per closed connection, every field whatever the column options. Field
 * names are stable: time, timestamp, pid, comm, owner, ip, laddr, lport, raddr, rport, tx_bytes,
 * rx_bytes, tx_kb, rx_kb, span_us, ms.
 */
export function jsonObject(ev: LifeEvent, clock: string, seconds: string): Record<string, unknown> {
  const us = spanUs(ev);
  return {
    time: clock,
    timestamp: Number(seconds),
    pid: ev.pid,
    comm: ev.comm,
    owner: ev.owner,
    ip: ev.ip,
    laddr: ev.laddr,
    lport: ev.lport,
    raddr: ev.raddr,
    rport: ev.rport,
    tx_bytes: ev.txBytes,
    rx_bytes: ev.rxBytes,
    tx_kb: kb(ev.txBytes),
    rx_kb: kb(ev.rxBytes),
    span_us: us,
    ms: Number(us) / 1000,
  };
}
