// mountsnoop's records and lines: decoding the one record mountsnoop.bpf.c sends per call, the
// call written out as C (bcc's CALL column), bcc's columns, and --json.
import { errnoName } from '../../lib/kernel/errno.ts';
import {
  MOUNT_CALLS, atFlags, cString, dirFd, fsconfigCommand, fsmountFlags, fsopenFlags, fspickFlags, mountAttrFlags, mountFlags,
  moveMountFlags, openTreeFlags, propagation, umountFlags, type MountCall,
} from './calls.ts';

/**
 * Where each field of struct mount_event (mountsnoop.bpf.c) starts, by its C name. The C struct
 * is the truth: test/kernel/mountsnoop.test.ts compares these with the layout libbcc reports.
 */
export const MOUNT_EVENT_OFFSETS = {
  ts: 0, ret: 8, args: 16, attr: 64, pid: 96, tid: 100, ppid: 104, mnt_ns: 108, call: 112, data_len: 116,
  str_mask: 120, null_mask: 121, cut_mask: 122, fault_mask: 123, attr_len: 124, comm: 128, pcomm: 144, data: 160,
} as const;
export const COMM_LEN = 16;
/** Bytes before data[]: a record is this header and data_len bytes of strings. */
export const RECORD_HEADER_SIZE = MOUNT_EVENT_OFFSETS.data;
/** The longest string a record carries whole (PATH_MAX, with its NUL). */
export const STR_MAX = 4096;
const MOUNT_ATTR_SIZE = 32;

/** A string argument: its bytes, or why there are none. */
export interface StringArg {
  bytes: Buffer;
  /** The pointer was NULL. */
  isNull: boolean;
  /** Longer than STR_MAX bytes: only the first are here. */
  cut: boolean;
  /** The memory could not be read; `pointer` says where it was. */
  unreadable: boolean;
  pointer: bigint;
}

/** struct mount_attr, as mount_setattr(2) and open_tree_attr(2) take it. */
export interface MountAttr {
  attrSet: bigint;
  attrClr: bigint;
  propagation: bigint;
  usernsFd: bigint;
}

export interface MountEvent {
  /** bpf_ktime_get_ns() at the call's return. */
  ts: bigint;
  pid: number;
  tid: number;
  ppid: number;
  /** The caller's mount namespace, as the inode number of /proc/PID/ns/mnt. */
  mntNs: number;
  comm: string;
  pcomm: string;
  call: MountCall;
  /** The return value: 0, a file descriptor, or -errno. */
  ret: number;
  /** The six arguments as passed (numbers, flags and pointers). */
  args: bigint[];
  /** The string arguments by argument index. */
  strings: Map<number, StringArg>;
  /** mount_setattr / open_tree_attr: the attributes, or null when not read (NULL, short or unreadable). */
  attr: MountAttr | null;
}

function commText(buf: Buffer, start: number): string {
  const nul = buf.indexOf(0, start);
  return buf.toString('utf8', start, nul < 0 || nul > start + COMM_LEN ? start + COMM_LEN : nul);
}

export function decodeMountRecord(buf: Buffer): MountEvent {
  const o = MOUNT_EVENT_OFFSETS;
  const args = Array.from({ length: 6 }, (_, i) => buf.readBigUInt64LE(o.args + 8 * i));
  const strMask = buf[o.str_mask];
  const end = Math.min(buf.length, RECORD_HEADER_SIZE + buf.readUInt32LE(o.data_len));
  const strings = new Map<number, StringArg>();
  let at = RECORD_HEADER_SIZE;
  for (let i = 0; i < 6; i++) {
    if (!(strMask & (1 << i))) continue;
    let nul = buf.indexOf(0, at);
    if (nul < 0 || nul > end) nul = end;
    strings.set(i, {
      bytes: buf.subarray(at, nul),
      isNull: (buf[o.null_mask] & (1 << i)) !== 0,
      cut: (buf[o.cut_mask] & (1 << i)) !== 0,
      unreadable: (buf[o.fault_mask] & (1 << i)) !== 0,
      pointer: args[i],
    });
    at = nul + 1;
  }
  const attr = buf.readUInt32LE(o.attr_len) >= MOUNT_ATTR_SIZE ? {
    attrSet: buf.readBigUInt64LE(o.attr), attrClr: buf.readBigUInt64LE(o.attr + 8),
    propagation: buf.readBigUInt64LE(o.attr + 16), usernsFd: buf.readBigUInt64LE(o.attr + 24),
  } : null;
  const call = MOUNT_CALLS[buf.readUInt32LE(o.call)];
  if (call === undefined) throw new Error(`record of unknown call ${buf.readUInt32LE(o.call)}`);
  return {
    ts: buf.readBigUInt64LE(o.ts),
    pid: buf.readUInt32LE(o.pid),
    tid: buf.readUInt32LE(o.tid),
    ppid: buf.readUInt32LE(o.ppid),
    mntNs: buf.readUInt32LE(o.mnt_ns),
    comm: commText(buf, o.comm),
    pcomm: commText(buf, o.pcomm),
    call,
    // The syscalls return an int: a long's upper half only repeats the sign.
    ret: Number(BigInt.asIntN(32, buf.readBigInt64LE(o.ret))),
    args,
    strings,
    attr,
  };
}

/** An int argument (a file descriptor, fsconfig's aux): the register's low 32 bits, signed. */
const int = (v: bigint) => Number(BigInt.asIntN(32, v));
/** An unsigned int argument (flags). */
const uint = (v: bigint) => Number(BigInt.asUintN(32, v));
const pointer = (v: bigint) => (v === 0n ? 'NULL' : `0x${v.toString(16)}`);

/** A string argument in the CALL column: NULL prints as "" as in bcc; unreadable memory as its address. */
function str(ev: MountEvent, i: number): string {
  const s = ev.strings.get(i);
  if (!s) return ev.args[i] === 0n ? '""' : pointer(ev.args[i]);
  if (s.unreadable) return pointer(s.pointer);
  return s.cut ? `${cString(s.bytes)}...` : cString(s.bytes);
}

function attrText(ev: MountEvent): string {
  const a = ev.attr;
  if (!a) return pointer(ev.args[3]);
  return `{attr_set=${mountAttrFlags(Number(BigInt.asUintN(32, a.attrSet)))}, attr_clr=${mountAttrFlags(Number(BigInt.asUintN(32, a.attrClr)))}, `
    + `propagation=${propagation(Number(BigInt.asUintN(32, a.propagation)))}, userns_fd=${a.usernsFd}}`;
}

/** The return value as bcc shows it: a number, or -ENAME for an error. */
export function retText(ret: number): string {
  if (ret >= 0) return String(ret);
  const name = errnoName(-ret);
  return name ? `-${name}` : String(ret);
}

/** The call as C, with its return value: bcc's CALL column. */
export function callText(ev: MountEvent): string {
  const a = ev.args;
  let call: string;
  switch (ev.call) {
    case 'mount': call = `mount(${str(ev, 0)}, ${str(ev, 1)}, ${str(ev, 2)}, ${mountFlags(a[3])}, ${str(ev, 4)})`; break;
    case 'umount': call = `umount(${str(ev, 0)}, ${umountFlags(uint(a[1]))})`; break;
    case 'fsopen': call = `fsopen(${str(ev, 0)}, ${fsopenFlags(uint(a[1]))})`; break;
    case 'fsconfig': call = `fsconfig(${int(a[0])}, ${fsconfigCommand(uint(a[1]))}, ${str(ev, 2)}, ${str(ev, 3)}, ${int(a[4])})`; break;
    case 'fsmount': call = `fsmount(${int(a[0])}, ${fsmountFlags(uint(a[1]))}, ${mountAttrFlags(uint(a[2]))})`; break;
    case 'move_mount':
      call = `move_mount(${dirFd(int(a[0]))}, ${str(ev, 1)}, ${dirFd(int(a[2]))}, ${str(ev, 3)}, ${moveMountFlags(uint(a[4]))})`;
      break;
    case 'fspick': call = `fspick(${dirFd(int(a[0]))}, ${str(ev, 1)}, ${fspickFlags(uint(a[2]))})`; break;
    case 'open_tree': call = `open_tree(${dirFd(int(a[0]))}, ${str(ev, 1)}, ${openTreeFlags(uint(a[2]))})`; break;
    case 'mount_setattr':
      call = `mount_setattr(${dirFd(int(a[0]))}, ${str(ev, 1)}, ${atFlags(uint(a[2]))}, ${attrText(ev)}, ${a[4]})`;
      break;
    case 'open_tree_attr':
      call = `open_tree_attr(${dirFd(int(a[0]))}, ${str(ev, 1)}, ${openTreeFlags(uint(a[2]))}, ${attrText(ev)}, ${a[4]})`;
      break;
  }
  return `${call} = ${retText(ev.ret)}`;
}

/** bcc's header; -P adds the parent's columns. */
export function headerLine(parent: boolean): string {
  return parent
    ? `${'COMM'.padEnd(16)} ${'PID'.padEnd(7)} ${'TID'.padEnd(7)} ${'PCOMM'.padEnd(16)} ${'PPID'.padEnd(7)} ${'MNT_NS'.padEnd(11)} CALL`
    : `${'COMM'.padEnd(16)} ${'PID'.padEnd(7)} ${'TID'.padEnd(7)} ${'MNT_NS'.padEnd(11)} CALL`;
}

export function rowLine(ev: MountEvent, parent: boolean): string {
  const head = `${ev.comm.padEnd(16)} ${String(ev.pid).padEnd(7)} ${String(ev.tid).padEnd(7)} `;
  const family = parent ? `${ev.pcomm.padEnd(16)} ${String(ev.ppid).padEnd(7)} ` : '';
  return `${head}${family}${String(ev.mntNs).padEnd(11)} ${callText(ev)}`;
}

/** A string argument in JSON: its text (UTF-8), or null for a NULL or unreadable pointer. */
function jsonStr(ev: MountEvent, i: number): string | null {
  const s = ev.strings.get(i);
  if (!s || s.isNull || s.unreadable) return null;
  return s.bytes.toString('utf8');
}

function jsonAttr(ev: MountEvent) {
  const a = ev.attr;
  return a && { attr_set: Number(a.attrSet), attr_clr: Number(a.attrClr), propagation: Number(a.propagation), userns_fd: Number(a.usernsFd) };
}

/** The arguments by their names in the man pages; flags and commands as numbers (`text` has their names). */
export function jsonArgs(ev: MountEvent): Record<string, unknown> {
  const a = ev.args;
  switch (ev.call) {
    case 'mount': return { source: jsonStr(ev, 0), target: jsonStr(ev, 1), filesystemtype: jsonStr(ev, 2), mountflags: Number(a[3]), data: jsonStr(ev, 4) };
    case 'umount': return { target: jsonStr(ev, 0), flags: uint(a[1]) };
    case 'fsopen': return { fsname: jsonStr(ev, 0), flags: uint(a[1]) };
    case 'fsconfig': return { fd: int(a[0]), cmd: uint(a[1]), key: jsonStr(ev, 2), value: jsonStr(ev, 3), aux: int(a[4]) };
    case 'fsmount': return { fd: int(a[0]), flags: uint(a[1]), attr_flags: uint(a[2]) };
    case 'move_mount': return { from_dirfd: int(a[0]), from_path: jsonStr(ev, 1), to_dirfd: int(a[2]), to_path: jsonStr(ev, 3), flags: uint(a[4]) };
    case 'fspick': return { dirfd: int(a[0]), path: jsonStr(ev, 1), flags: uint(a[2]) };
    case 'open_tree': return { dirfd: int(a[0]), path: jsonStr(ev, 1), flags: uint(a[2]) };
    case 'mount_setattr':
    case 'open_tree_attr':
      return { dirfd: int(a[0]), path: jsonStr(ev, 1), flags: uint(a[2]), attr: jsonAttr(ev), size: Number(a[4]) };
  }
}

/**
 * --json: one object per call. Fields: comm, pid, tid, pcomm, ppid, mnt_ns, call (the syscall's
 * name as in CALL), args (by name, see jsonArgs), ret, error (the errno's name, or null), text
 * (the CALL column).
 */
export function jsonLine(ev: MountEvent): string {
  return JSON.stringify({
    comm: ev.comm,
    pid: ev.pid,
    tid: ev.tid,
    pcomm: ev.pcomm,
    ppid: ev.ppid,
    mnt_ns: ev.mntNs,
    call: ev.call,
    args: jsonArgs(ev),
    ret: ev.ret,
    error: ev.ret < 0 ? errnoName(-ev.ret) ?? null : null,
    text: callText(ev),
  });
}
