// tcpconnect's records and lines: decoding the record tcpconnect.bpf.c sends per connect, and
// printing it in bcc's columns (bcc's tools/tcpconnect.py) or as JSON; and -c's table of counts.
import { FLOW_SIZE, readFlow, type Flow } from '../../lib/output/inet.ts';

/**
 * Where each field of struct connect_event (tcpconnect.bpf.c) starts, by its C name. The C struct
 * is the truth: test/kernel/tcpconnect.test.ts compares these with the layout libbcc reports.
 */
export const CONNECT_EVENT_OFFSETS = { ts: 0, pid: 8, uid: 12, comm: 16, flow: 32 } as const;
export const COMM_LEN = 16;
export const RECORD_SIZE = CONNECT_EVENT_OFFSETS.flow + FLOW_SIZE;

export interface ConnectEvent {
  /** bpf_ktime_get_ns() when connect() sent the SYN: CLOCK_MONOTONIC. */
  ts: bigint;
  pid: number;
  uid: number;
  comm: string;
  ip: 4 | 6;
  saddr: string;
  lport: number;
  daddr: string;
  dport: number;
}

export function decodeConnectRecord(buf: Buffer): ConnectEvent {
  const commEnd = CONNECT_EVENT_OFFSETS.comm + COMM_LEN;
  const nul = buf.indexOf(0, CONNECT_EVENT_OFFSETS.comm);
  const flow: Flow = readFlow(buf, CONNECT_EVENT_OFFSETS.flow);
  return {
    ts: buf.readBigUInt64LE(CONNECT_EVENT_OFFSETS.ts),
    pid: buf.readUInt32LE(CONNECT_EVENT_OFFSETS.pid),
    uid: buf.readUInt32LE(CONNECT_EVENT_OFFSETS.uid),
    comm: buf.toString('utf8', CONNECT_EVENT_OFFSETS.comm, nul < 0 || nul > commEnd ? commEnd : nul),
    ip: flow.ip,
    saddr: flow.laddr,
    lport: flow.lport,
    daddr: flow.raddr,
    dport: flow.rport,
  };
}

export interface ColumnOptions {
  /** -t: TIME(s), seconds since the first connect shown (as bcc counts them) */
  timestamp?: boolean;
  /** -U: UID */
  printUid?: boolean;
  /** -L: LPORT */
  lport?: boolean;
}

// bcc: "%-7s %-12s %-2s %-16s [%-6s] %-16s %-6s", after "%-9s" TIME(s) and "%-6s" UID.
function columns(o: ColumnOptions, time: string, uid: string, pid: string, comm: string, ip: string, saddr: string, lport: string, daddr: string, dport: string): string {
  let line = '';
  if (o.timestamp) line += time.padEnd(9);
  if (o.printUid) line += uid.padEnd(6);
  line += `${pid.padEnd(7)} ${comm.slice(0, 12).padEnd(12)} ${ip.padEnd(2)} ${saddr.padEnd(16)} `;
  if (o.lport) line += `${lport.padEnd(6)} `;
  return `${line}${daddr.padEnd(16)} ${dport.padEnd(6)}`;
}

export function headerLine(o: ColumnOptions): string {
  return columns(o, 'TIME(s)', 'UID', 'PID', 'COMM', 'IP', 'SADDR', 'LPORT', 'DADDR', 'DPORT');
}

/** One row; `seconds` is the TIME(s) value. */
export function rowLine(ev: ConnectEvent, o: ColumnOptions, seconds: string): string {
  return columns(o, seconds, String(ev.uid), String(ev.pid), ev.comm, String(ev.ip), ev.saddr, String(ev.lport), ev.daddr, String(ev.dport));
}

/**
 * --json: one object per connect, every column whatever the column options. Fields: time
 * (HH:MM:SS), timestamp (seconds, as TIME(s)), pid, comm, uid, ip, saddr, lport, daddr, dport.
 */
export function jsonLine(ev: ConnectEvent, clock: string, seconds: string): string {
  return JSON.stringify({
    time: clock, timestamp: Number(seconds), pid: ev.pid, comm: ev.comm, uid: ev.uid,
    ip: ev.ip, saddr: ev.saddr, lport: ev.lport, daddr: ev.daddr, dport: ev.dport,
  });
}

/** TIME(s) as bcc counts it: from the first connect shown, "%-9.3f". */
export class FirstEventClock {
  private first: bigint | null = null;
  seconds(ts: bigint): string {
    this.first ??= ts;
    return (Number(ts - this.first) / 1e9).toFixed(3);
  }
}

// --- -c: connects counted per source, destination and port ---

export interface CountRow {
  ip: 4 | 6;
  saddr: string;
  daddr: string;
  dport: number;
  connects: number;
}

/** The `counts` map read raw (keys are struct bpfkit_flow, values u64), as rows. */
export function countRows(keys: Buffer, values: Buffer, n: number, keySize: number, valueSize: number): CountRow[] {
  const rows: CountRow[] = [];
  for (let i = 0; i < n; i++) {
    const flow = readFlow(keys, i * keySize);
    rows.push({ ip: flow.ip, saddr: flow.laddr, daddr: flow.raddr, dport: flow.rport, connects: Number(values.readBigUInt64LE(i * valueSize)) });
  }
  return sortCounts(rows);
}

/** bcc's order: IPv4 rows, then IPv6, each by count, most first (ties in address order, so runs compare). */
export function sortCounts(rows: CountRow[]): CountRow[] {
  return [...rows].sort((a, b) => a.ip - b.ip || b.connects - a.connects || a.saddr.localeCompare(b.saddr) ||
    a.daddr.localeCompare(b.daddr) || a.dport - b.dport);
}

/** bcc: "%-25s %-25s %-20s %-10s". */
export const COUNT_HEADER = `${'LADDR'.padEnd(25)} ${'RADDR'.padEnd(25)} ${'RPORT'.padEnd(20)} ${'CONNECTS'.padEnd(10)}`;

export function countLine(row: CountRow): string {
  return `${row.saddr.padEnd(25)} ${row.daddr.padEnd(25)} ${String(row.dport).padEnd(20)} ${String(row.connects).padEnd(10)}`;
}

/** --json with -c: one object per row at the end. */
export function countJson(row: CountRow): string {
  return JSON.stringify(row);
}
