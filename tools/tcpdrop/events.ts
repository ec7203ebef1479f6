// tcpdrop's records and lines: decoding the record tcpdrop.bpf.c sends per drop, and printing it
// in bcc's columns (bcc's tools/tcpdrop.py) with the drop reason after them, the kernel stack
// below, or as JSON. Pure functions: the stack comes in already symbolised.
import { FLOW_SIZE, readFlow, tcpStateName } from '../../lib/output/inet.ts';

/**
 * Where each field of struct drop_event (tcpdrop.bpf.c) starts, by its C name. The C struct is
 * the truth: test/kernel/tcpdrop.test.ts compares these with the layout libbcc reports for it.
 */
export const DROP_EVENT_OFFSETS = {
  ts: 0, pid: 8, reason: 12, stack_id: 16, state: 20, tcpflags: 21, pad: 22, comm: 24, flow: 40,
} as const;
export const DROP_EVENT_SIZE = DROP_EVENT_OFFSETS.flow + FLOW_SIZE;
const COMM_LEN = 16;

export interface DropEvent {
  /** bpf_ktime_get_ns(): CLOCK_MONOTONIC. */
  ts: bigint;
  /** The process on the CPU when the packet was dropped (bcc's PID): often not the socket's. */
  pid: number;
  comm: string;
  ip: 4 | 6;
  saddr: string;
  sport: number;
  daddr: string;
  dport: number;
  /** The socket's TCP state, 0 when the packet had no socket. */
  state: number;
  tcpflags: number;
  /** enum skb_drop_reason's value; meaningful only when the hook gives reasons. */
  reason: number;
  /** Negative when the kernel could not record the stack. */
  stackId: number;
}

export function decodeDropRecord(buf: Buffer): DropEvent {
  const flow = readFlow(buf, DROP_EVENT_OFFSETS.flow);
  const nul = buf.indexOf(0, DROP_EVENT_OFFSETS.comm);
  const commEnd = nul < 0 || nul > DROP_EVENT_OFFSETS.comm + COMM_LEN ? DROP_EVENT_OFFSETS.comm + COMM_LEN : nul;
  return {
    ts: buf.readBigUInt64LE(DROP_EVENT_OFFSETS.ts),
    pid: buf.readUInt32LE(DROP_EVENT_OFFSETS.pid),
    comm: buf.toString('utf8', DROP_EVENT_OFFSETS.comm, commEnd),
    ip: flow.ip,
    saddr: flow.laddr,
    sport: flow.lport,
    daddr: flow.raddr,
    dport: flow.rport,
    state: buf[DROP_EVENT_OFFSETS.state],
    tcpflags: buf[DROP_EVENT_OFFSETS.tcpflags],
    reason: buf.readUInt32LE(DROP_EVENT_OFFSETS.reason),
    stackId: buf.readInt32LE(DROP_EVENT_OFFSETS.stack_id),
  };
}

// bcc's tcp.flags2str order (include/net/tcp.h's TCPHDR_*).
const TCP_FLAGS: Array<[number, string]> = [
  [0x01, 'FIN'], [0x02, 'SYN'], [0x04, 'RST'], [0x08, 'PSH'], [0x10, 'ACK'], [0x20, 'URG'], [0x40, 'ECE'], [0x80, 'CWR'],
];

/** The TCP flags set, in bcc's order: ["SYN"], ["RST", "ACK"]. */
export function tcpFlagNames(flags: number): string[] {
  return TCP_FLAGS.filter(([bit]) => flags & bit).map(([, name]) => name);
}

/** The STATE column: bcc's name, or "-" for a packet that had no socket (bcc skips those). */
export function stateText(state: number): string {
  return state === 0 ? NONE : tcpStateName(state);
}

/** What REASON (and --json's reason) shows where the hook gives none. */
export const NONE = '-';

/** A reason's name from enum skb_drop_reason, its number where BTF has no name for it. */
export function reasonText(reason: number, reasons: ReadonlyMap<number, string>, hasReason: boolean): string {
  if (!hasReason) return NONE;
  return reasons.get(reason) ?? String(reason);
}

/** bcc's header ("%-8s %-7s %-2s %-20s > %-20s %s (%s)"), and REASON. */
export function headerLine(): string {
  return `${'TIME'.padEnd(8)} ${'PID'.padEnd(7)} ${'IP'.padEnd(2)} ${'SADDR:SPORT'.padEnd(20)} > ${'DADDR:DPORT'.padEnd(20)} STATE (FLAGS) REASON`;
}

/** The row of one drop; each frame follows on its own line, tab-indented, then an empty line (bcc's layout). */
export function dropLines(ev: DropEvent, clock: string, reason: string, frames: string[]): string {
  const src = `${ev.saddr}:${ev.sport}`;
  const dst = `${ev.daddr}:${ev.dport}`;
  const row = `${clock.padEnd(8)} ${String(ev.pid).padEnd(7)} ${String(ev.ip).padEnd(2)} ${src.padEnd(20)} > ${dst.padEnd(20)} ` +
    `${stateText(ev.state)} (${tcpFlagNames(ev.tcpflags).join('|')}) ${reason}`;
  return [row, ...frames.map((f) => `\t${f}`), ''].join('\n');
}

/**
 * --json: one object per drop. Field names are stable: time, pid, comm, ip, saddr, sport, daddr,
 * dport, state (null without a socket), flags (array), reason (name, number as text where BTF
 * has no name, null where the hook gives none), reason_code (null likewise), stack (frames,
 * innermost first; empty when the kernel could not record it).
 */
export function jsonLine(ev: DropEvent, clock: string, reason: string, hasReason: boolean, frames: string[]): string {
  return JSON.stringify({
    time: clock,
    pid: ev.pid,
    comm: ev.comm,
    ip: ev.ip,
    saddr: ev.saddr,
    sport: ev.sport,
    daddr: ev.daddr,
    dport: ev.dport,
    state: ev.state === 0 ? null : tcpStateName(ev.state),
    flags: tcpFlagNames(ev.tcpflags),
    reason: hasReason ? reason : null,
    reason_code: hasReason ? ev.reason : null,
    stack: frames,
  });
}
