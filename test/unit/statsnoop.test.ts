// statsnoop's user-space half without a kernel: records as tools/statsnoop/statsnoop.bpf.c lays
// them out, decoded and printed in bcc's columns and widths, as JSON, and the options parsed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  AT_EMPTY_PATH, AT_FDCWD, RECORD_HEADER_SIZE, STAT_EVENT_OFFSETS as O, decodeStatRecord, headerLine, jsonLine, pathText, rowLine,
} from '../../tools/statsnoop/events.ts';
import { STAT_SYSCALLS } from '../../tools/statsnoop/syscalls.ts';
import { spec } from '../../tools/statsnoop/options.ts';
import { parseArgs, UsageError } from '../../lib/run/cli.ts';

interface RecordFields {
  pid?: number; tid?: number; ret?: number; dirfd?: number; flags?: number; mode?: number; syscall?: number; comm?: string;
  path?: string | Buffer;
  /** path_len as the kernel wrote it (default: the path and its NUL; 0 when unreadable) */
  pathLen?: number;
}

/** A record exactly as struct stat_event is laid out, with only path_len bytes of path. */
function record(f: RecordFields): Buffer {
  const p = f.path === undefined ? Buffer.from('/etc/passwd\0') : Buffer.concat([Buffer.from(f.path), Buffer.from([0])]);
  const len = f.pathLen ?? p.length;
  const buf = Buffer.alloc(RECORD_HEADER_SIZE + len);
  buf.writeBigUInt64LE(7_000_000_000n, O.ts);
  buf.writeUInt32LE(f.pid ?? 31126, O.pid);
  buf.writeUInt32LE(f.tid ?? f.pid ?? 31126, O.tid);
  buf.writeInt32LE(f.ret ?? 0, O.ret);
  buf.writeInt32LE(f.dirfd ?? 0, O.dirfd);
  buf.writeUInt32LE(f.flags ?? 0, O.flags);
  buf.writeUInt32LE(f.mode ?? 0, O.mode);
  buf.writeUInt16LE(f.syscall ?? 7, O.syscall);
  buf.writeUInt16LE(len, O.path_len);
  buf.write(f.comm ?? 'bash', O.comm, 15);
  p.copy(buf, RECORD_HEADER_SIZE, 0, len);
  return buf;
}

const id = (name: string) => STAT_SYSCALLS.find((s) => s.name === name)!.id;

test('the syscall numbers are statsnoop.bpf.c\'s SC_* constants, name for name', () => {
  const c = fs.readFileSync(path.resolve(import.meta.dirname, '../../tools/statsnoop/statsnoop.bpf.c'), 'utf8');
  const fromC = [...c.matchAll(/^#define SC_(\w+) (\d+)$/gm)].map((m) => [m[1].toLowerCase(), Number(m[2])]);
  assert.deepEqual(fromC, STAT_SYSCALLS.map((s) => [s.name, s.id]));
  // TRACED is a bit mask in an int.
  assert.ok(Math.max(...STAT_SYSCALLS.map((s) => s.id)) < 31);
});

test('the header has bcc\'s columns and widths, RET for bcc\'s FD, optional ones in order', () => {
  assert.equal(headerLine({}), 'PID     COMM              RET ERR PATH');
  assert.equal(headerLine({ timestamp: true }), 'TIME(s)       PID     COMM              RET ERR PATH');
  assert.equal(headerLine({ time: true, timestamp: true, sysname: true }),
    'TIME     TIME(s)       PID     COMM              RET ERR SYSCALL      PATH');
});

test('a row is printf("%-7d %-16s %4d %3d %s") as bcc prints it: -1 and the errno for a failure', () => {
  const ok = decodeStatRecord(record({ path: '.', ret: 0, syscall: id('newfstatat'), dirfd: AT_FDCWD }));
  assert.equal(rowLine(ok, {}, '', ''), '31126   bash                0   0 .');
  const missing = decodeStatRecord(record({ path: '/usr/local/sbin/iconfig', ret: -2 }));
  assert.equal(rowLine(missing, {}, '', ''), '31126   bash               -1   2 /usr/local/sbin/iconfig');
  assert.equal(rowLine(missing, { time: true, timestamp: true, sysname: true }, '14:08:23', '0.000123456'),
    '14:08:23 0.000123456   31126   bash               -1   2 newfstatat   /usr/local/sbin/iconfig');
  const long = decodeStatRecord(record({ comm: 'command-not-fou', ret: -13, syscall: id('access') }));
  assert.equal(rowLine(long, { sysname: true }, '', ''), '31126   command-not-fou    -1  13 access       /etc/passwd');
});

test('each field is read where the C struct has it; arguments a call lacks are null', () => {
  const ev = decodeStatRecord(record({ pid: 10, tid: 11, ret: -20, dirfd: 3, flags: 0x100, mode: 6, syscall: id('faccessat2'), comm: 'stat', path: 'rel/x' }));
  assert.deepEqual({ ...ev, ts: Number(ev.ts) }, {
    ts: 7e9, pid: 10, tid: 11, ret: -20, syscall: 'faccessat2', dirfd: 3, flags: 0x100, mode: 6, comm: 'stat', path: 'rel/x',
  });
  const plain = decodeStatRecord(record({ dirfd: 5, flags: 9, mode: 4, syscall: id('newstat') }));
  assert.deepEqual([plain.syscall, plain.dirfd, plain.flags, plain.mode], ['newstat', null, null, null]);
  const access = decodeStatRecord(record({ mode: 0, syscall: id('access') }));
  assert.deepEqual([access.dirfd, access.flags, access.mode], [null, null, 0]);
  const statx = decodeStatRecord(record({ dirfd: AT_FDCWD, flags: 0x800, syscall: id('statx') }));
  assert.deepEqual([statx.dirfd, statx.flags, statx.mode], [AT_FDCWD, 0x800, null]);
  assert.equal(decodeStatRecord(record({ syscall: 99 })).syscall, '[unknown: 99]');
});

test('an unreadable path (path_len 0) is empty; a path is read to its NUL and never past path_len', () => {
  assert.equal(decodeStatRecord(record({ pathLen: 0, ret: -14 })).path, '');
  assert.equal(decodeStatRecord(record({ path: 'abc', pathLen: 2 })).path, 'ab');
  assert.equal(decodeStatRecord(record({ path: 'ünïcødé ✓' })).path, 'ünïcødé ✓');
});

test('an empty path with AT_EMPTY_PATH names the fd (<fd N>, <cwd>); newlines print as \\n', () => {
  const fstat = decodeStatRecord(record({ path: '', dirfd: 3, flags: AT_EMPTY_PATH, syscall: id('newfstatat') }));
  assert.equal(pathText(fstat), '<fd 3>');
  assert.equal(rowLine(fstat, {}, '', ''), '31126   bash                0   0 <fd 3>');
  assert.equal(pathText(decodeStatRecord(record({ path: '', dirfd: AT_FDCWD, flags: AT_EMPTY_PATH, syscall: id('statx') }))), '<cwd>');
  // Without the flag an empty path is just empty (the kernel answered ENOENT).
  assert.equal(pathText(decodeStatRecord(record({ path: '', dirfd: 3, flags: 0, ret: -2, syscall: id('newfstatat') }))), '');
  assert.equal(pathText(decodeStatRecord(record({ path: 'two\nlines' }))), 'two\\nlines');
});

test('--json carries every field, the return value as the syscall gave it', () => {
  const ev = decodeStatRecord(record({ ret: -2, dirfd: AT_FDCWD, flags: 0, syscall: id('newfstatat'), path: 'two\nlines' }));
  assert.deepEqual(JSON.parse(jsonLine(ev, '14:08:23', '1.500000000')), {
    time: '14:08:23', timestamp: 1.5, pid: 31126, tid: 31126, comm: 'bash', syscall: 'newfstatat', ret: -2, err: 2,
    path: 'two\nlines', dirfd: -100, flags: 0, mode: null,
  });
});

test('bcc\'s options parse; -p takes an existing PID only', () => {
  const o = parseArgs(spec, ['-T', '-t', '-s', '-x', '-p', String(process.pid)]);
  assert.deepEqual([o.time, o.timestamp, o.sysname, o.failed, o.pid], [true, true, true, true, process.pid]);
  const long = parseArgs(spec, ['--time', '--timestamp', '--sysname', '--failed', '--pid', String(process.pid)]);
  assert.deepEqual([long.time, long.timestamp, long.sysname, long.failed, long.pid], [true, true, true, true, process.pid]);
  const none = parseArgs(spec, []);
  assert.deepEqual([none.time, none.timestamp, none.sysname, none.failed, none.pid], [false, false, false, false, undefined]);
  for (const bad of [['-p', '0'], ['-p', 'abc'], ['-p', '1.5'], ['-p'], ['--bogus']]) assert.throws(() => parseArgs(spec, bad), UsageError, bad.join(' '));
  // A PID no process has: tracing it would print nothing, silently.
  assert.throws(() => parseArgs(spec, ['-p', String(unusedPid())]), /no process with PID/);
});

function unusedPid(): number {
  for (let pid = 32000; pid > 2; pid--) if (!fs.existsSync(`/proc/${pid}`)) return pid;
  throw new Error('every PID is taken');
}

test('comm is decoded for each record, however records from different processes interleave', () => {
  const comms = ['bash', 'bash', 'ls', 'command-not-fou', 'bash', 'ls', 'ls'];
  assert.deepEqual(comms.map((comm) => decodeStatRecord(record({ comm })).comm), comms);
  // A comm that extends the previous one.
  assert.deepEqual(['ab', 'abc', 'ab'].map((comm) => decodeStatRecord(record({ comm })).comm), ['ab', 'abc', 'ab']);
});
