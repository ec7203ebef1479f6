// The symboliser's text formats: perf map files, /proc/PID/maps lines, and frames printed as
// bcc's BPF.sym() / ksym() print them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFrame, parsePerfMap, parseMaps, demangle } from '../../lib/bcc-node-bindings/src/index.ts';

test('perf map: hex start and size, the rest of the line is the name (spaces and all)', () => {
  const table = parsePerfMap([
    '3ef4b2c0a0e0 1a4 LazyCompile:~fib /tmp/x.js:3',
    '0x3ef4b2c0b000 0x20 Builtin:ArgumentsAdaptorTrampoline',
    'garbage line',
    '3ef4b2c0c000 0 zero-sized entries name nothing',
    '',
  ].join('\n'));
  assert.deepEqual(table.lookup(0x3ef4b2c0a0e0), { name: 'LazyCompile:~fib /tmp/x.js:3', offset: 0 });
  assert.deepEqual(table.lookup(0x3ef4b2c0a0e0 + 0x1a3), { name: 'LazyCompile:~fib /tmp/x.js:3', offset: 0x1a3 });
  assert.equal(table.lookup(0x3ef4b2c0a0e0 + 0x1a4), null);
  assert.deepEqual(table.lookup(0x3ef4b2c0b010), { name: 'Builtin:ArgumentsAdaptorTrampoline', offset: 0x10 });
  assert.equal(table.lookup(0x3ef4b2c0c000), null);
  assert.equal(table.size, 2);
});

test('perf map: a later line for the same address wins (the JIT reused the memory)', () => {
  const table = parsePerfMap('1000 100 LazyCompile:~old /a.js:1\n1000 80 LazyCompile:*new /a.js:1\n');
  assert.deepEqual(table.lookup(0x1010), { name: 'LazyCompile:*new /a.js:1', offset: 0x10 });
});

test('/proc/PID/maps: executable mappings only, paths with spaces, "(deleted)" noted and removed', () => {
  const maps = parseMaps([
    '55d0c0a00000-55d0c0a01000 r--p 00000000 fe:00 131 /usr/bin/prog',
    '55d0c0a01000-55d0c0a02000 r-xp 00001000 fe:00 131 /usr/bin/prog',
    '7f0000000000-7f0000001000 r-xp 00002000 fe:00 77                         /opt/my app/lib x.so (deleted)',
    '7f1000000000-7f1000002000 r-xp 00000000 00:00 0 ',
    '7ffd1c1f0000-7ffd1c1f2000 r-xp 00000000 00:00 0                          [vdso]',
  ].join('\n'));
  assert.deepEqual(maps, [
    { start: 0x55d0c0a01000, end: 0x55d0c0a02000, offset: 0x1000, inode: 131, path: '/usr/bin/prog', deleted: false },
    { start: 0x7f0000000000, end: 0x7f0000001000, offset: 0x2000, inode: 77, path: '/opt/my app/lib x.so', deleted: true },
    { start: 0x7f1000000000, end: 0x7f1000002000, offset: 0, inode: 0, path: '', deleted: false },
    { start: 0x7ffd1c1f0000, end: 0x7ffd1c1f2000, offset: 0, inode: 0, path: '[vdso]', deleted: false },
  ]);
});

test("formatFrame prints bcc's forms", () => {
  const frame = { addr: 0x1234n, name: 'burn_cpu', offset: 0x1a, module: '/tmp/w/burn-cpu' };
  assert.equal(formatFrame(frame), 'burn_cpu');
  assert.equal(formatFrame(frame, { offset: true }), 'burn_cpu+0x1a');
  assert.equal(formatFrame(frame, { module: true }), 'burn_cpu [burn-cpu]');
  assert.equal(formatFrame(frame, { offset: true, module: true }), 'burn_cpu+0x1a [burn-cpu]');
  const unknown = { addr: 0x9n, name: null, offset: 0, module: '/usr/lib/x86_64-linux-gnu/libc.so.6' };
  assert.equal(formatFrame(unknown), '[unknown]');
  assert.equal(formatFrame(unknown, { offset: true }), '[unknown]');
  assert.equal(formatFrame(unknown, { module: true }), '[unknown] [libc.so.6]');
  assert.equal(formatFrame({ addr: 1n, name: null, offset: 0 }, { module: true }), '[unknown]');
  assert.equal(formatFrame({ addr: 1n, name: 'LazyCompile:~fib /x.js:3', offset: 4, module: '[perf-map]' }, { module: true }),
    'LazyCompile:~fib /x.js:3 [perf-map]');
  // A kernel module's frame, as ksym(addr, show_module=True) prints it.
  assert.equal(formatFrame({ addr: 2n, name: 'nft_do_chain', offset: 0x1a, module: 'nf_tables' }, { offset: true, module: true }),
    'nft_do_chain+0x1a [nf_tables]');
});

test('demangling: C++ through __cxa_demangle, Rust legacy without its hash, plain C names untouched', () => {
  assert.equal(demangle('_ZN4demo5Klass6methodEi'), 'demo::Klass::method(int)');
  assert.equal(demangle('_ZN4core3fmt5write17h0123456789abcdefE'), 'core::fmt::write');
  assert.equal(demangle('burn_cpu'), null);
  assert.equal(demangle('_Znot-valid'), null);
});
