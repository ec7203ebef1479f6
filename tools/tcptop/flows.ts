// tcptop's report: the per-process, per-connection byte counts one interval drained from the
// kernel, turned into rows, sorted, and printed as bcc's tcptop prints them (or as JSON).
import { AF_INET, AF_INET6, formatAddress } from '../../lib/output/inet.ts';

/** `flows` key as tools/tcptop/tcptop.bpf.c declares it (decoded by the binding). */
export interface FlowKey {
  pid: number;
  addrs: { family: number; lport: number; dport: number; saddr: number[]; daddr: number[] };
}

export interface FlowValue {
  rx_bytes: bigint | number;
  tx_bytes: bigint | number;
  comm: string;
}

export interface FlowRow {
  pid: number;
  comm: string;
  /** 4 or 6. */
  family: 4 | 6;
  laddr: string;
  lport: number;
  raddr: string;
  rport: number;
  rxBytes: number;
  txBytes: number;
}

export type SortField = 'rx' | 'tx' | 'total';
export const SORT_FIELDS: readonly SortField[] = ['rx', 'tx', 'total'];

export function flowRow(key: FlowKey, value: FlowValue): FlowRow {
  const a = key.addrs;
  return {
    pid: key.pid,
    comm: value.comm,
    family: a.family === AF_INET6 ? 6 : 4,
    laddr: formatAddress(a.family, a.saddr),
    lport: a.lport,
    raddr: formatAddress(a.family, a.daddr),
    rport: a.dport,
    rxBytes: Number(value.rx_bytes),
    txBytes: Number(value.tx_bytes),
  };
}

export function flowRows(entries: Iterable<[FlowKey, FlowValue]>): FlowRow[] {
  const rows: FlowRow[] = [];
  for (const [key, value] of entries) {
    if (key.addrs.family === AF_INET || key.addrs.family === AF_INET6) rows.push(flowRow(key, value));
  }
  return rows;
}

function sortValue(row: FlowRow, field: SortField): number {
  return field === 'rx' ? row.rxBytes : field === 'tx' ? row.txBytes : row.rxBytes + row.txBytes;
}

/**
 * Busiest first by `field` (bcc: total), ties in a fixed order so that equal rows do not swap
 * places between intervals; `top` keeps only the first N across both families.
 */
export function sortRows(rows: FlowRow[], field: SortField = 'total', top?: number): FlowRow[] {
  const sorted = [...rows].sort((a, b) =>
    sortValue(b, field) - sortValue(a, field) || a.pid - b.pid || a.lport - b.lport || a.rport - b.rport ||
    a.laddr.localeCompare(b.laddr) || a.raddr.localeCompare(b.raddr));
  return top === undefined ? sorted : sorted.slice(0, top);
}

/** bcc's KB: bytes / 1024 rounded down. */
export function kb(bytes: number): number {
  return Math.floor(bytes / 1024);
}

const V4 = { addr: 21, laddr: 'LADDR', raddr: 'RADDR' };
const V6 = { addr: 32, laddr: 'LADDR6', raddr: 'RADDR6' };

function header(cols: typeof V4): string {
  return `${'PID'.padEnd(7)} ${'COMM'.padEnd(12)} ${cols.laddr.padEnd(cols.addr)} ${cols.raddr.padEnd(cols.addr)} ${'RX_KB'.padStart(6)} ${'TX_KB'.padStart(6)}`;
}

function line(row: FlowRow, cols: typeof V4): string {
  // "%-7d %-12.12s %-21s %-21s %6d %6d": the command is cut at 12 characters, nothing else is.
  return `${String(row.pid).padEnd(7)} ${row.comm.slice(0, 12).padEnd(12)} ` +
    `${`${row.laddr}:${row.lport}`.padEnd(cols.addr)} ${`${row.raddr}:${row.rport}`.padEnd(cols.addr)} ` +
    `${String(kb(row.rxBytes)).padStart(6)} ${String(kb(row.txBytes)).padStart(6)}`;
}

/**
 * bcc's tables: the IPv4 table when there are IPv4 rows, then an empty line and the wider IPv6
 * table when there are IPv6 rows. An interval with no rows at all prints the header of the
 * family traced (IPv6 with -6), so an idle interval shows an empty table (bcc prints nothing,
 * which looks like a hang; libbpf-tools prints the header too).
 */
export function flowTables(rows: FlowRow[], emptyFamily: 4 | 6 = 4): string[] {
  const v4 = rows.filter((r) => r.family === 4);
  const v6 = rows.filter((r) => r.family === 6);
  if (v4.length === 0 && v6.length === 0) return [header(emptyFamily === 6 ? V6 : V4)];
  const out: string[] = [];
  if (v4.length) out.push(header(V4), ...v4.map((r) => line(r, V4)));
  if (v6.length) out.push('', header(V6), ...v6.map((r) => line(r, V6)));
  return out;
}

/** One row as --json prints it (the fields are listed in tools/tcptop/README.md). */
export function flowJson(row: FlowRow): Record<string, number | string> {
  return {
    pid: row.pid, comm: row.comm, family: row.family,
    laddr: row.laddr, lport: row.lport, raddr: row.raddr, rport: row.rport,
    rx_bytes: row.rxBytes, tx_bytes: row.txBytes, rx_kb: kb(row.rxBytes), tx_kb: kb(row.txBytes),
  };
}

/** Totals across rows, for --chart and the JSON summary. */
export function totals(rows: FlowRow[]): { rxBytes: number; txBytes: number } {
  let rxBytes = 0;
  let txBytes = 0;
  for (const r of rows) { rxBytes += r.rxBytes; txBytes += r.txBytes; }
  return { rxBytes, txBytes };
}
