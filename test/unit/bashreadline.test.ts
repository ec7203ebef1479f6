// bashreadline's decoding, bcc's columns, the escaping of control characters, --json and -s,
// without a kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, UsageError } from '../../lib/run/cli.ts';
import { COMM_LEN, LINE_EVENT_OFFSETS, decodeLineRecord, escapeLine, headerLine, jsonLine, rowLine, type LineEvent } from '../../tools/bashreadline/events.ts';
import { spec } from '../../tools/bashreadline/options.ts';

/** A record as bashreadline.bpf.c sends it: the fixed part, then the line's bytes and a NUL only. */
function record(fields: { ts?: bigint; pid?: number; uid?: number; flags?: number; comm?: string; line?: string | Buffer }): Buffer {
  const o = LINE_EVENT_OFFSETS;
  const line = Buffer.isBuffer(fields.line) ? fields.line : Buffer.from(fields.line ?? '');
  const buf = Buffer.alloc(o.line + line.length + 1);
  buf.writeBigUInt64LE(fields.ts ?? 0n, o.ts);
  buf.writeUInt32LE(fields.pid ?? 0, o.pid);
  buf.writeUInt32LE(fields.uid ?? 0, o.uid);
  buf.writeUInt32LE(line.length, o.len);
  buf.writeUInt32LE(fields.flags ?? 0, o.flags);
  buf.write(fields.comm ?? '', o.comm, COMM_LEN);
  line.copy(buf, o.line);
  return buf;
}

const typed: LineEvent = { ts: 0n, pid: 21176, uid: 1000, comm: 'bash', line: 'ls -l', truncated: false, unreadable: false };

test('a record decodes field by field: the line is len bytes, UTF-8; flags say truncated or unreadable', () => {
  assert.deepEqual(decodeLineRecord(record({ ts: 5n, pid: 10, uid: 1000, comm: 'bash', line: 'echo héllo' })),
    { ts: 5n, pid: 10, uid: 1000, comm: 'bash', line: 'echo héllo', truncated: false, unreadable: false });
  assert.equal(decodeLineRecord(record({ line: '' })).line, '');
  assert.equal(decodeLineRecord(record({ line: 'x'.repeat(16384), flags: 1 })).truncated, true);
  assert.deepEqual(decodeLineRecord(record({ flags: 2 })), { ts: 0n, pid: 0, uid: 0, comm: '', line: '', truncated: false, unreadable: true });
  // A comm of exactly 16 bytes has no NUL: it ends at the field's end.
  assert.equal(decodeLineRecord(record({ comm: 'x'.repeat(16), line: 'a' })).comm, 'x'.repeat(16));
  // Bytes that are not UTF-8 are shown as U+FFFD, as bcc's decode('utf-8', 'replace').
  assert.equal(decodeLineRecord(record({ line: Buffer.from([0x61, 0xff, 0x62]) })).line, 'a\ufffdb');
  // A len beyond the record (never sent so) reads what is there.
  const short = record({ line: 'abc' });
  short.writeUInt32LE(1000, LINE_EVENT_OFFSETS.len);
  assert.equal(decodeLineRecord(short).line, 'abc\0');
});

test('bcc\'s header and rows: "%-9s %-7s %s", the line after the PID column', () => {
  assert.equal(headerLine(), 'TIME      PID     COMMAND');
  assert.equal(rowLine(typed, '05:28:25'), '05:28:25  21176   ls -l');
  assert.equal(rowLine({ ...typed, pid: 12345678 }, '05:28:25'), '05:28:25  12345678 ls -l');
  assert.equal(rowLine({ ...typed, line: '' }, '05:28:25'), '05:28:25  21176   ');
});

test('control characters in a line are written as escapes: one row per line, nothing for the terminal to act on', () => {
  assert.equal(escapeLine('for i in 1 2\ndo echo $i\ndone'), 'for i in 1 2\\ndo echo $i\\ndone');
  assert.equal(escapeLine('a\tb\rc\x1b[2Jd\x07e\x7f\u009b'), 'a\\tb\\rc\\e[2Jd\\x07e\\x7f\\x9b');
  // Printable text, backslashes and non-ASCII letters are kept as typed.
  assert.equal(escapeLine("printf 'a\\n' | grep -c é"), "printf 'a\\n' | grep -c é");
  assert.equal(rowLine({ ...typed, line: 'echo a\necho b' }, '05:28:25'), '05:28:25  21176   echo a\\necho b');
});

test('--json: time, timestamp, pid, uid, comm and the line as typed; truncated and unreadable only when so', () => {
  assert.deepEqual(JSON.parse(jsonLine({ ...typed, line: 'echo a\necho b' }, '05:28:25', '1.250')),
    { time: '05:28:25', timestamp: 1.25, pid: 21176, uid: 1000, comm: 'bash', line: 'echo a\necho b' });
  const cut = JSON.parse(jsonLine({ ...typed, truncated: true }, '05:28:25', '0.000'));
  assert.equal(cut.truncated, true);
  assert.equal('unreadable' in cut, false);
  assert.equal(JSON.parse(jsonLine({ ...typed, line: '', unreadable: true }, '05:28:25', '0.000')).unreadable, true);
});

test('-s takes an ELF file that can be read; anything else is one clear usage error', () => {
  assert.equal(parseArgs(spec, ['-s', '/bin/bash']).shared, '/bin/bash');
  assert.equal(parseArgs(spec, ['--shared=/bin/bash']).shared, '/bin/bash');
  assert.equal(parseArgs(spec, []).shared, undefined);
  const refused = (argv: string[], pattern: RegExp) => assert.throws(() => parseArgs(spec, argv),
    (err: unknown) => err instanceof UsageError && pattern.test(err.message) && !err.message.includes('\n'));
  refused(['-s', '/nonexistent/libreadline.so'], /^argument -s\/--shared: cannot open "\/nonexistent\/libreadline.so": no such file$/);
  const text = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bashreadline-unit-')), 'libreadline.so');
  fs.writeFileSync(text, 'INPUT(-lreadline)\n');
  refused(['-s', text], /is not an ELF binary or library/);
  fs.rmSync(path.dirname(text), { recursive: true });
  refused(['-s', '/'], /is not a file/);
  refused(['-s'], /needs a value/);
  refused(['readline'], /unexpected argument/);
});
