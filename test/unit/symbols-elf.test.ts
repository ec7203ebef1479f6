// The symboliser's own ELF reader (bcc-node-bindings/src/symbols/) against binaries this test
// builds with gcc/g++: .symtab, separate debug files (debuglink, build-id), MiniDebugInfo, and
// live processes for the load bias of a PIE, a non-PIE executable and a shared library.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Symbolizer, loadObjectFromPath, formatFrame } from '../../lib/bcc-node-bindings/src/index.ts';
import {
  buildDemo, buildCxx, tempDir, strippedWithDebuglink, strippedWithBuildId, withMiniDebugInfo, nmAddress, start,
} from '../fixtures/symbols/build.ts';

const dir = tempDir('elf');
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const demo = buildDemo(dir);
const NO_DEBUG_DIRS: string[] = [];

test('.symtab: a static function is named at its start and inside it, with the offset', () => {
  const obj = loadObjectFromPath(demo.pie, NO_DEBUG_DIRS);
  const at = nmAddress(demo.pie, 'static_worker');
  assert.deepEqual(obj.symbols.lookup(at), { name: 'static_worker', offset: 0 });
  assert.deepEqual(obj.symbols.lookup(at + 3), { name: 'static_worker', offset: 3 });
  assert.deepEqual(obj.sources, ['symtab', 'dynsym']);
});

test('stripped, debug file in .debug/ named by .gnu_debuglink: the static function is named from it', () => {
  const out = path.join(dir, 'debuglink');
  fs.mkdirSync(out);
  const bin = strippedWithDebuglink(demo.pie, out);
  const obj = loadObjectFromPath(bin, NO_DEBUG_DIRS);
  assert.deepEqual(obj.sources, ['debugfile', 'dynsym']);
  assert.deepEqual(obj.symbols.lookup(nmAddress(demo.pie, 'static_worker') + 1), { name: 'static_worker', offset: 1 });
});

test('a debug file of another build under the debuglink name is refused', () => {
  const out = path.join(dir, 'wrong-debuglink');
  fs.mkdirSync(out);
  const bin = strippedWithDebuglink(demo.pie, out);
  // The other build (the non-PIE program) has another build-id: its debug file must not be used.
  const other = path.join(dir, 'other.debug');
  fs.copyFileSync(demo.nopie, other);
  fs.copyFileSync(other, path.join(out, '.debug', 'prog.debug'));
  const obj = loadObjectFromPath(bin, NO_DEBUG_DIRS);
  assert.deepEqual(obj.sources, ['dynsym']);
  assert.equal(obj.symbols.lookup(nmAddress(demo.pie, 'static_worker')), null);
});

test('stripped without debuglink: the debug file is found by build-id under a debug directory', () => {
  const out = path.join(dir, 'buildid');
  const debugDir = path.join(dir, 'debug-root');
  fs.mkdirSync(out);
  const { bin } = strippedWithBuildId(demo.pie, out, debugDir);
  assert.deepEqual(loadObjectFromPath(bin, NO_DEBUG_DIRS).sources, ['dynsym']);
  const obj = loadObjectFromPath(bin, [debugDir]);
  assert.deepEqual(obj.sources, ['debugfile', 'dynsym']);
  assert.equal(obj.symbols.lookup(nmAddress(demo.pie, 'static_worker'))?.name, 'static_worker');
});

test('MiniDebugInfo (.gnu_debugdata, xz) names a static function of a stripped binary', () => {
  const out = path.join(dir, 'mini');
  fs.mkdirSync(out);
  const bin = withMiniDebugInfo(demo.pie, out);
  const obj = loadObjectFromPath(bin, NO_DEBUG_DIRS);
  assert.deepEqual(obj.sources, ['minidebuginfo', 'dynsym']);
  assert.deepEqual(obj.symbols.lookup(nmAddress(demo.pie, 'static_worker') + 2), { name: 'static_worker', offset: 2 });
  // .dynsym still names what it exports.
  assert.equal(obj.symbols.lookup(nmAddress(demo.pie, 'main'))?.name, 'main');
});

test('a shared library: .dynsym alone names its exported function', () => {
  const out = path.join(dir, 'lib-stripped');
  fs.mkdirSync(out);
  const obj = loadObjectFromPath(strippedWithBuildId(demo.lib, out, path.join(dir, 'unused')).bin, NO_DEBUG_DIRS);
  assert.deepEqual(obj.sources, ['dynsym']);
  assert.equal(obj.symbols.lookup(nmAddress(demo.lib, 'lib_function') + 4)?.name, 'lib_function');
});

for (const kind of ['pie', 'nopie'] as const) {
  test(`a live ${kind === 'pie' ? 'PIE' : 'non-PIE'} process: its static function, a shared library's and libc's getpid`, async () => {
    const prog = await start(demo[kind]);
    try {
      const [worker, libFn, getpid] = prog.addrs;
      const frames = new Symbolizer({ debugDirs: NO_DEBUG_DIRS }).user(prog.pid, [worker + 1n, libFn, getpid + 2n, 1n]);
      assert.deepEqual(frames.map((f) => [f.name, f.offset]), [['static_worker', 1], ['lib_function', 0], ['getpid', 2], [null, 0]]);
      assert.equal(frames[0].module, demo[kind]);
      assert.equal(frames[1].module, demo.lib);
      assert.match(frames[2].module ?? '', /\/libc\.so\.6$/);
      assert.equal(frames[3].module, undefined);
      assert.equal(formatFrame(frames[0], { offset: true, module: true }), 'static_worker+0x1 [prog]');
      assert.equal(formatFrame(frames[2], { module: true }), 'getpid [libc.so.6]');
    } finally {
      await prog.stop();
    }
  });
}

test('C++ names are demangled (and kept mangled with demangle: false)', async () => {
  const bin = buildCxx(dir);
  const prog = await start(bin);
  try {
    const [method] = prog.addrs;
    assert.equal(new Symbolizer().user(prog.pid, [method])[0].name, 'demo::Klass::method(int)');
    assert.equal(new Symbolizer({ demangle: false }).user(prog.pid, [method])[0].name, '_ZN4demo5Klass6methodEi');
  } finally {
    await prog.stop();
  }
});

test('a process that exited after remember() still resolves; forget() drops it', async () => {
  const prog = await start(demo.pie);
  const symbols = new Symbolizer({ debugDirs: NO_DEBUG_DIRS });
  symbols.remember(prog.pid);
  const [worker] = prog.addrs;
  await prog.stop();
  assert.equal(symbols.user(prog.pid, [worker])[0].name, 'static_worker');
  symbols.forget(prog.pid);
  assert.deepEqual(symbols.user(prog.pid, [worker]), [{ addr: worker, name: null, offset: 0 }]);
});
