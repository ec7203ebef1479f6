// The name tables syscount reads: errno names against this machine's <asm-generic/errno*.h>, and
// the syscall tables' lookups, for this machine's architecture and for arm64 whatever this one is
// (the comparison with the running kernel's tracepoints needs tracefs and lives in
// test/kernel/syscount.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { ERRNO, errnoName, parseErrno } from '../../lib/kernel/errno.ts';
import { ARM64_WANTS, parseGenericUnistd, parseTbl } from '../../scripts/gen-syscalls.ts';
import { haveSyscallTable, syscallByName, syscallByNumber, syscallName, syscalls } from '../../lib/kernel/syscalls.ts';

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

test('arm64 names the generic table\'s numbers as strace does there', () => {
  assert.ok(haveSyscallTable('arm64'));
  assert.ok(!haveSyscallTable('riscv64'));
  const expected: Record<number, string> = {
    25: 'fcntl', 29: 'ioctl', 35: 'unlinkat', 38: 'renameat', 43: 'statfs', 56: 'openat', 57: 'close',
    59: 'pipe2', 62: 'lseek', 63: 'read', 64: 'write', 73: 'ppoll', 79: 'newfstatat', 80: 'fstat',
    93: 'exit', 94: 'exit_group', 139: 'rt_sigreturn', 163: 'getrlimit', 172: 'getpid', 173: 'getppid',
    198: 'socket', 220: 'clone', 221: 'execve', 222: 'mmap', 241: 'perf_event_open', 260: 'wait4',
    280: 'bpf', 281: 'execveat', 425: 'io_uring_setup', 435: 'clone3', 447: 'memfd_secret', 462: 'mseal',
    463: 'setxattrat', 469: 'file_setattr',
  };
  for (const [nr, name] of Object.entries(expected)) assert.equal(syscallName(Number(nr), 'arm64'), name, `arm64 syscall ${nr}`);
  assert.equal(syscallByNumber(80, 'arm64')!.entry, 'newfstat');
  assert.equal(syscallByName('newfstat', 'arm64')!.nr, 80, 'the tracepoint name resolves to the table row');
  assert.equal(syscallByName('umount2', 'arm64')!.entry, 'umount');
  assert.equal(syscallByName('arm64_personality', 'arm64')!.name, 'personality', 'arm64 traces its own personality');
  assert.equal(syscallByNumber(18, 'arm64')!.entry, null, 'lookup_dcookie is reserved, not implemented');
  assert.equal(syscallName(244, 'arm64'), '[unknown: 244]', 'arm64 has no arch-specific syscalls');
  // x86_64's legacy calls, which arm64 never had (the *at and generic ones above serve), and its uprobe.
  for (const name of ['open', 'fork', 'vfork', 'stat', 'lstat', 'newstat', 'poll', 'select', 'pipe', 'dup2', 'uprobe']) {
    assert.equal(syscallByName(name, 'arm64'), undefined, name);
  }
});

test('both tables have one row per number, in order', () => {
  for (const arch of ['x64', 'arm64'] as const) {
    const numbers = syscalls(arch).map((s) => s.nr);
    assert.ok(numbers.length > 300, arch);
    assert.equal(new Set(numbers).size, numbers.length, `${arch}: one row per number`);
    assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b), arch);
  }
});

test('the generator reads asm-generic/unistd.h as a 64-bit arm64 kernel compiles it', () => {
  const header = [
    '#include <asm/bitsperlong.h>',
    '/* a comment: #define __NR_bogus 99 */',
    '#if __BITS_PER_LONG == 32 || defined(__SYSCALL_COMPAT)',
    '#define __SC_3264(_nr, _32, _64) __SYSCALL(_nr, _32)',
    '#endif',
    '#define __NR_io_setup 0',
    '__SC_COMP(__NR_io_setup, sys_io_setup, compat_sys_io_setup)',
    '#define __NR_lookup_dcookie 18',
    '__SYSCALL(__NR_lookup_dcookie, sys_ni_syscall)',
    '#define __NR3264_fcntl 25',
    '__SC_COMP_3264(__NR3264_fcntl, sys_fcntl64, sys_fcntl, \\',
    '\t       compat_sys_fcntl64)',
    '#ifdef __ARCH_WANT_RENAMEAT',
    '#define __NR_renameat 38',
    '__SYSCALL(__NR_renameat, sys_renameat)',
    '#endif /* __ARCH_WANT_RENAMEAT */',
    '#define __NR_umount2 39',
    '__SYSCALL(__NR_umount2, sys_umount)',
    '#if defined(__ARCH_WANT_NEW_STAT) || defined(__ARCH_WANT_STAT64)',
    '#define __NR3264_fstatat 79',
    '__SC_3264(__NR3264_fstatat, sys_fstatat64, sys_newfstatat)',
    '#endif',
    '#ifdef __ARCH_WANT_SYNC_FILE_RANGE2', // arm64 does not define it
    '#define __NR_sync_file_range2 84',
    '__SC_COMP(__NR_sync_file_range2, sys_sync_file_range2, compat_sys_sync_file_range2)',
    '#else',
    '#define __NR_sync_file_range 84',
    '__SC_COMP(__NR_sync_file_range, sys_sync_file_range, compat_sys_sync_file_range)',
    '#endif',
    '#ifdef __ARCH_WANT_SYS_FORK', // nor this: no row, not even a reserved one
    '#define __NR_fork 1079',
    '__SYSCALL(__NR_fork, sys_fork)',
    '#endif',
    '#undef __NR_syscalls',
    '#define __NR_syscalls 85',
    '#if __BITS_PER_LONG == 64 && !defined(__SYSCALL_COMPAT)',
    '#define __NR_fcntl __NR3264_fcntl',
    '#if defined(__ARCH_WANT_NEW_STAT) || defined(__ARCH_WANT_STAT64)',
    '#define __NR_newfstatat __NR3264_fstatat',
    '#endif',
    '#else',
    '#define __NR_fcntl64 __NR3264_fcntl',
    '#define __NR_fstatat64 __NR3264_fstatat',
    '#endif',
  ].join('\n');
  assert.deepEqual(parseGenericUnistd(header, ARM64_WANTS), [
    [0, 'io_setup', 'io_setup'], [18, 'lookup_dcookie', ''], [25, 'fcntl', 'fcntl'], [38, 'renameat', 'renameat'],
    [39, 'umount2', 'umount'], [79, 'newfstatat', 'newfstatat'], [84, 'sync_file_range', 'sync_file_range'],
  ]);
  // Without arm64's #defines, as an architecture that dropped renameat and the old stat calls.
  assert.deepEqual(parseGenericUnistd(header, []).map((r) => r[1]), ['io_setup', 'lookup_dcookie', 'fcntl', 'umount2', 'sync_file_range']);
  assert.throws(() => parseGenericUnistd('#if __ARCH_WANT_X > 1\n#endif', ARM64_WANTS), /cannot evaluate/);
  assert.throws(() => parseGenericUnistd('#elif defined(X)', ARM64_WANTS), /unexpected #elif/);
});

test('this machine\'s <asm-generic/unistd.h>, read as arm64, agrees with the arm64 table', (t) => {
  const file = '/usr/include/asm-generic/unistd.h';
  if (!fs.existsSync(file)) { t.skip('no linux uapi headers (linux-libc-dev) on this machine'); return; }
  // Names and numbers only: an older kernel's header may still implement what ours reserves (lookup_dcookie).
  const rows = parseGenericUnistd(fs.readFileSync(file, 'utf8'), ARM64_WANTS);
  assert.ok(rows.length > 280);
  for (const [nr, name] of rows) assert.equal(syscallName(nr, 'arm64'), name, `${file}: ${nr}`);
});
