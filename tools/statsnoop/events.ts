// statsnoop's records and lines: decoding the one record statsnoop.bpf.c sends per call, and
// printing it in bcc's columns (bcc's tools/statsnoop.py) or as JSON. Pure functions, called once
// per call on the hot path.
import { statSyscall } from './syscalls.ts';

/**
 * Where each field of struct stat_event (statsnoop.bpf.c) starts, by its C name. The C struct is
 * the truth: test/kernel/statsnoop.test.ts compares these with the layout libbcc reports for it.
 */
export const STAT_EVENT_OFFSETS = {
  ts: 0, pid: 8, tid: 12, ret: 16, dirfd: 20, flags: 24, mode: 28, syscall: 32, path_len: 34, comm: 36, path: 52,
} as const;
/** comm[]: the kernel's TASK_COMM_LEN. */
export const COMM_LEN = 16;
/** path[]: PATH_MAX, the longest path the kernel takes, its NUL included. */
export const PATH_SIZE = 4096;
/** Bytes before path[]: a record is this header and path_len bytes of path. */
export const RECORD_HEADER_SIZE = STAT_EVENT_OFFSETS.path;

/** The kernel's AT_FDCWD: a path relative to the caller's working directory. */
export const AT_FDCWD = -100;
/** The kernel's AT_EMPTY_PATH: an empty path means the directory fd itself (glibc's fstat()). */
export const AT_EMPTY_PATH = 0x1000;

const O = STAT_EVENT_OFFSETS;

export interface StatEvent {
  /** bpf_ktime_get_ns() at the syscall's exit: CLOCK_MONOTONIC, the clock of process.hrtime.bigint(). */
  ts: bigint;
  pid: number;
  tid: number;
  /** The syscall's return value: 0, or -errno. */
  ret: number;
  /** The kernel's name of the call ("newfstatat"), or "[unknown: N]". */
  syscall: string;
  /** The directory fd of the *at() calls and statx (AT_FDCWD = -100), else null. */
  dirfd: number | null;
  /** AT_* flags where the call takes them, else null. */
  flags: number | null;
  /** The access calls' mode (F_OK 0, X_OK 1, W_OK 2, R_OK 4), else null. */
  mode: number | null;
  comm: string;
  /** The path as the caller passed it ("" when empty or unreadable). */
  path: string;
}

function cString(buf: Buffer, start: number, end: number): string {
  const nul = buf.indexOf(0, start);
  return buf.toString('utf8', start, nul < 0 || nul > end ? end : nul);
}

// A stat-heavy process sends its comm thousands of times a second: the bytes are compared with
// the last record's (a short JS loop) and its string reused, a native toString() call saved.
const lastComm = Buffer.alloc(COMM_LEN);
let lastCommText = '';

function commText(buf: Buffer): string {
  let same = true;
  for (let i = 0; i < COMM_LEN; i++) {
    const c = buf[O.comm + i];
    if (c !== lastComm[i]) { same = false; break; }
    if (c === 0) break;
  }
  if (same) return lastCommText;
  buf.copy(lastComm, 0, O.comm, O.comm + COMM_LEN);
  lastCommText = cString(buf, O.comm, O.comm + COMM_LEN);
  return lastCommText;
}

export function decodeStatRecord(buf: Buffer): StatEvent {
  const id = buf.readUInt16LE(O.syscall);
  const sc = statSyscall(id);
  const pathEnd = Math.min(buf.length, RECORD_HEADER_SIZE + buf.readUInt16LE(O.path_len));
  return {
    ts: buf.readBigUInt64LE(O.ts),
    pid: buf.readUInt32LE(O.pid),
    tid: buf.readUInt32LE(O.tid),
    ret: buf.readInt32LE(O.ret),
    syscall: sc?.name ?? `[unknown: ${id}]`,
    dirfd: sc?.dirfd ? buf.readInt32LE(O.dirfd) : null,
    flags: sc?.flags ? buf.readUInt32LE(O.flags) : null,
    mode: sc?.mode ? buf.readUInt32LE(O.mode) : null,
    comm: commText(buf),
    path: cString(buf, RECORD_HEADER_SIZE, pathEnd),
  };
}

export interface ColumnOptions {
  /** -T: TIME (HH:MM:SS) */
  time?: boolean;
  /** -t: TIME(s), seconds since the first call shown */
  timestamp?: boolean;
  /** -s: SYSCALL */
  sysname?: boolean;
}

/** bcc's header, column by column with its widths; RET is bcc's FD column under its true name. */
export function headerLine(o: ColumnOptions): string {
  let line = '';
  if (o.time) line += 'TIME'.padEnd(9);
  if (o.timestamp) line += 'TIME(s)'.padEnd(14);
  line += `${'PID'.padEnd(7)} ${'COMM'.padEnd(16)} ${'RET'.padStart(4)} ${'ERR'.padStart(3)}`;
  if (o.sysname) line += ` ${'SYSCALL'.padEnd(12)}`;
  return `${line} PATH`;
}

/**
 * The PATH column: the path as passed, newlines shown as \n so that a row stays one line. An
 * empty path with AT_EMPTY_PATH names the directory fd itself (glibc's fstat() is
 * newfstatat(fd, "", AT_EMPTY_PATH)): shown as <fd N>, or <cwd> for AT_FDCWD.
 */
export function pathText(ev: StatEvent): string {
  if (ev.path === '' && ev.flags !== null && (ev.flags & AT_EMPTY_PATH) !== 0 && ev.dirfd !== null) {
    return ev.dirfd === AT_FDCWD ? '<cwd>' : `<fd ${ev.dirfd}>`;
  }
  return ev.path.includes('\n') ? ev.path.replaceAll('\n', '\\n') : ev.path;
}

/** One row in bcc's layout: RET is the return value or -1, ERR the errno or 0, as bcc splits them. */
export function rowLine(ev: StatEvent, o: ColumnOptions, clock: string, seconds: string): string {
  let line = '';
  if (o.time) line += clock.padEnd(9);
  if (o.timestamp) line += seconds.padEnd(14);
  const ret = ev.ret >= 0 ? ev.ret : -1;
  const err = ev.ret >= 0 ? 0 : -ev.ret;
  line += `${String(ev.pid).padEnd(7)} ${ev.comm.padEnd(16)} ${String(ret).padStart(4)} ${String(err).padStart(3)}`;
  if (o.sysname) line += ` ${ev.syscall.padEnd(12)}`;
  return `${line} ${pathText(ev)}`;
}

/**
 * --json: one object per call, all fields whatever the column options. Field names are stable:
 * time, timestamp, pid, tid, comm, syscall, ret (0 or -errno, as the syscall returned it), err
 * (errno or 0), path (as passed), dirfd, flags, mode (null where the call has none).
 */
export function jsonLine(ev: StatEvent, clock: string, seconds: string): string {
  return JSON.stringify({
    time: clock,
    timestamp: Number(seconds),
    pid: ev.pid,
    tid: ev.tid,
    comm: ev.comm,
    syscall: ev.syscall,
    ret: ev.ret,
    err: ev.ret >= 0 ? 0 : -ev.ret,
    path: ev.path,
    dirfd: ev.dirfd,
    flags: ev.flags,
    mode: ev.mode,
  });
}
