// setuids' decoding, setuids.bt's columns, --json and its options, without a kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../../lib/run/cli.ts';
import { COMM_LEN, RECORD_SIZE, SETID_EVENT_OFFSETS, decodeSetidRecord, headerLine, jsonLine, rowLine, type SetidEvent } from '../../tools/setuids/events.ts';
import { spec } from '../../tools/setuids/options.ts';

interface Fields { ts?: bigint; pid?: number; tid?: number; syscall?: number; ret?: number; args?: number[]; cred?: number[]; uid?: number; gid?: number; comm?: string }

function record(f: Fields): Buffer {
  const buf = Buffer.alloc(RECORD_SIZE);
  const o = SETID_EVENT_OFFSETS;
  buf.writeBigUInt64LE(f.ts ?? 0n, o.ts);
  for (const k of ['pid', 'tid', 'syscall', 'uid', 'gid'] as const) buf.writeUInt32LE(f[k] ?? 0, o[k]);
  buf.writeInt32LE(f.ret ?? 0, o.ret);
  (f.args ?? []).forEach((a, i) => buf.writeInt32LE(a, o.args + 4 * i));
  if (f.cred) {
    buf.writeUInt32LE(1, o.flags);
    f.cred.forEach((id, i) => buf.writeUInt32LE(id, o.cred + 4 * i));
  }
  buf.write(f.comm ?? '', o.comm, COMM_LEN);
  return buf;
}

const setresuid: SetidEvent = {
  ts: 0n, pid: 1234, tid: 1235, syscall: 'setresuid', args: { ruid: -1, euid: 65534, suid: -1 }, ret: 0, uid: 0, gid: 0, cred: null, comm: 'sshd',
};

test('a record decodes field by field: the syscall names its arguments, cred ids only when the kernel read them', () => {
  const ev = decodeSetidRecord(record({
    ts: 5n, pid: 10, tid: 11, syscall: 4, args: [-1, 65534, -1], ret: -1, uid: 1000, gid: 100, comm: 'su',
    cred: [1000, 100, 1001, 101, 1002, 102, 1003, 103],
  }));
  assert.deepEqual(ev, {
    ts: 5n, pid: 10, tid: 11, syscall: 'setresuid', args: { ruid: -1, euid: 65534, suid: -1 }, ret: -1, uid: 1000, gid: 100, comm: 'su',
    cred: { uid: 1000, gid: 100, suid: 1001, sgid: 101, euid: 1002, egid: 102, fsuid: 1003, fsgid: 103 },
  });
  assert.deepEqual([0, 1, 2, 3, 5, 6, 7].map((n) => decodeSetidRecord(record({ syscall: n, args: [1, 2, 3] })).args), [
    { uid: 1 }, { gid: 1 }, { ruid: 1, euid: 2 }, { rgid: 1, egid: 2 }, { rgid: 1, egid: 2, sgid: 3 }, { uid: 1 }, { gid: 1 },
  ]);
  assert.equal(decodeSetidRecord(record({ syscall: 0 })).cred, null);
  // setfsuid's result is the previous fsuid, an id: unsigned.
  assert.equal(decodeSetidRecord(record({ syscall: 6, ret: -2 })).ret, 4294967294);
  assert.equal(decodeSetidRecord(record({ comm: 'x'.repeat(16) })).comm, 'x'.repeat(16));
});

test('setuids.bt\'s header and rows: "%-8s %-6s %-16s %-6s %-9s %s", its ARGS (RET) words for each call', () => {
  assert.equal(headerLine({}), 'TIME     PID    COMM             UID    SYSCALL   ARGS (RET)');
  assert.equal(headerLine({ timestamp: true }), 'TIME(s)  TIME     PID    COMM             UID    SYSCALL   ARGS (RET)');
  assert.equal(rowLine(setresuid, {}, '12:00:01', '0.500'), '12:00:01 1234   sshd             0      setresuid ruid=-1 euid=65534 suid=-1 (0)');
  assert.equal(rowLine(setresuid, { timestamp: true }, '12:00:01', '0.500'), '0.500    12:00:01 1234   sshd             0      setresuid ruid=-1 euid=65534 suid=-1 (0)');
  const row = (syscall: SetidEvent['syscall'], args: Record<string, number>, ret: number) => rowLine({ ...setresuid, syscall, args, ret }, {}, 't', '0').slice(40);
  assert.equal(row('setuid', { uid: 0 }, -1), 'setuid    uid=0 (-1)');
  assert.equal(row('setgid', { gid: 65534 }, 0), 'setgid    gid=65534 (0)');
  assert.equal(row('setreuid', { ruid: 0, euid: 0 }, 0), 'setreuid  ruid=0 euid=0 (0)');
  assert.equal(row('setregid', { rgid: -1, egid: 5 }, 0), 'setregid  rgid=-1 egid=5 (0)');
  assert.equal(row('setresgid', { rgid: 1, egid: 2, sgid: 3 }, -1), 'setresgid rgid=1 egid=2 sgid=3 (-1)');
  assert.equal(row('setfsuid', { uid: 0 }, 65534), 'setfsuid  uid=0 (prevuid=65534)');
  assert.equal(row('setfsgid', { gid: 0 }, 100), 'setfsgid  gid=0 (prevgid=100)');
});

test('--json: the arguments by name, every old id the kernel gave, errno by name when a call failed (never for setfs*)', () => {
  assert.deepEqual(JSON.parse(jsonLine(setresuid, '12:00:01', '1.500')), {
    time: '12:00:01', timestamp: 1.5, pid: 1234, tid: 1235, comm: 'sshd', syscall: 'setresuid',
    args: { ruid: -1, euid: 65534, suid: -1 }, old: { uid: 0, gid: 0 }, ret: 0,
  });
  const cred = { uid: 1, gid: 2, suid: 3, sgid: 4, euid: 5, egid: 6, fsuid: 7, fsgid: 8 };
  const failed = JSON.parse(jsonLine({ ...setresuid, syscall: 'setuid', args: { uid: 0 }, ret: -1, cred }, 't', '0'));
  assert.deepEqual([failed.old, failed.errno], [{ uid: 1, euid: 5, suid: 3, fsuid: 7, gid: 2, egid: 6, sgid: 4, fsgid: 8 }, 'EPERM']);
  assert.equal('errno' in JSON.parse(jsonLine({ ...setresuid, syscall: 'setfsuid', args: { uid: 0 }, ret: 65534 }, 't', '0')), false);
});

test('options: -p takes an existing PID, -T a TIME(s) column; anything else is a usage error', () => {
  const o = parseArgs(spec, ['-p', String(process.pid), '-T']);
  assert.deepEqual([o.pid, o.timestamp], [process.pid, true]);
  assert.deepEqual([parseArgs(spec, []).pid, parseArgs(spec, []).timestamp], [undefined, false]);
  for (const bad of [['-p', '0'], ['-p', 'abc'], ['-p', '999999999'], ['-u', '0']]) assert.throws(() => parseArgs(spec, bad), UsageError, bad.join(' '));
});
