// opensnoop's records and lines: decoding the one record opensnoop.bpf.c sends per open, and
// printing it in bcc's columns (bcc's tools/opensnoop.py) or as JSON. Pure functions, called once
// per open on the hot path, so they read the record's bytes directly and allocate little.
import { errnoName } from '../../lib/kernel/errno.ts';

/**
 * Where each field of struct open_event (opensnoop.bpf.c) starts, by its C name. The C struct is
 * the truth: test/kernel/opensnoop.test.ts compares these with the layout libbcc reports for it.
 */
export const OPEN_EVENT_OFFSETS = {
  ts: 0, pid: 8, tid: 12, uid: 16, ret: 20, flags: 24, mode: 28, dirfd: 32, syscall: 36, depth: 38,
  data_len: 40, status: 44, comm: 48, data: 64,
} as const;
export const COMM_LEN = 16;
/** Bytes before data[]: a record is this header and data_len bytes of data. */
export const RECORD_HEADER_SIZE = OPEN_EVENT_OFFSETS.data;

const O = OPEN_EVENT_OFFSETS;
/** SYS_* in opensnoop.bpf.c. */
export const SYSCALL_NAMES = ['open', 'openat', 'openat2'] as const;
/** Status bits (opensnoop.bpf.c). */
export const PATH_UNREADABLE = 1;
export const BASE_CUT = 2;
export const BASE_UNKNOWN = 4;
export const AT_FDCWD = -100;

export interface OpenEvent {
  /** bpf_ktime_get_ns() at the exit: CLOCK_MONOTONIC. */
  ts: bigint;
  pid: number;
  tid: number;
  uid: number;
  /** The fd, or the negative errno. */
  ret: number;
  flags: number;
  mode: number;
  /** The directory fd of openat()/openat2(); AT_FDCWD (-100) for open(). */
  dirfd: number;
  syscall: typeof SYSCALL_NAMES[number];
  comm: string;
  /** The path as the caller passed it. */
  path: string;
  /** -F, for a relative path: the names of its base directory, outermost first (empty otherwise). */
  base: string[];
  status: number;
}

function cString(buf: Buffer, start: number, end: number): string {
  const nul = buf.indexOf(0, start);
  return buf.toString('utf8', start, nul < 0 || nul > end ? end : nul);
}

export function decodeOpenRecord(buf: Buffer): OpenEvent {
  const end = Math.min(buf.length, RECORD_HEADER_SIZE + buf.readUInt32LE(O.data_len));
  let nul = buf.indexOf(0, RECORD_HEADER_SIZE);
  if (nul < 0 || nul > end) nul = end;
  const path = buf.toString('utf8', RECORD_HEADER_SIZE, nul);
  const depth = buf.readUInt16LE(O.depth);
  const base: string[] = [];
  let at = nul + 1;
  for (let i = 0; i < depth && at < end; i++) {
    let next = buf.indexOf(0, at);
    if (next < 0 || next > end) next = end;
    base.push(buf.toString('utf8', at, next));
    at = next + 1;
  }
  base.reverse();
  return {
    ts: buf.readBigUInt64LE(O.ts),
    pid: buf.readUInt32LE(O.pid),
    tid: buf.readUInt32LE(O.tid),
    uid: buf.readUInt32LE(O.uid),
    ret: buf.readInt32LE(O.ret),
    flags: buf.readUInt32LE(O.flags),
    mode: buf.readUInt32LE(O.mode),
    dirfd: buf.readInt32LE(O.dirfd),
    syscall: SYSCALL_NAMES[buf.readUInt16LE(O.syscall)] ?? 'openat',
    comm: cString(buf, O.comm, O.comm + COMM_LEN),
    path,
    base,
    status: buf.readUInt32LE(O.status),
  };
}

/**
 * The PATH column with -F: a relative path joined to its base directory (the cwd, or the
 * directory of openat's fd), as given otherwise. Kept as the caller wrote it ("./x", "../y"):
 * the kernel resolves those, and so can the reader.
 */
export function fullPath(ev: OpenEvent): string {
  if (ev.path.startsWith('/') || ev.status & (PATH_UNREADABLE | BASE_UNKNOWN)) return ev.path;
  const dir = `/${ev.base.join('/')}`;
  const joined = dir === '/' ? `/${ev.path}` : `${dir}/${ev.path}`;
  return ev.status & BASE_CUT ? `...${joined}` : joined;
}

export interface ColumnOptions {
  /** -T: TIME(s), seconds since the first event */
  timestamp?: boolean;
  /** -U: UID */
  printUid?: boolean;
  /** -t: the first column is the TID */
  tid?: boolean;
  /** -e: FLAGS (octal) */
  extended?: boolean;
  /** -F: full paths */
  fullPath?: boolean;
}

/** bcc's header, column by column with its widths. */
export function headerLine(o: ColumnOptions): string {
  let line = '';
  if (o.timestamp) line += 'TIME(s)'.padEnd(14);
  if (o.printUid) line += 'UID'.padEnd(6);
  line += `${(o.tid ? 'TID' : 'PID').padEnd(6)} ${'COMM'.padEnd(16)} ${'FD'.padStart(4)} ${'ERR'.padStart(3)} `;
  if (o.extended) line += 'FLAGS'.padEnd(9);
  return `${line}PATH`;
}

/** The path as printed: -F applied, newlines escaped so that one open stays one line. */
export function pathText(ev: OpenEvent, full: boolean | undefined): string {
  const text = full ? fullPath(ev) : ev.path;
  return text.includes('\n') ? text.replaceAll('\n', '\\n') : text;
}

/** One row in bcc's layout; `seconds` is the TIME(s) value ("%-14.9f"). */
export function rowLine(ev: OpenEvent, o: ColumnOptions, seconds: string): string {
  let line = '';
  if (o.timestamp) line += seconds.padEnd(14);
  if (o.printUid) line += String(ev.uid).padEnd(6);
  const fd = ev.ret >= 0 ? ev.ret : -1;
  const err = ev.ret >= 0 ? 0 : -ev.ret;
  line += `${String(o.tid ? ev.tid : ev.pid).padEnd(6)} ${ev.comm.padEnd(16)} ${String(fd).padStart(4)} ${String(err).padStart(3)} `;
  if (o.extended) line += `${ev.flags.toString(8).padStart(8, '0')} `;
  return `${line}${pathText(ev, o.fullPath)}`;
}

/** Seconds since the first event, bcc's "%-14.9f" (its timestamps are µs; ours ns). */
export function secondsSince(ts: bigint, first: bigint): string {
  const ns = ts - first;
  return `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
}

/**
 * --json: one object per open, the same values as the text columns (all of them, whatever the
 * column options). Field names are stable: timestamp, pid, tid, uid, comm, fd, err, errno,
 * flags, mode, syscall, dirfd, path (full with -F), path_as_given.
 */
export function jsonLine(ev: OpenEvent, seconds: string, full: boolean | undefined): string {
  const err = ev.ret >= 0 ? 0 : -ev.ret;
  return JSON.stringify({
    timestamp: Number(seconds),
    pid: ev.pid,
    tid: ev.tid,
    uid: ev.uid,
    comm: ev.comm,
    fd: ev.ret >= 0 ? ev.ret : -1,
    err,
    errno: err ? errnoName(err) ?? String(err) : null,
    flags: ev.flags,
    mode: ev.mode,
    syscall: ev.syscall,
    dirfd: ev.dirfd,
    path: full ? fullPath(ev) : ev.path,
    path_as_given: ev.path,
  });
}
