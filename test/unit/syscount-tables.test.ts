// The name tables syscount reads: errno names against this machine's <asm-generic/errno*.h>, and
// the syscall table's lookups (the comparison with the running kernel's tracepoints needs tracefs
// and lives in test/kernel/syscount.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { ERRNO, errnoName, parseErrno } from '../../lib/errno.ts';
import { parseTbl } from '../../scripts/gen-syscalls.ts';
import { haveSyscallTable, syscallByName, syscallByNumber, syscallName, syscalls } from '../../lib/syscalls.ts';

test('every errno in <asm-generic/errno-base.h> and <asm-generic/errno.h> has its number here', (t) => {
  const files = ['/usr/include/asm-generic/errno-base.h', '/usr/include/asm-generic/errno.h'].filter((f) => fs.existsSync(f));
  if (files.length < 2) { t.skip('no linux uapi headers (linux-libc-dev) on this machine'); return; }
  const defined = new Map<string, string>();
  for (const file of files) {
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/#define\s+(E[A-Z0-9]+)\s+(\w+)/g)) defined.set(m[1], m[2]);
  }
  const resolve = (v: string): number => (/^\d+$/.test(v) ? Number(v) : resolve(defined.get(v)!));
  assert.ok(defined.size > 130);
  for (const [name, value] of defined) assert.equal(ERRNO[name], resolve(value), name);
});

test('-e accepts a name in any case or a number, signed as a syscall returns it', () => {
  assert.equal(parseErrno('ENOENT'), 2);
  assert.equal(parseErrno('enoent'), 2);
  assert.equal(parseErrno('EWOULDBLOCK'), 11);
  assert.equal(parseErrno('ENOTSUP'), 95);
  assert.equal(parseErrno('13'), 13);
  assert.equal(parseErrno('-13'), 13);
  for (const bad of ['EBOGUS', '0', '4096', '', 'E', '1.5']) assert.equal(parseErrno(bad), undefined, bad);
  assert.equal(errnoName(2), 'ENOENT');
  assert.equal(errnoName(41), undefined);
});

test('syscall names: table names, tracepoint names and [unknown: N]', (t) => {
  if (!haveSyscallTable()) { t.skip(`no syscall table for ${process.arch}`); return; }
  assert.equal(syscallName(syscallByName('getppid')!.nr), 'getppid');
  assert.equal(syscallName(100_000), '[unknown: 100000]');
  if (process.arch === 'x64') {
    assert.equal(syscallName(0), 'read');
    assert.equal(syscallName(4), 'stat');
    assert.equal(syscallByName('newstat')!.nr, 4, 'the tracepoint name resolves to the table row');
    assert.equal(syscallByName('umount2')!.entry, 'umount');
    assert.equal(syscallByNumber(134)!.entry, null, 'uselib is reserved, not implemented');
    assert.equal(syscallName(469), 'file_setattr');
  }
  const numbers = syscalls().map((s) => s.nr);
  assert.equal(new Set(numbers).size, numbers.length, 'one row per number');
  assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b));
});

test('the generator reads syscall_64.tbl rows, skipping x32-only ones and marking reserved numbers', () => {
  const tbl = [
    '# comment', '0\tcommon\tread\t\t\tsys_read', '4\tcommon\tstat\t\t\tsys_newstat', '134\t64\tuselib',
    '156\t64\t_sysctl\t\t\tsys_ni_syscall', '512\tx32\trt_sigaction\t\tcompat_sys_rt_sigaction', '',
  ].join('\n');
  assert.deepEqual(parseTbl(tbl), [[0, 'read', 'read'], [4, 'stat', 'newstat'], [134, 'uselib', ''], [156, '_sysctl', '']]);
});
