// opensnoop's user-space half without a kernel: records as tools/opensnoop/opensnoop.bpf.c lays
// them out, decoded and printed in bcc's columns and widths; -F paths; the options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE_CUT, BASE_UNKNOWN, OPEN_EVENT_OFFSETS as O, RECORD_HEADER_SIZE, decodeOpenRecord, fullPath, headerLine, jsonLine, rowLine, secondsSince,
} from '../../tools/opensnoop/events.ts';
import { OPEN_FLAGS, flagFilter, spec } from '../../tools/opensnoop/options.ts';
import { parseArgs, UsageError } from '../../lib/run/cli.ts';

interface Fields {
  pid?: number; tid?: number; uid?: number; ret?: number; flags?: number; mode?: number; dirfd?: number; syscall?: number;
  comm?: string; path: string; base?: string[]; status?: number;
}

/** A record exactly as struct open_event is laid out: data_len bytes of data, base innermost first. */
function record(f: Fields): Buffer {
  const base = [...(f.base ?? [])].reverse();
  const data = Buffer.concat([f.path, ...base].map((s) => Buffer.from(`${s}\0`)));
  const buf = Buffer.alloc(RECORD_HEADER_SIZE + data.length);
  buf.writeBigUInt64LE(7_000_000_123n, O.ts);
  buf.writeUInt32LE(f.pid ?? 4242, O.pid);
  buf.writeUInt32LE(f.tid ?? f.pid ?? 4242, O.tid);
  buf.writeUInt32LE(f.uid ?? 0, O.uid);
  buf.writeInt32LE(f.ret ?? 3, O.ret);
  buf.writeUInt32LE(f.flags ?? 0, O.flags);
  buf.writeUInt32LE(f.mode ?? 0, O.mode);
  buf.writeInt32LE(f.dirfd ?? -100, O.dirfd);
  buf.writeUInt16LE(f.syscall ?? 1, O.syscall);
  buf.writeUInt16LE(base.length, O.depth);
  buf.writeUInt32LE(data.length, O.data_len);
  buf.writeUInt32LE(f.status ?? 0, O.status);
  buf.write(f.comm ?? 'cat', O.comm, 15);
  data.copy(buf, RECORD_HEADER_SIZE);
  return buf;
}

test('the header has bcc columns and widths, optional ones in bcc order', () => {
  assert.equal(headerLine({}), 'PID    COMM               FD ERR PATH');
  assert.equal(headerLine({ timestamp: true, printUid: true, extended: true }),
    'TIME(s)       UID   PID    COMM               FD ERR FLAGS    PATH');
  assert.equal(headerLine({ tid: true }), 'TID    COMM               FD ERR PATH');
});

test('a row is bcc\'s "%-6d %-16s %4d %3d %s": fd -1 and the errno for a failure', () => {
  const ok = decodeOpenRecord(record({ pid: 1234, ret: 3, path: '/etc/passwd', comm: 'cat' }));
  assert.equal(rowLine(ok, {}, ''), '1234   cat                 3   0 /etc/passwd');
  const failed = decodeOpenRecord(record({ pid: 1234, ret: -2, path: '/nope', flags: 0o101, uid: 1000 }));
  assert.equal(rowLine(failed, { timestamp: true, printUid: true, extended: true }, '0.000012345'),
    '0.000012345   1000  1234   cat                -1   2 00000101 /nope');
  const thread = decodeOpenRecord(record({ pid: 10, tid: 12, path: 'x' }));
  assert.equal(rowLine(thread, { tid: true }, ''), '12     cat                 3   0 x');
});

test('every field decodes from its offset', () => {
  const ev = decodeOpenRecord(record({ pid: 7, tid: 8, uid: 9, ret: -13, flags: 0o2101, mode: 0o600, dirfd: 5, syscall: 2, comm: 'a-comm-of-15chr', path: 'rel', base: ['tmp', 'd'] }));
  assert.deepEqual(ev, {
    ts: 7_000_000_123n, pid: 7, tid: 8, uid: 9, ret: -13, flags: 0o2101, mode: 0o600, dirfd: 5, syscall: 'openat2',
    comm: 'a-comm-of-15chr', path: 'rel', base: ['tmp', 'd'], status: 0,
  });
});

test('-F joins a relative path to its base directory; absolute paths and unknown bases stay as given', () => {
  const full = (f: Fields) => fullPath(decodeOpenRecord(record(f)));
  assert.equal(full({ path: 'rel-2', base: ['tmp', 'osn', 'd'] }), '/tmp/osn/d/rel-2');
  assert.equal(full({ path: './x', base: [] }), '/./x'); // the cwd is /
  assert.equal(full({ path: '/etc/hosts', base: ['ignored'] }), '/etc/hosts');
  assert.equal(full({ path: 'd-3', status: BASE_UNKNOWN }), 'd-3');
  assert.equal(full({ path: 'deep', base: ['a', 'b'], status: BASE_CUT }), '.../a/b/deep');
});

test('newlines in a path are escaped so that one open is one line', () => {
  const ev = decodeOpenRecord(record({ path: 'two\nlines' }));
  assert.equal(rowLine(ev, {}, ''), '4242   cat                 3   0 two\\nlines');
});

test('TIME(s) is seconds since the first event with nine decimals', () => {
  assert.equal(secondsSince(5_000_000_000n, 5_000_000_000n), '0.000000000');
  assert.equal(secondsSince(6_234_567_891n, 5_000_000_000n), '1.234567891');
});

test('--json has every field, errno by name, the full path with -F and the given one beside it', () => {
  const ev = decodeOpenRecord(record({ pid: 5, ret: -2, path: 'x', base: ['tmp'], flags: 0o100, mode: 0o644, dirfd: -100, syscall: 0 }));
  assert.deepEqual(JSON.parse(jsonLine(ev, '0.5', true)), {
    timestamp: 0.5, pid: 5, tid: 5, uid: 0, comm: 'cat', fd: -1, err: 2, errno: 'ENOENT', flags: 0o100, mode: 0o644,
    syscall: 'open', dirfd: -100, path: '/tmp/x', path_as_given: 'x',
  });
  assert.equal(JSON.parse(jsonLine(decodeOpenRecord(record({ path: 'y', base: ['tmp'] })), '0', false)).path, 'y');
});

test('-f takes the O_ names bcc takes (O_RDONLY is an access mode, not a bit); a bad one is a usage error', () => {
  assert.deepEqual(flagFilter('O_WRONLY'), { mask: 1, rdonly: false });
  assert.deepEqual(flagFilter('O_WRONLY,O_RDWR'), { mask: 3, rdonly: false });
  assert.deepEqual(flagFilter('O_RDONLY'), { mask: 0, rdonly: true });
  assert.equal(OPEN_FLAGS.O_TMPFILE, 0o20200000);
  assert.throws(() => flagFilter('O_BOGUS'), UsageError);
  assert.throws(() => flagFilter('wronly'), UsageError);
});

test('repeated -f are one filter, as bcc\'s argparse appends them', () => {
  assert.deepEqual(parseArgs(spec, ['-f', 'O_WRONLY', '-T', '-f', 'O_RDWR']).flag_filter, { mask: 3, rdonly: false });
  assert.deepEqual(parseArgs(spec, ['--flag_filter=O_CREAT', '-fO_EXCL']).flag_filter, parseArgs(spec, ['-f', 'O_CREAT,O_EXCL']).flag_filter);
  assert.equal(parseArgs(spec, ['-x']).flag_filter, undefined);
});

test('bcc\'s options parse: -b a power of two, -d seconds, -u a name or number, -n a plain substring', () => {
  const o = parseArgs(spec, ['-T', '-U', '-x', '-e', '-F', '-b', '8', '-d', '10', '-u', 'root', '-n', 'ma.n']);
  assert.deepEqual([o.timestamp, o['print-uid'], o.failed, o.extended_fields, o['full-path'], o['buffer-pages'], o.duration, o.uid, o.name],
    [true, true, true, true, true, 8, 10, 0, 'ma.n']);
  assert.throws(() => parseArgs(spec, ['-b', '6']), /power of two/);
  assert.throws(() => parseArgs(spec, ['-d', '0']), UsageError);
});
