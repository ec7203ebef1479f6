// fileslower's records and lines: decoding the record fileslower.bpf.c sends per slow call, and
// printing it in bcc's columns (bcc's tools/fileslower.py) or as JSON. Pure functions.
import { SYSCALLS, VFS_FUNCTIONS } from './program.ts';

/**
 * Where each field of struct slow_io (fileslower.bpf.c) starts, by its C name. The C struct is the
 * truth: test/kernel/fileslower.test.ts compares these with the layout libbcc reports for it.
 */
export const SLOW_IO_OFFSETS = {
  ts: 0, delta_ns: 8, bytes: 16, pid: 24, tid: 28, fd: 32, name_len: 36, syscall: 40, mode: 42, pad: 44, comm: 48, name: 64,
} as const;
export const COMM_LEN = 16;
export const NAME_SIZE = 256;
export const RECORD_SIZE = SLOW_IO_OFFSETS.name + NAME_SIZE;

const O = SLOW_IO_OFFSETS;
/** SYS_* in fileslower.bpf.c: the syscalls, then the kprobe rung's kernel functions. */
export const CALL_NAMES: readonly string[] = [...SYSCALLS, ...VFS_FUNCTIONS];

export interface SlowIo {
  /** bpf_ktime_get_ns() at the exit: CLOCK_MONOTONIC. */
  ts: bigint;
  latencyNs: bigint;
  /** The call's return value: bytes read or written (failed calls are not reported). */
  bytes: number;
  pid: number;
  tid: number;
  /** -1 on the kprobe rung, which sees the file and not the fd. */
  fd: number;
  /** 'R' or 'W'. */
  direction: 'R' | 'W';
  /** "read", "pwrite64", … ("vfs_read" on the kprobe rung). */
  call: string;
  /** inode.i_mode: the file type and permissions. */
  mode: number;
  comm: string;
  /** The dentry's name (the last component of the path). */
  name: string;
  /** The whole name's length in bytes (d_name.len). */
  nameLen: number;
}

function cString(buf: Buffer, start: number, end: number): string {
  const nul = buf.indexOf(0, start);
  return buf.toString('utf8', start, nul < 0 || nul > end ? end : nul);
}

export function decodeSlowIo(buf: Buffer): SlowIo {
  const call = buf.readUInt16LE(O.syscall);
  return {
    ts: buf.readBigUInt64LE(O.ts),
    latencyNs: buf.readBigUInt64LE(O.delta_ns),
    bytes: Number(buf.readBigInt64LE(O.bytes)),
    pid: buf.readUInt32LE(O.pid),
    tid: buf.readUInt32LE(O.tid),
    fd: buf.readInt32LE(O.fd),
    direction: call & 1 ? 'W' : 'R',
    call: CALL_NAMES[call] ?? String(call),
    mode: buf.readUInt16LE(O.mode),
    comm: cString(buf, O.comm, O.comm + COMM_LEN),
    name: cString(buf, O.name, Math.min(buf.length, O.name + NAME_SIZE)),
    nameLen: buf.readUInt32LE(O.name_len),
  };
}

/** bcc's first line. */
export function tracingLine(minMs: number): string {
  return `Tracing sync read/writes slower than ${minMs} ms`;
}

/** bcc's header: "%-8s %-14s %-6s %1s %-7s %7s %s". bcc prints the thread id, as TID. */
export const HEADER = `${'TIME(s)'.padEnd(8)} ${'COMM'.padEnd(14)} ${'TID'.padEnd(6)} D ${'BYTES'.padEnd(7)} ${'LAT(ms)'.padStart(7)} FILENAME`;

/** The name as printed: newlines escaped, so that one call stays one line. */
function nameText(name: string): string {
  return name.includes('\n') ? name.replaceAll('\n', '\\n') : name;
}

/** Milliseconds with two decimals, from nanoseconds (bcc's "%7.2f" of microseconds / 1000). */
export function milliseconds(ns: bigint): string {
  return (Number(ns) / 1e6).toFixed(2);
}

/** One row in bcc's layout, "%-8.3f %-14.14s %-6s %1s %-7s %7.2f %s"; `seconds` is TIME(s). */
export function rowLine(ev: SlowIo, seconds: string): string {
  return `${seconds.padEnd(8)} ${ev.comm.slice(0, 14).padEnd(14)} ${String(ev.tid).padEnd(6)} ${ev.direction} `
    + `${String(ev.bytes).padEnd(7)} ${milliseconds(ev.latencyNs).padStart(7)} ${nameText(ev.name)}`;
}

const FILE_TYPES: Record<number, string> = {
  0o010000: 'fifo', 0o020000: 'char', 0o040000: 'directory', 0o060000: 'block', 0o100000: 'regular', 0o120000: 'symlink', 0o140000: 'socket',
};

/** The file type from i_mode: "regular", "socket", "fifo", "char", … */
export function fileType(mode: number): string {
  return FILE_TYPES[mode & 0o170000] ?? 'unknown';
}

/**
 * --json: one object per slow call. Field names are stable: timestamp (seconds since tracing
 * began), pid, tid, comm, direction, call, fd, bytes, latency_ns, file, file_type.
 */
export function jsonLine(ev: SlowIo, seconds: string): string {
  return JSON.stringify({
    timestamp: Number(seconds),
    pid: ev.pid,
    tid: ev.tid,
    comm: ev.comm,
    direction: ev.direction,
    call: ev.call,
    fd: ev.fd,
    bytes: ev.bytes,
    latency_ns: Number(ev.latencyNs),
    file: ev.name,
    file_type: fileType(ev.mode),
  });
}
