// The calls mountsnoop traces and how each is written out as C, with its flags decoded by name
// (the kernel's uapi values: <linux/mount.h>, <linux/fcntl.h>). Pure data and functions: the
// output (events.ts), the configuration (program.ts) and the tests read them.

/** The calls, in the order of CALL_* in mountsnoop.bpf.c (a record's `call` indexes this list). */
export const MOUNT_CALLS = [
  'mount', 'umount', 'fsopen', 'fsconfig', 'fsmount', 'move_mount', 'fspick', 'open_tree', 'mount_setattr', 'open_tree_attr',
] as const;
export type MountCall = (typeof MOUNT_CALLS)[number];

/**
 * The Linux release that added each call of the new mount API (mount and umount are always
 * there): a kernel without one has nothing of it to trace.
 */
export const ADDED_IN: Partial<Record<MountCall, string>> = {
  fsopen: '5.2', fsconfig: '5.2', fsmount: '5.2', move_mount: '5.2', fspick: '5.2', open_tree: '5.2',
  mount_setattr: '5.12', open_tree_attr: '6.15',
};

type FlagTable = ReadonlyArray<readonly [name: string, bit: number]>;

// mount(2)'s MS_* flags, bcc's list with the bits it lacks (libbpf-tools names them too).
const MS_FLAGS: FlagTable = [
  ['MS_RDONLY', 1], ['MS_NOSUID', 2], ['MS_NODEV', 4], ['MS_NOEXEC', 8], ['MS_SYNCHRONOUS', 16], ['MS_REMOUNT', 32],
  ['MS_MANDLOCK', 64], ['MS_DIRSYNC', 128], ['MS_NOSYMFOLLOW', 256], ['MS_NOATIME', 1024], ['MS_NODIRATIME', 2048],
  ['MS_BIND', 4096], ['MS_MOVE', 8192], ['MS_REC', 16384], ['MS_SILENT', 32768], ['MS_POSIXACL', 1 << 16],
  ['MS_UNBINDABLE', 1 << 17], ['MS_PRIVATE', 1 << 18], ['MS_SLAVE', 1 << 19], ['MS_SHARED', 1 << 20],
  ['MS_RELATIME', 1 << 21], ['MS_KERNMOUNT', 1 << 22], ['MS_I_VERSION', 1 << 23], ['MS_STRICTATIME', 1 << 24],
  ['MS_LAZYTIME', 1 << 25], ['MS_SUBMOUNT', 1 << 26], ['MS_NOREMOTELOCK', 1 << 27], ['MS_NOSEC', 1 << 28],
  ['MS_BORN', 1 << 29], ['MS_ACTIVE', 1 << 30], ['MS_NOUSER', 2 ** 31],
];
// The old magic number in the high 16 bits, which the kernel still strips.
const MS_MGC_VAL = 0xc0ed0000;
const MS_MGC_MSK = 0xffff0000;

const UMOUNT_FLAGS: FlagTable = [['MNT_FORCE', 1], ['MNT_DETACH', 2], ['MNT_EXPIRE', 4], ['UMOUNT_NOFOLLOW', 8]];
const FSOPEN_FLAGS: FlagTable = [['FSOPEN_CLOEXEC', 1]];
const FSMOUNT_FLAGS: FlagTable = [['FSMOUNT_CLOEXEC', 1]];
const FSPICK_FLAGS: FlagTable = [['FSPICK_CLOEXEC', 1], ['FSPICK_SYMLINK_NOFOLLOW', 2], ['FSPICK_NO_AUTOMOUNT', 4], ['FSPICK_EMPTY_PATH', 8]];
const AT_FLAGS: FlagTable = [['AT_SYMLINK_NOFOLLOW', 0x100], ['AT_NO_AUTOMOUNT', 0x800], ['AT_EMPTY_PATH', 0x1000], ['AT_RECURSIVE', 0x8000]];
const OPEN_TREE_FLAGS: FlagTable = [['OPEN_TREE_CLONE', 1], ...AT_FLAGS, ['OPEN_TREE_CLOEXEC', 0x80000]];
const MOVE_MOUNT_FLAGS: FlagTable = [
  ['MOVE_MOUNT_F_SYMLINKS', 0x1], ['MOVE_MOUNT_F_AUTOMOUNTS', 0x2], ['MOVE_MOUNT_F_EMPTY_PATH', 0x4],
  ['MOVE_MOUNT_T_SYMLINKS', 0x10], ['MOVE_MOUNT_T_AUTOMOUNTS', 0x20], ['MOVE_MOUNT_T_EMPTY_PATH', 0x40],
  ['MOVE_MOUNT_SET_GROUP', 0x100], ['MOVE_MOUNT_BENEATH', 0x200],
];
// MOUNT_ATTR_*: the atime setting is a 3-bit field (MOUNT_ATTR__ATIME), not flags: relatime is 0.
const MOUNT_ATTR_FLAGS: FlagTable = [
  ['MOUNT_ATTR_RDONLY', 0x1], ['MOUNT_ATTR_NOSUID', 0x2], ['MOUNT_ATTR_NODEV', 0x4], ['MOUNT_ATTR_NOEXEC', 0x8],
  ['MOUNT_ATTR_NODIRATIME', 0x80], ['MOUNT_ATTR_IDMAP', 0x100000], ['MOUNT_ATTR_NOSYMFOLLOW', 0x200000],
];
const MOUNT_ATTR__ATIME = 0x70;
const ATIME_NAMES: Record<number, string> = { 0x10: 'MOUNT_ATTR_NOATIME', 0x20: 'MOUNT_ATTR_STRICTATIME' };
const PROPAGATION: FlagTable = [['MS_UNBINDABLE', 1 << 17], ['MS_PRIVATE', 1 << 18], ['MS_SLAVE', 1 << 19], ['MS_SHARED', 1 << 20]];

export const FSCONFIG_COMMANDS = [
  'FSCONFIG_SET_FLAG', 'FSCONFIG_SET_STRING', 'FSCONFIG_SET_BINARY', 'FSCONFIG_SET_PATH', 'FSCONFIG_SET_PATH_EMPTY',
  'FSCONFIG_SET_FD', 'FSCONFIG_CMD_CREATE', 'FSCONFIG_CMD_RECONFIGURE', 'FSCONFIG_CMD_CREATE_EXCL',
] as const;

const AT_FDCWD = -100;

/** Names for the bits of `value` found in `table`, bcc's way: the rest in hex, and 0x0 for nothing. */
function decodeBits(value: number | bigint, table: FlagTable, names: string[] = []): string {
  let rest = BigInt(value);
  for (const [name, bit] of table) {
    const b = BigInt(bit);
    if (rest & b) {
      names.push(name);
      rest &= ~b;
    }
  }
  if (rest !== 0n || names.length === 0) names.push(`0x${rest.toString(16)}`);
  return names.join('|');
}

/** mount(2)'s flags: an unsigned long, with the old magic number in the high 16 of its low 32 bits. */
export function mountFlags(flags: bigint): string {
  const names: string[] = [];
  let rest = flags;
  if ((rest & BigInt(MS_MGC_MSK)) === BigInt(MS_MGC_VAL)) {
    names.push('MS_MGC_VAL');
    rest &= ~BigInt(MS_MGC_MSK);
    if (rest === 0n) return names[0];
  }
  return decodeBits(rest, MS_FLAGS, names);
}

export const umountFlags = (flags: number) => decodeBits(flags, UMOUNT_FLAGS);
export const fsopenFlags = (flags: number) => decodeBits(flags, FSOPEN_FLAGS);
export const fsmountFlags = (flags: number) => decodeBits(flags, FSMOUNT_FLAGS);
export const fspickFlags = (flags: number) => decodeBits(flags, FSPICK_FLAGS);
export const openTreeFlags = (flags: number) => decodeBits(flags, OPEN_TREE_FLAGS);
export const atFlags = (flags: number) => decodeBits(flags, AT_FLAGS);
export const moveMountFlags = (flags: number) => decodeBits(flags, MOVE_MOUNT_FLAGS);
export const propagation = (value: number) => decodeBits(value, PROPAGATION);

/** MOUNT_ATTR_* (fsmount's attr_flags, struct mount_attr's attr_set and attr_clr), in bit order. */
export function mountAttrFlags(value: number): string {
  const atime = ATIME_NAMES[value & MOUNT_ATTR__ATIME];
  if (!atime) return decodeBits(value, MOUNT_ATTR_FLAGS);
  const names: string[] = [];
  const low = decodeBits(value & 0xf, MOUNT_ATTR_FLAGS);
  if (value & 0xf) names.push(low);
  names.push(atime);
  const high = (value & ~0x7f) >>> 0;
  if (high) names.push(decodeBits(high, MOUNT_ATTR_FLAGS));
  return names.join('|');
}

export function fsconfigCommand(cmd: number): string {
  return FSCONFIG_COMMANDS[cmd] ?? `0x${cmd.toString(16)}`;
}

/** A directory file descriptor argument: AT_FDCWD by name. */
export function dirFd(fd: number): string {
  return fd === AT_FDCWD ? 'AT_FDCWD' : String(fd);
}

const ESCAPES: Record<number, string> = {
  0x07: '\\a', 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0b: '\\v', 0x0c: '\\f', 0x0d: '\\r', 0x22: '\\"', 0x5c: '\\\\',
};

/** A string argument as a C literal, byte by byte as bcc writes it: printable ASCII as is, the rest escaped. */
export function cString(bytes: Uint8Array): string {
  let out = '"';
  for (const b of bytes) out += ESCAPES[b] ?? (b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`);
  return `${out}"`;
}
