// mountsnoop's user-space half without a kernel: records as tools/mountsnoop/mountsnoop.bpf.c lays
// them out, decoded and written as C in bcc's columns, flags by name, strings escaped as bcc does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../../lib/run/cli.ts';
import {
  MOUNT_EVENT_OFFSETS as O, RECORD_HEADER_SIZE, callText, decodeMountRecord, headerLine, jsonLine, retText, rowLine,
} from '../../tools/mountsnoop/events.ts';
import { MOUNT_CALLS, cString, mountAttrFlags, mountFlags, moveMountFlags, openTreeFlags, umountFlags, type MountCall } from '../../tools/mountsnoop/calls.ts';
import { spec } from '../../tools/mountsnoop/options.ts';

interface Str { text?: string; isNull?: boolean; cut?: boolean; fault?: boolean }
interface Fields {
  call: MountCall; args?: Array<number | bigint>; strings?: Record<number, Str>; ret?: number;
  pid?: number; tid?: number; ppid?: number; mntNs?: number; comm?: string; pcomm?: string; attr?: bigint[];
}

/** A record exactly as struct mount_event is laid out, with only data_len bytes of strings. */
function record(f: Fields): Buffer {
  const parts: Buffer[] = [];
  let strMask = 0, nullMask = 0, cutMask = 0, faultMask = 0;
  for (const [i, s] of Object.entries(f.strings ?? {}).sort(([a], [b]) => Number(a) - Number(b))) {
    const bit = 1 << Number(i);
    strMask |= bit;
    if (s.isNull) nullMask |= bit;
    if (s.cut) cutMask |= bit;
    if (s.fault) faultMask |= bit;
    parts.push(Buffer.from(`${s.text ?? ''}\0`, 'latin1'));
  }
  const data = Buffer.concat(parts);
  const buf = Buffer.alloc(RECORD_HEADER_SIZE + data.length);
  buf.writeBigUInt64LE(7_000_000_000n, O.ts);
  buf.writeBigInt64LE(BigInt(f.ret ?? 0), O.ret);
  (f.args ?? []).forEach((a, i) => buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(a)), O.args + 8 * i));
  (f.attr ?? []).forEach((a, i) => buf.writeBigUInt64LE(a, O.attr + 8 * i));
  buf.writeUInt32LE(f.pid ?? 4242, O.pid);
  buf.writeUInt32LE(f.tid ?? f.pid ?? 4242, O.tid);
  buf.writeUInt32LE(f.ppid ?? 4241, O.ppid);
  buf.writeUInt32LE(f.mntNs ?? 4026531841, O.mnt_ns);
  buf.writeUInt32LE(MOUNT_CALLS.indexOf(f.call), O.call);
  buf.writeUInt32LE(data.length, O.data_len);
  buf[O.str_mask] = strMask;
  buf[O.null_mask] = nullMask;
  buf[O.cut_mask] = cutMask;
  buf[O.fault_mask] = faultMask;
  buf.writeUInt32LE(f.attr ? 32 : 0, O.attr_len);
  buf.write(f.comm ?? 'mount', O.comm, 15);
  buf.write(f.pcomm ?? 'bash', O.pcomm, 15);
  data.copy(buf, RECORD_HEADER_SIZE);
  return buf;
}

const call = (f: Fields) => callText(decodeMountRecord(record(f)));
const PTR = 0x7ffd0000n;

test('the header and rows have bcc\'s columns and widths; -P adds PCOMM and PPID', () => {
  assert.equal(headerLine(false), 'COMM             PID     TID     MNT_NS      CALL');
  assert.equal(headerLine(true), 'COMM             PID     TID     PCOMM            PPID    MNT_NS      CALL');
  const ev = decodeMountRecord(record({ call: 'umount', args: [PTR, 0], strings: { 0: { text: '/mnt' } }, pid: 13207, tid: 13208 }));
  assert.equal(rowLine(ev, false), 'mount            13207   13208   4026531841  umount("/mnt", 0x0) = 0');
  assert.equal(rowLine(ev, true), 'mount            13207   13208   bash             4241    4026531841  umount("/mnt", 0x0) = 0');
});

test('mount() as bcc writes it: NULL strings as "", flags by name, errors by errno name', () => {
  assert.equal(call({
    call: 'mount', args: [PTR, PTR, PTR, 2, 0],
    strings: { 0: { text: 'tmpfs' }, 1: { text: '/mnt' }, 2: { text: 'tmpfs' }, 4: { isNull: true } },
  }), 'mount("tmpfs", "/mnt", "tmpfs", MS_NOSUID, "") = 0');
  assert.equal(call({
    call: 'mount', args: [PTR, PTR, 0, (0xc0ed0000 | 4096 | 16384) >>> 0, 0], ret: -19,
    strings: { 0: { text: '/a' }, 1: { text: '/b' }, 2: { isNull: true }, 4: { isNull: true } },
  }), 'mount("/a", "/b", "", MS_MGC_VAL|MS_BIND|MS_REC, "") = -ENODEV');
});

test('strings are escaped byte by byte as bcc does; cut ones end in "..."; unreadable ones show their address', () => {
  assert.equal(cString(Buffer.from('a"b\\c\n\t\x07\x1b\xc3\xa9~', 'latin1')), '"a\\"b\\\\c\\n\\t\\a\\x1b\\xc3\\xa9~"');
  assert.equal(call({ call: 'umount', args: [PTR, 8], strings: { 0: { text: 'x'.repeat(10), cut: true } }, ret: -36 }),
    `umount("${'x'.repeat(10)}"..., UMOUNT_NOFOLLOW) = -ENAMETOOLONG`);
  assert.equal(call({ call: 'umount', args: [1, 0], strings: { 0: { fault: true } }, ret: -14 }), 'umount(0x1, 0x0) = -EFAULT');
});

test('the new mount API: file descriptors, AT_FDCWD, commands and MOUNT_ATTR flags by name', () => {
  assert.equal(call({ call: 'fsopen', args: [PTR, 1], strings: { 0: { text: 'ext4' } }, ret: 5 }), 'fsopen("ext4", FSOPEN_CLOEXEC) = 5');
  assert.equal(call({ call: 'fsconfig', args: [5, 1, PTR, PTR, 0], strings: { 2: { text: 'source' }, 3: { text: '/dev/loop0' } } }),
    'fsconfig(5, FSCONFIG_SET_STRING, "source", "/dev/loop0", 0) = 0');
  assert.equal(call({ call: 'fsconfig', args: [5, 6, 0, 0, 0], strings: { 2: { isNull: true } } }), 'fsconfig(5, FSCONFIG_CMD_CREATE, "", "", 0) = 0');
  // A blob is not read as a string: its address is shown.
  assert.equal(call({ call: 'fsconfig', args: [5, 2, PTR, 0x1000, 16], strings: { 2: { text: 'k' } } }), 'fsconfig(5, FSCONFIG_SET_BINARY, "k", 0x1000, 16) = 0');
  assert.equal(call({ call: 'fsmount', args: [5, 0, 0x11], ret: 6 }), 'fsmount(5, 0x0, MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOATIME) = 6');
  assert.equal(call({ call: 'move_mount', args: [6, PTR, -100, PTR, 4], strings: { 1: { text: '' }, 3: { text: './tmp-dir/' } } }),
    'move_mount(6, "", AT_FDCWD, "./tmp-dir/", MOVE_MOUNT_F_EMPTY_PATH) = 0');
  assert.equal(call({ call: 'open_tree', args: [-100, PTR, 0x88001], strings: { 1: { text: '/mnt' } }, ret: 7 }),
    'open_tree(AT_FDCWD, "/mnt", OPEN_TREE_CLONE|AT_RECURSIVE|OPEN_TREE_CLOEXEC) = 7');
  assert.equal(call({ call: 'fspick', args: [3, PTR, 9], strings: { 1: { text: '' } }, ret: 8 }), 'fspick(3, "", FSPICK_CLOEXEC|FSPICK_EMPTY_PATH) = 8');
  assert.equal(call({
    call: 'mount_setattr', args: [-100, PTR, 0x8000, PTR, 32], strings: { 1: { text: '/mnt' } }, attr: [1n, 0x10n, 1n << 18n, 0n],
  }), 'mount_setattr(AT_FDCWD, "/mnt", AT_RECURSIVE, {attr_set=MOUNT_ATTR_RDONLY, attr_clr=MOUNT_ATTR_NOATIME, propagation=MS_PRIVATE, userns_fd=0}, 32) = 0');
  assert.equal(call({ call: 'open_tree_attr', args: [-100, PTR, 1, 0, 0], strings: { 1: { text: '/mnt' } }, ret: 3 }),
    'open_tree_attr(AT_FDCWD, "/mnt", OPEN_TREE_CLONE, NULL, 0) = 3');
});

test('flags: unknown bits in hex after the names, 0x0 for none', () => {
  assert.equal(mountFlags(0n), '0x0');
  assert.equal(mountFlags(0xc0ed0000n), 'MS_MGC_VAL');
  assert.equal(mountFlags((1n << 40n) | 1n), 'MS_RDONLY|0x10000000000');
  assert.equal(umountFlags(0x13), 'MNT_FORCE|MNT_DETACH|0x10');
  assert.equal(moveMountFlags(0x400), '0x400');
  assert.equal(openTreeFlags(0), '0x0');
  assert.equal(mountAttrFlags(0x20), 'MOUNT_ATTR_STRICTATIME');
  assert.equal(mountAttrFlags(0x30), '0x30'); // not an atime setting the kernel knows
  assert.equal(mountAttrFlags(0x100004), 'MOUNT_ATTR_NODEV|MOUNT_ATTR_IDMAP');
  assert.deepEqual([retText(0), retText(12), retText(-1), retText(-4000)], ['0', '12', '-EPERM', '-4000']);
});

test('--json: named arguments, null for NULL or unreadable strings, the error name and the CALL text', () => {
  const ev = decodeMountRecord(record({
    call: 'mount', args: [PTR, PTR, PTR, 6, 0], ret: -2, pid: 10, tid: 11, ppid: 9, mntNs: 4026532000, comm: 'mount', pcomm: 'sh',
    strings: { 0: { text: 'tmpfs' }, 1: { text: '/x' }, 2: { text: 'tmpfs' }, 4: { isNull: true } },
  }));
  assert.deepEqual(JSON.parse(jsonLine(ev)), {
    comm: 'mount', pid: 10, tid: 11, pcomm: 'sh', ppid: 9, mnt_ns: 4026532000, call: 'mount',
    args: { source: 'tmpfs', target: '/x', filesystemtype: 'tmpfs', mountflags: 6, data: null },
    ret: -2, error: 'ENOENT', text: 'mount("tmpfs", "/x", "tmpfs", MS_NOSUID|MS_NODEV, "") = -ENOENT',
  });
  const fd = decodeMountRecord(record({ call: 'fsmount', args: [3, 1, 4], ret: 4 }));
  assert.deepEqual(JSON.parse(jsonLine(fd)).args, { fd: 3, flags: 1, attr_flags: 4 });
  assert.equal(JSON.parse(jsonLine(fd)).error, null);
});

test('options: bcc\'s -P/--parent_process and the container maps; anything else is a usage error', () => {
  assert.equal(parseArgs(spec, ['-P']).parent_process, true);
  assert.equal(parseArgs(spec, ['--parent_process']).parent_process, true);
  assert.equal(parseArgs(spec, []).parent_process, false);
  assert.throws(() => parseArgs(spec, ['-p', '1']), UsageError);
  assert.throws(() => parseArgs(spec, ['--mntnsmap', '/tmp/x']), (e: unknown) => e instanceof UsageError && /pinned map path/.test(e.message));
});
