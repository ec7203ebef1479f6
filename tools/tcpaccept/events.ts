// tcpaccept's records and lines: decoding the one record tcpaccept.bpf.c sends per accepted
// connection, and printing it in bcc's columns (bcc's tools/tcpaccept.py) or as JSON. Pure
// functions, called once per accept.
import { FLOW_SIZE, readFlow, type Flow } from '../../lib/output/inet.ts';

/**
 * Where each field of struct accept_event (tcpaccept.bpf.c) starts, by its C name. The C struct
 * is the truth: test/kernel/tcpaccept.test.ts compares these with the layout libbcc reports.
 */
export const ACCEPT_EVENT_OFFSETS = { ts: 0, pid: 8, comm: 12, flow: 28 } as const;
/** comm[]: the kernel's TASK_COMM_LEN. */
export const COMM_LEN = 16;
/** sizeof(struct accept_event): the flow, then padding to the u64's alignment. */
export const ACCEPT_EVENT_SIZE = Math.ceil((ACCEPT_EVENT_OFFSETS.flow + FLOW_SIZE) / 8) * 8;

export interface AcceptEvent extends Flow {
  /** bpf_ktime_get_ns() at the accept: CLOCK_MONOTONIC. */
  ts: bigint;
  /** The process that called accept() (its tgid). */
  pid: number;
  comm: string;
}

export function decodeAcceptRecord(buf: Buffer): AcceptEvent {
  const start = ACCEPT_EVENT_OFFSETS.comm;
  const nul = buf.indexOf(0, start);
  const end = nul < 0 || nul > start + COMM_LEN ? start + COMM_LEN : nul;
  return {
    ts: buf.readBigUInt64LE(ACCEPT_EVENT_OFFSETS.ts),
    pid: buf.readUInt32LE(ACCEPT_EVENT_OFFSETS.pid),
    comm: buf.toString('utf8', start, end),
    ...readFlow(buf, ACCEPT_EVENT_OFFSETS.flow),
  };
}

/** TIME(s): seconds since the first accept seen, as bcc counts them. */
export function secondsSince(ts: bigint, first: bigint): string {
  return (Number(ts - first) / 1e9).toFixed(3);
}

export interface ColumnOptions {
  /** -T: TIME (HH:MM:SS) */
  time?: boolean;
  /** -t: TIME(s), seconds since the first accept */
  timestamp?: boolean;
}

/** bcc's "%-7s %-12s %-2s %-16s %-5s %-16s %-5s", after "%-9s" TIME and TIME(s). */
function columns(o: ColumnOptions, clock: string, seconds: string, cols: Array<string | number>): string {
  let line = '';
  if (o.time) line += clock.padEnd(9);
  if (o.timestamp) line += seconds.padEnd(9);
  const [pid, comm, ip, raddr, rport, laddr, lport] = cols.map(String);
  return `${line}${pid.padEnd(7)} ${comm.slice(0, 12).padEnd(12)} ${ip.padEnd(2)} ${raddr.padEnd(16)} ${rport.padEnd(5)} ${laddr.padEnd(16)} ${lport.padEnd(5)}`;
}

export function headerLine(o: ColumnOptions): string {
  return columns(o, 'TIME', 'TIME(s)', ['PID', 'COMM', 'IP', 'RADDR', 'RPORT', 'LADDR', 'LPORT']);
}

/** One row in bcc's layout; `clock` and `seconds` are the TIME and TIME(s) values. */
export function rowLine(ev: AcceptEvent, o: ColumnOptions, clock: string, seconds: string): string {
  return columns(o, clock, seconds, [ev.pid, ev.comm, ev.ip, ev.raddr, ev.rport, ev.laddr, ev.lport]);
}

/**
 * --json: one object per accepted connection, whatever the column options. Field names are
 * stable: time, timestamp, pid, comm (whole, not cut to 12 as the column is), ip, raddr, rport,
 * laddr, lport.
 */
export function jsonLine(ev: AcceptEvent, clock: string, seconds: string): string {
  return JSON.stringify({
    time: clock,
    timestamp: Number(seconds),
    pid: ev.pid,
    comm: ev.comm,
    ip: ev.ip,
    raddr: ev.raddr,
    rport: ev.rport,
    laddr: ev.laddr,
    lport: ev.lport,
  });
}
