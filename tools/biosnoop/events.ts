// biosnoop's records and lines: decoding the one record biosnoop.bpf.c sends per completed
// request, and printing it in bcc's columns (bcc's tools/biosnoop.py) or as JSON. Pure functions,
// called once per I/O on the hot path.
import { bccRwFlag, ioDirection } from '../../lib/block/flags.ts';
import { majorOf, minorOf } from '../../lib/block/disks.ts';

/**
 * Where each field of struct io_event (biosnoop.bpf.c) starts, by its C name. The C struct is
 * the truth: test/kernel/biosnoop.test.ts compares these with the layout libbcc reports for it.
 */
export const IO_EVENT_OFFSETS = {
  ts: 0, lat_ns: 8, que_ns: 16, sector: 24, bytes: 32, dev: 36, pid: 40, tid: 44, cmd_flags: 48, error: 52,
  rwbs: 56, comm: 64, pattern: 80, flags: 81,
} as const;
export const IO_EVENT_SIZE = 88;
const O = IO_EVENT_OFFSETS;

/** PATTERN_* in biosnoop.bpf.c: bcc's enum bio_pattern. */
export const PATTERNS = ['unknown', 'sequential', 'random'] as const;
export type Pattern = typeof PATTERNS[number];
/** flags: the request's creation was seen (created_ns set), so the queued time is known. */
export const CREATION_SEEN = 1;
/** flags: the probes passed cmd_flags (raw tracepoints, kprobes); else rwbs (classic tracepoints). */
export const HAS_CMD_FLAGS = 2;

export interface IoEvent {
  /** bpf_ktime_get_ns() at completion: CLOCK_MONOTONIC. */
  ts: bigint;
  /** Issue to completion. */
  latNs: bigint;
  /** Creation (queued in the OS) to issue; null when the creation was not seen (it began before tracing, or the kernel has no creation probe for it). */
  queNs: bigint | null;
  sector: bigint;
  bytes: number;
  /** The kernel's dev_t: major << 20 | minor. */
  dev: number;
  /** The process that created the request (where no creation was seen: the task current at issue). */
  pid: number;
  tid: number;
  /** rq->cmd_flags where the probes pass the request, else null. */
  cmdFlags: number | null;
  /** The classic tracepoints' rwbs ("WS", "R", "FWS"), else null. */
  rwbs: string | null;
  comm: string;
  /** The completion reported an error (a block status other than BLK_STS_OK). */
  failed: boolean;
  /** -P: against the end of the disk's previous request; 'unknown' for a disk's first. */
  pattern: Pattern;
}

function cString(buf: Buffer, start: number, len: number): string {
  const nul = buf.indexOf(0, start);
  return buf.toString('latin1', start, nul < 0 || nul > start + len ? start + len : nul);
}

export function decodeIoRecord(buf: Buffer): IoEvent {
  const flags = buf[O.flags];
  const created = (flags & CREATION_SEEN) !== 0;
  const hasCmdFlags = (flags & HAS_CMD_FLAGS) !== 0;
  return {
    ts: buf.readBigUInt64LE(O.ts),
    latNs: buf.readBigUInt64LE(O.lat_ns),
    queNs: created ? buf.readBigUInt64LE(O.que_ns) : null,
    sector: buf.readBigUInt64LE(O.sector),
    bytes: buf.readUInt32LE(O.bytes),
    dev: buf.readUInt32LE(O.dev),
    pid: buf.readUInt32LE(O.pid),
    tid: buf.readUInt32LE(O.tid),
    cmdFlags: hasCmdFlags ? buf.readUInt32LE(O.cmd_flags) : null,
    rwbs: hasCmdFlags ? null : cString(buf, O.rwbs, 8),
    // The comm is the kernel's bytes: UTF-8 in practice, but a name cut at 15 bytes may end inside
    // a character, which Python's 'replace' (bcc) and ours both show as U+FFFD.
    comm: utf8(buf, O.comm, 16),
    failed: buf.readInt32LE(O.error) !== 0,
    pattern: PATTERNS[buf[O.pattern]] ?? 'unknown',
  };
}

function utf8(buf: Buffer, start: number, len: number): string {
  const nul = buf.indexOf(0, start);
  return buf.toString('utf8', start, nul < 0 || nul > start + len ? start + len : nul);
}

/** bcc's T column: 'W' for a write, 'R' for everything else (reads, flushes, discards). */
export function rwFlag(ev: IoEvent): 'R' | 'W' {
  return bccRwFlag(ev.cmdFlags ?? 0, ev.rwbs ?? '');
}

export interface ColumnOptions {
  /** -Q: QUE(ms) */
  queue?: boolean;
  /** -P: the pattern column */
  pattern?: boolean;
  /** -t: TIMESTAMP (wall clock) instead of TIME(s) */
  timestamp?: boolean;
}

/** bcc's header, column by column with its widths ("%-11s %-14s %-7s %-9s %-1s %-10s %-7s"…). */
export function headerLine(o: ColumnOptions): string {
  let line = o.timestamp ? `${'TIMESTAMP'.padEnd(12)} ` : `${'TIME(s)'.padEnd(11)} `;
  line += `${'COMM'.padEnd(14)} ${'PID'.padEnd(7)} ${'DISK'.padEnd(9)} T ${'SECTOR'.padEnd(10)} ${'BYTES'.padEnd(7)}`;
  if (o.pattern) line += 'P ';
  if (o.queue) line += 'QUE(ms) ';
  return `${line}LAT(ms)`;
}

/** Python's "%-N.Ms": cut to M characters (code points), then padded to N. */
function cut(text: string, width: number): string {
  const chars = [...text];
  return (chars.length > width ? chars.slice(0, width).join('') : text).padEnd(width);
}

const PATTERN_LETTERS: Record<Pattern, string> = { unknown: '?', sequential: 'S', random: 'R' };

/**
 * One row in bcc's layout. `time` is the first column's text: TIME(s) (secondsSince) or, with -t,
 * the wall clock (wallClockMs). `disk` is the disk's name.
 */
export function rowLine(ev: IoEvent, o: ColumnOptions, time: string, disk: string): string {
  let line = o.timestamp ? `${time.padEnd(12)} ` : `${time.padEnd(11)} `;
  line += `${cut(ev.comm, 14)} ${String(ev.pid).padEnd(7)} ${disk.padEnd(9)} ${rwFlag(ev)} ${String(ev.sector).padEnd(10)} ${String(ev.bytes).padEnd(7)}`;
  if (o.pattern) line += `${PATTERN_LETTERS[ev.pattern]} `;
  if (o.queue) line += `${msText(ev.queNs ?? 0n).padStart(7)} `;
  return `${line}${msText(ev.latNs).padStart(7)}`;
}

/**
 * TIME(s) as bcc computes it: both timestamps cut to whole microseconds (its record carries µs),
 * their difference printed "%.6f" — exact, the difference being whole microseconds.
 */
export function secondsSince(ts: bigint, first: bigint): string {
  const us = ts / 1000n - first / 1000n;
  const sign = us < 0n ? '-' : '';
  const abs = us < 0n ? -us : us;
  return `${sign}${abs / 1_000_000n}.${String(abs % 1_000_000n).padStart(6, '0')}`;
}

/** -t: "HH:MM:SS.mmm" in local time, as libbpf-tools' biosnoop prints it. */
export function wallClockMs(date: Date): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/**
 * "%.2f" of ns / 1e6, as Python prints it: the double's exact value rounded, an exact tie to even.
 * toFixed() breaks ties upwards; ties are the latencies whose ns are an odd multiple of 125,000
 * (0.125 ms, 0.375 ms, …: eighths, exact in binary).
 */
export function msText(ns: bigint): string {
  if (ns % 250_000n === 125_000n) {
    let hundredths = ns / 10_000n;
    if (hundredths % 2n === 1n) hundredths += 1n;
    return `${hundredths / 100n}.${String(hundredths % 100n).padStart(2, '0')}`;
  }
  return (Number(ns) / 1e6).toFixed(2);
}

/**
 * --json: one object per completed request, every value exact whatever the column options.
 * Fields (README.md, "JSON output"): timestamp (seconds since the first I/O, to the ns), time
 * (the completion's wall clock, HH:MM:SS.mmm), comm, pid, tid, disk, major, minor, rw, op,
 * rwbs, cmd_flags, sector, bytes, lat_ns, que_ns, failed, and with -P pattern.
 */
export function jsonLine(ev: IoEvent, first: bigint, time: string, disk: string, withPattern: boolean): string {
  return JSON.stringify({
    timestamp: Number(ev.ts - first) / 1e9,
    time,
    comm: ev.comm,
    pid: ev.pid,
    tid: ev.tid,
    disk,
    major: majorOf(ev.dev),
    minor: minorOf(ev.dev),
    rw: rwFlag(ev),
    op: ioDirection(ev.cmdFlags ?? 0, ev.rwbs ?? ''),
    rwbs: ev.rwbs,
    cmd_flags: ev.cmdFlags,
    sector: Number(ev.sector),
    bytes: ev.bytes,
    lat_ns: Number(ev.latNs),
    que_ns: ev.queNs === null ? null : Number(ev.queNs),
    failed: ev.failed,
    ...(withPattern ? { pattern: ev.pattern === 'unknown' ? null : ev.pattern } : {}),
  });
}
