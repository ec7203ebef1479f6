// biotop's report: the per-(process, direction, disk) sums one interval drained from the kernel,
// turned into rows, sorted as bcc sorts them, and printed as bcc's biotop prints them (or as JSON).
import { kernelDev } from '../../lib/block/disks.ts';
import { left, right } from '../../lib/output/format.ts';

/** `counts` key as tools/biotop/biotop.bpf.c declares it (decoded by the binding). */
export interface CountKey {
  pid: number;
  /** 1 for writes, 0 otherwise (bcc's rwflag). */
  rwflag: number;
  major: number;
  minor: number;
  comm: string;
}

export interface CountValue {
  bytes: bigint | number;
  /** Sum of issue → completion latencies, in nanoseconds. */
  ns: bigint | number;
  io: bigint | number;
}

export interface Row {
  pid: number;
  comm: string;
  /** bcc's D column. */
  direction: 'R' | 'W';
  major: number;
  minor: number;
  /** Name from the device number; "?" when the disk is unknown (as bcc). */
  disk: string;
  io: bigint;
  bytes: bigint;
  latencyNs: bigint;
}

export function toRow(key: CountKey, value: CountValue, diskName: (dev: number) => string): Row {
  return {
    pid: key.pid,
    comm: key.comm,
    direction: key.rwflag ? 'W' : 'R',
    major: key.major,
    minor: key.minor,
    disk: diskName(kernelDev(key.major, key.minor)),
    io: BigInt(value.io),
    bytes: BigInt(value.bytes),
    latencyNs: BigInt(value.ns),
  };
}

export function toRows(entries: Iterable<[CountKey, CountValue]>, diskName: (dev: number) => string): Row[] {
  const rows: Row[] = [];
  for (const [k, v] of entries) rows.push(toRow(k, v, diskName));
  return rows;
}

const cmp = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
const cmpText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * bcc's order: most bytes first. bcc leaves equal byte counts in hash order (they can swap places
 * from one interval to the next); ours breaks ties by more I/Os first, then PID, direction (R
 * before W), major, minor and comm ascending, so that the same data always prints the same way.
 * `maxrows` keeps only the first rows (-r).
 */
export function sortRows(rows: Row[], maxrows?: number): Row[] {
  const sorted = [...rows].sort((a, b) =>
    cmp(b.bytes, a.bytes) || cmp(b.io, a.io) || a.pid - b.pid || cmpText(a.direction, b.direction) ||
    a.major - b.major || a.minor - b.minor || cmpText(a.comm, b.comm));
  return maxrows === undefined ? sorted : sorted.slice(0, maxrows);
}

/** bcc's Kbytes: bytes / 1024, whole kilobytes (bcc's example output; Python 3 would print "4.0"). */
export function kbytes(bytes: bigint): bigint {
  return bytes / 1024n;
}

/**
 * The average latency in milliseconds with two decimals, as "%.2f" prints it: computed exactly
 * from the nanosecond sum, a tie rounded to even (as Python's formatting of an exact tie).
 */
export function avgMs(latencyNs: bigint, io: bigint): string {
  if (io === 0n) return '0.00';
  const divisor = io * 10_000n; // ns per hundredth of a millisecond, times the count
  let hundredths = latencyNs / divisor;
  const twice = 2n * (latencyNs % divisor);
  if (twice > divisor || (twice === divisor && hundredths % 2n === 1n)) hundredths++;
  const frac = String(hundredths % 100n).padStart(2, '0');
  return `${hundredths / 100n}.${frac}`;
}

/** bcc's column header, "%-7s %-16s %1s %-3s %-3s %-8s %5s %7s %6s". */
export const HEADER = `${left('PID', 7)} ${left('COMM', 16)} ${left('D', 1)} ${left('MAJ', 3)} ${left('MIN', 3)} ` +
  `${left('DISK', 8)} ${right('I/O', 5)} ${right('Kbytes', 7)} ${right('AVGms', 6)}`;

/** One row as "%-7d %-16s %1s %-3d %-3d %-8s %5s %7s %6.2f" prints it: nothing is cut. */
export function formatRow(r: Row): string {
  return `${left(r.pid, 7)} ${left(r.comm, 16)} ${r.direction} ${left(r.major, 3)} ${left(r.minor, 3)} ` +
    `${left(r.disk, 8)} ${right(r.io, 5)} ${right(kbytes(r.bytes), 7)} ${right(avgMs(r.latencyNs, r.io), 6)}`;
}

/** The header and the rows of one interval (an idle interval prints the header alone, as bcc). */
export function table(rows: Row[]): string[] {
  return [HEADER, ...rows.map(formatRow)];
}

/** One row as --json prints it (the fields are listed in tools/biotop/README.md). */
export function rowJson(r: Row): Record<string, number | string | bigint> {
  return {
    pid: r.pid, comm: r.comm, direction: r.direction, major: r.major, minor: r.minor, disk: r.disk,
    io: r.io, bytes: r.bytes, kbytes: kbytes(r.bytes), latency_ns: r.latencyNs,
    avg_ms: Number(avgMs(r.latencyNs, r.io)),
  };
}

/** Read and write totals across rows, for --chart. */
export function totals(rows: Row[]): { readBytes: bigint; writeBytes: bigint } {
  let readBytes = 0n;
  let writeBytes = 0n;
  for (const r of rows) {
    if (r.direction === 'W') writeBytes += r.bytes;
    else readBytes += r.bytes;
  }
  return { readBytes, writeBytes };
}
