// tcpretrans's records and lines: decoding the record tcpretrans.bpf.c sends per retransmit (or
// tail loss probe), printing it in bcc's columns (bcc's tools/tcpretrans.py) or as JSON, and the
// per-flow table -c prints at the end. Pure functions.
import { AF_INET6, formatAddress, readFlow, tcpStateName } from '../../lib/output/inet.ts';

/**
 * Where each field of struct retrans_event (tcpretrans.bpf.c) starts, by its C name. The C struct
 * is the truth: test/kernel/tcpretrans.test.ts compares these with the layout libbcc reports.
 */
export const RETRANS_EVENT_OFFSETS = {
  ts: 0, flow: 8, pid: 48, seq: 52, state: 56, err: 60, segs: 64, type: 66, owner: 67, comm: 68,
} as const;
export const RECORD_SIZE = 88;
export const COMM_LEN = 16;

/** Event types as the C program numbers them, and bcc's letters in the T> column. */
export const TYPE_RETRANSMIT = 1;
export const TYPE_TLP = 2;
const TYPE_LETTERS: Record<number, 'R' | 'L'> = { [TYPE_RETRANSMIT]: 'R', [TYPE_TLP]: 'L' };

export interface RetransEvent {
  /** bpf_ktime_get_ns(): CLOCK_MONOTONIC. */
  ts: bigint;
  ip: 4 | 6;
  laddr: string;
  lport: number;
  raddr: string;
  rport: number;
  /** The process that connect()ed the socket when it was seen (owner), else the one on the CPU. */
  pid: number;
  owner: boolean;
  comm: string;
  /** TCP_SKB_CB(skb)->seq of the retransmitted data; 0 for a tail loss probe. */
  seq: number;
  /** The TCP state number (tcpStateName names it). */
  state: number;
  /** Segments the retransmit carried: what it adds to the sender's tcpi_total_retrans. */
  segs: number;
  /** 0, or the error of a transmission that failed after the kernel counted it (Linux 6.10+). */
  err: number;
  type: 'R' | 'L';
}

const O = RETRANS_EVENT_OFFSETS;

export function decodeRetransRecord(buf: Buffer): RetransEvent {
  const flow = readFlow(buf, O.flow);
  const nul = buf.indexOf(0, O.comm);
  return {
    ts: buf.readBigUInt64LE(O.ts),
    ...flow,
    pid: buf.readUInt32LE(O.pid),
    owner: buf[O.owner] === 1,
    comm: buf.toString('utf8', O.comm, nul < 0 || nul > O.comm + COMM_LEN ? O.comm + COMM_LEN : nul),
    seq: buf.readUInt32LE(O.seq),
    state: buf.readUInt32LE(O.state),
    segs: buf.readUInt16LE(O.segs),
    err: buf.readInt32LE(O.err),
    type: TYPE_LETTERS[buf[O.type]] ?? 'R',
  };
}

/** bcc's header: "%-8s %-7s %-2s %-20s %1s> %-20s", then " %-4s" STATE or, with -s, " %-12s %-10s" STATE SEQ. */
export function headerLine(sequence: boolean): string {
  const base = `${'TIME'.padEnd(8)} ${'PID'.padEnd(7)} ${'IP'.padEnd(2)} ${'LADDR:LPORT'.padEnd(20)} T> ${'RADDR:RPORT'.padEnd(20)}`;
  return sequence ? `${base} ${'STATE'.padEnd(12)} ${'SEQ'.padEnd(10)}` : `${base} STATE`;
}

/** One row as bcc prints it; `clock` is the TIME value. bcc writes IPv6 addresses unbracketed: "::1:22". */
export function rowLine(ev: RetransEvent, clock: string, sequence: boolean): string {
  const base = `${clock.padEnd(8)} ${String(ev.pid).padEnd(7)} ${String(ev.ip).padEnd(2)} ${`${ev.laddr}:${ev.lport}`.padEnd(20)} ` +
    `${ev.type}> ${`${ev.raddr}:${ev.rport}`.padEnd(20)}`;
  const state = tcpStateName(ev.state);
  return sequence ? `${base} ${state.padEnd(12)} ${ev.seq}` : `${base} ${state}`;
}

/**
 * --json: one object per event, every field whatever -s says: time, pid, comm, pid_from
 * ("connect": the socket's owner; "cpu": the process on the CPU, as bcc), ip, laddr, lport,
 * raddr, rport, type ("R" retransmit, "L" tail loss probe), state, seq, segs, err (0, or the
 * kernel's error for a retransmit it counted but could not hand to the device: 6.10+).
 */
export function jsonLine(ev: RetransEvent, clock: string): string {
  return JSON.stringify({
    time: clock,
    pid: ev.pid,
    comm: ev.comm,
    pid_from: ev.owner ? 'connect' : 'cpu',
    ip: ev.ip,
    laddr: ev.laddr,
    lport: ev.lport,
    raddr: ev.raddr,
    rport: ev.rport,
    type: ev.type,
    state: tcpStateName(ev.state),
    seq: ev.seq,
    segs: ev.segs,
    err: ev.err,
  });
}

// --- -c: counts per flow ---

/** `counts` key as tcpretrans.bpf.c declares it (decoded by the binding). */
export interface CountKey {
  flow: { laddr: number[]; raddr: number[]; lport: number; rport: number; family: number };
  type: number;
}

export interface FlowCount {
  ip: 4 | 6;
  laddr: string;
  lport: number;
  raddr: string;
  rport: number;
  retransmits: bigint;
  lossProbes: bigint;
}

/** The kernel's counts, one row per flow (retransmits and probes side by side). */
export function flowCounts(entries: Iterable<[CountKey, bigint | number]>): FlowCount[] {
  const byFlow = new Map<string, FlowCount>();
  for (const [key, value] of entries) {
    const f = key.flow;
    const ip = f.family === AF_INET6 ? 6 : 4;
    const laddr = formatAddress(f.family, f.laddr);
    const raddr = formatAddress(f.family, f.raddr);
    const id = `${ip}|${laddr}|${f.lport}|${raddr}|${f.rport}`;
    let row = byFlow.get(id);
    if (!row) byFlow.set(id, row = { ip, laddr, lport: f.lport, raddr, rport: f.rport, retransmits: 0n, lossProbes: 0n });
    if (key.type === TYPE_TLP) row.lossProbes += BigInt(value);
    else row.retransmits += BigInt(value);
  }
  return [...byFlow.values()];
}

/** bcc's -c header: "%-25s %-25s %-10s", after an empty line. */
export const COUNT_HEADER = `${'LADDR:LPORT'.padEnd(25)} ${'RADDR:RPORT'.padEnd(25)} ${'RETRANSMITS'.padEnd(10)}`;

/**
 * bcc's -c rows: "[ADDR]#PORT" endpoints ("%-20s <-> %-20s %10d"), IPv4 flows then IPv6, each
 * in ascending order of their count, which sums retransmits and probes as bcc's one counter does.
 */
export function countLines(rows: FlowCount[]): string[] {
  const total = (r: FlowCount) => r.retransmits + r.lossProbes;
  const lines: string[] = [];
  for (const ip of [4, 6]) {
    const mine = rows.filter((r) => r.ip === ip).sort((a, b) => (total(a) < total(b) ? -1 : total(a) > total(b) ? 1 : 0));
    for (const r of mine) {
      lines.push(`${`[${r.laddr}]#${r.lport}`.padEnd(20)} <-> ${`[${r.raddr}]#${r.rport}`.padEnd(20)} ${String(total(r)).padStart(10)}`);
    }
  }
  return lines;
}

/** --json with -c: one object per flow at the end: ip, laddr, lport, raddr, rport, retransmits, loss_probes. */
export function countJson(r: FlowCount): Record<string, unknown> {
  return { ip: r.ip, laddr: r.laddr, lport: r.lport, raddr: r.raddr, rport: r.rport, retransmits: r.retransmits, loss_probes: r.lossProbes };
}
