// execsnoop's user-space half without a kernel: records as tools/execsnoop/execsnoop.bpf.c lays them out,
// decoded and printed in bcc's columns, widths, quoting and truncation marks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import {
  ARGSIZE, RECORD_HEADER_SIZE, argsLine, argsText, decodeExecRecord, headerLine, jsonLine, rowLine,
} from '../../tools/execsnoop/events.ts';
import { cgroupV2Path } from '../../lib/kernel/cgroups.ts';
import { UsageError } from '../../lib/run/cli.ts';

interface RecordFields {
  pid?: number; ppid?: number; uid?: number; ret?: number; cpu?: number; comm?: string; pcomm?: string;
  /** filename, then argv[0], argv[1], … (each NUL-terminated unless `cut`) */
  strings: string[];
  /** successes: the real argument area size (defaults to what is in the record) */
  areaLen?: number;
  flags?: number;
  /** leave the last string without its NUL, as when the kernel's copy stopped inside it */
  cut?: boolean;
}

/** A record exactly as struct exec_event is laid out, with only `data_len` bytes of data. */
function record(f: RecordFields): Buffer {
  const parts = f.strings.map((s, i) => (f.cut && i === f.strings.length - 1 ? Buffer.from(s) : Buffer.from(`${s}\0`)));
  const data = Buffer.concat(parts);
  const buf = Buffer.alloc(RECORD_HEADER_SIZE + data.length);
  buf.writeBigUInt64LE(5_000_000_000n, 0);
  buf.writeUInt32LE(f.pid ?? 4242, 8);
  buf.writeUInt32LE(f.ppid ?? 4241, 12);
  buf.writeUInt32LE(f.uid ?? 0, 16);
  buf.writeInt32LE(f.ret ?? 0, 20);
  buf.writeUInt32LE(f.cpu ?? 1, 24);
  buf.writeUInt32LE(data.length, 28);
  buf.writeUInt32LE(f.areaLen ?? (data.length - parts[0].length), 32);
  buf.writeUInt32LE(f.flags ?? 0, 36);
  buf.write(f.comm ?? 'echo', 40, 15);
  buf.write(f.pcomm ?? 'bash', 56, 15);
  data.copy(buf, RECORD_HEADER_SIZE);
  return buf;
}

const echo = (...args: string[]) => record({ strings: ['/bin/echo', 'echo', ...args] });

test('the header has bcc columns and widths, optional ones in bcc order', () => {
  assert.equal(headerLine({}), 'COMM             PID     PPID    RET ARGS');
  assert.equal(headerLine({ time: true, timestamp: true, printUid: true, printPcomm: true, printCpu: true }),
    'TIME     TIME(s) UID   COMM             PID     PCOMM            PPID    CPU  RET ARGS');
  assert.equal(headerLine({ printUid: true }), 'UID   COMM             PID     PPID    RET ARGS');
});

test('a row is printf("%-16s %-7d %-7s %3d %s") as bcc prints it, with the optional columns', () => {
  const ev = decodeExecRecord(record({ strings: ['/bin/ls', 'ls', '-l'], pid: 171335, ppid: 133702, uid: 1000, cpu: 3, comm: 'ls', pcomm: 'bash' }), 20);
  assert.equal(rowLine(ev, {}, '', ''), 'ls               171335  133702    0 /bin/ls -l');
  assert.equal(rowLine(ev, { time: true, timestamp: true, printUid: true, printPcomm: true, printCpu: true }, '14:08:23', '2.849'),
    '14:08:23 2.849   1000  ls               171335  bash             133702  3      0 /bin/ls -l');
  const failed = decodeExecRecord(record({ strings: ['/usr/local/bin/setuidgid', 'setuidgid', 'nobody'], ret: -2, comm: 'run' }), 20);
  assert.equal(rowLine(failed, {}, '', ''), 'run              4242    4241     -2 /usr/local/bin/setuidgid nobody');
});

test('the file name replaces argv[0], as bcc shows it', () => {
  const ev = decodeExecRecord(record({ strings: ['/usr/bin/python3', 'python3', 'x.py'] }), 20);
  assert.deepEqual(ev.args, ['/usr/bin/python3', 'x.py']);
  assert.equal(ev.truncated, false);
});

test('exactly --max-args arguments print without "...", one more prints "..."', () => {
  const nineteen = Array.from({ length: 19 }, (_, i) => `a${i + 1}`);
  const exactly = decodeExecRecord(echo(...nineteen), 20);     // argc 20: the file name + 19
  assert.equal(exactly.truncated, false);
  assert.equal(argsText(exactly), `/bin/echo ${nineteen.join(' ')}`);
  const more = decodeExecRecord(echo(...nineteen, 'a20'), 20); // argc 21
  assert.equal(more.truncated, true);
  assert.equal(argsText(more), `/bin/echo ${nineteen.join(' ')} ...`);
  assert.equal(argsText(decodeExecRecord(echo('a1', 'a2', 'a3'), 3)), '/bin/echo a1 a2 ...');
  assert.equal(argsText(decodeExecRecord(echo('a1', 'a2'), 3)), '/bin/echo a1 a2');
});

test('a failed exec with more arguments than --max-args is marked by the kernel flag', () => {
  const ev = decodeExecRecord(record({ strings: ['/nope', 'nope', 'a1', 'a2'], ret: -2, flags: 1, areaLen: 0 }), 3);
  assert.equal(argsText(ev), '/nope a1 a2 ...');
});

test('an argument longer than 128 bytes is cut there, at a character boundary, and marked', () => {
  const long = 'x'.repeat(200);
  assert.deepEqual(decodeExecRecord(echo(long), 20).args, ['/bin/echo', `${'x'.repeat(ARGSIZE)}...`]);
  assert.deepEqual(decodeExecRecord(echo('y'.repeat(ARGSIZE)), 20).args, ['/bin/echo', 'y'.repeat(ARGSIZE)]);
  // 127 ASCII bytes then "é" (2 bytes): byte 128 would split the character, so the cut comes before it.
  const split = `${'z'.repeat(127)}éé`;
  assert.equal(decodeExecRecord(echo(split), 20).args[1], `${'z'.repeat(127)}...`);
});

test('an argument area larger than the kernel copied is marked as cut', () => {
  const ev = decodeExecRecord(record({ strings: ['/bin/echo', 'echo', 'a1', 'par'], cut: true, areaLen: 9000 }), 20);
  assert.deepEqual(ev.args, ['/bin/echo', 'a1', 'par...']);
  assert.equal(ev.truncated, true);
  assert.equal(argsText(ev), '/bin/echo a1 par... ...');
});

test('spaces, quotes, unicode and empty strings survive; -q quotes each as bcc does', () => {
  const ev = decodeExecRecord(echo('a b', 'say "hi"', 'ünïcødé ✓', '', 'end'), 20);
  assert.deepEqual(ev.args, ['/bin/echo', 'a b', 'say "hi"', 'ünïcødé ✓', '', 'end']);
  assert.equal(argsText(ev), '/bin/echo a b say "hi" ünïcødé ✓  end');
  assert.equal(argsText(ev, true), '"/bin/echo" "a b" "say \\"hi\\"" "ünïcødé ✓" "" "end"');
});

test('newlines print as \\n; the trailing "..." stays unquoted with -q', () => {
  assert.equal(argsText(decodeExecRecord(echo('two\nlines'), 20)), '/bin/echo two\\nlines');
  assert.equal(argsText(decodeExecRecord(echo('a', 'b', 'c'), 3), true), '"/bin/echo" "a" "b" ...');
});

test('-l matches the space-joined arguments before quoting, with the "..." bcc includes', () => {
  assert.equal(argsLine(decodeExecRecord(echo('a b', 'c', 'd'), 3)), '/bin/echo a b c ...');
});

test('comm and pcomm stop at their NUL', () => {
  const ev = decodeExecRecord(record({ strings: ['/bin/true', 'true'], comm: 'true', pcomm: 'make' }), 20);
  assert.equal(ev.comm, 'true');
  assert.equal(ev.pcomm, 'make');
});

test('--json carries the text columns as fields', () => {
  const ev = decodeExecRecord(record({ strings: ['/bin/ls', 'ls', 'a b'], pid: 7, ppid: 1, uid: 1000, cpu: 0, ret: 0, comm: 'ls', pcomm: 'sh' }), 20);
  assert.deepEqual(JSON.parse(jsonLine(ev, '10:11:12', '1.500')), {
    time: '10:11:12', timestamp: 1.5, uid: 1000, comm: 'ls', pid: 7, pcomm: 'sh', ppid: 1, cpu: 0, ret: 0,
    args: ['/bin/ls', 'a b'], args_truncated: false,
  });
});

test('--cgroup refuses what is not a cgroup v2 directory', () => {
  assert.throws(() => cgroupV2Path(os.tmpdir()), (err: unknown) => err instanceof UsageError && /cgroup v2|no cgroup v2/.test(err.message));
  assert.throws(() => cgroupV2Path('/no/such/cgroup'), UsageError);
});
