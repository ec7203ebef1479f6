// The symboliser on live processes, as root: the profilers' burn-cpu workloads (with .symtab, and
// stripped with a debug file), libc, a process in its own mount namespace whose binary exists only
// there, a Node process's JIT code named by its perf map, and a process that exited after
// remember(). Every expected address is computed independently, from nm and /proc/PID/maps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Symbolizer, formatFrame } from '../../lib/bcc-node-bindings/src/index.ts';
import { burnCpu } from '../helpers/workloads.ts';
import { needsBpf, sleep } from '../helpers/kernel.ts';

/** Starts a command and waits for its first stdout line ("ready PID" for burn-cpu). */
async function startReady(cmd: string, args: string[]): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')));
    });
    child.once('exit', (code) => reject(new Error(`${cmd} exited (${code}) before it was ready`)));
  });
  return { child, line };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** Link-time address of a defined symbol, from nm. */
function nmAddress(file: string, name: string, dynamic = false): number {
  const text = execFileSync('nm', [...(dynamic ? ['-D'] : []), '--defined-only', file], { encoding: 'utf8' });
  const line = text.split('\n').find((l) => / [TtWi] /.test(l) && l.split(' ')[2]?.split('@')[0] === name);
  if (!line) throw new Error(`${name} not in ${file}`);
  return Number.parseInt(line.split(' ')[0], 16);
}

/**
 * Where a file's link-time address is in a process: its mapping at file offset 0 is where the
 * first PT_LOAD (vaddr 0 for a PIE or a shared library) was put.
 */
function runtimeAddress(pid: number, fileInMaps: (p: string) => boolean, vaddr: number): bigint {
  for (const line of fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-\S+ \S+ ([0-9a-f]+) \S+ \d+\s+(.*)$/.exec(line);
    if (m && Number.parseInt(m[2], 16) === 0 && fileInMaps(m[3])) return BigInt(Number.parseInt(m[1], 16) + vaddr);
  }
  throw new Error(`no mapping at offset 0 in ${pid}`);
}

function debugFileOf(bin: string): string {
  return path.join(path.dirname(bin), '.debug', 'burn-cpu.debug');
}

for (const variant of ['symtab', 'stripped'] as const) {
  test(`burn-cpu (${variant}): an address inside burn_cpu is "burn_cpu", the module its path`, async (t) => {
    if (!needsBpf(t)) return;
    const bin = burnCpu(variant);
    const { child } = await startReady(bin, ['30']);
    try {
      const vaddr = nmAddress(variant === 'symtab' ? bin : debugFileOf(bin), 'burn_cpu');
      const addr = runtimeAddress(child.pid!, (p) => p === bin, vaddr) + 0x10n;
      const [frame] = new Symbolizer().user(child.pid!, [addr]);
      assert.deepEqual(frame, { addr, name: 'burn_cpu', offset: 0x10, module: bin });
      assert.equal(formatFrame(frame, { offset: true, module: true }), 'burn_cpu+0x10 [burn-cpu]');
    } finally {
      await stop(child);
    }
  });
}

test("libc's getpid in a live process", async (t) => {
  if (!needsBpf(t)) return;
  const { child } = await startReady(burnCpu('symtab'), ['30']);
  try {
    const isLibc = (p: string): boolean => /\/libc\.so\.6$/.test(p);
    const libc = fs.readFileSync(`/proc/${child.pid}/maps`, 'utf8').split('\n').map((l) => l.slice(l.indexOf('/'))).find(isLibc)!;
    const addr = runtimeAddress(child.pid!, isLibc, nmAddress(libc, 'getpid', true));
    const [frame] = new Symbolizer().user(child.pid!, [addr]);
    assert.deepEqual(frame, { addr, name: 'getpid', offset: 0, module: libc });
  } finally {
    await stop(child);
  }
});

test('a process in its own mount namespace is named from its own files (stripped binary and .debug/ only there)', async (t) => {
  if (!needsBpf(t)) return;
  const original = burnCpu('stripped');
  // Seen from the host, the directory is empty: the binary and its debug file exist only on a
  // tmpfs mounted over it inside the new namespace. map_files could reach the binary, but only
  // /proc/PID/root reaches the debug file that names burn_cpu.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpfkit-symbols-mntns-'));
  const bin = path.join(dir, 'burn-cpu');
  const script = `mount -t tmpfs bpfkit-symbols "$1" && mkdir "$1/.debug" && cp "$2" "$1/burn-cpu" && ` +
    `cp "$3" "$1/.debug/burn-cpu.debug" && exec "$1/burn-cpu" 30`;
  const { child } = await startReady('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', dir, original, debugFileOf(original)]);
  try {
    assert.equal(fs.existsSync(bin), false);
    assert.equal(fs.existsSync(`/proc/${child.pid}/root${bin}`), true);
    const addr = runtimeAddress(child.pid!, (p) => p === bin, nmAddress(debugFileOf(original), 'burn_cpu')) + 4n;
    const [frame] = new Symbolizer().user(child.pid!, [addr]);
    assert.deepEqual(frame, { addr, name: 'burn_cpu', offset: 4, module: bin });
  } finally {
    await stop(child);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a Node process run with --perf-basic-prof: its JS function is named from /tmp/perf-PID.map', async (t) => {
  if (!needsBpf(t)) return;
  const program = `
    function bpfkitHotFunction(n) { let s = 0; for (let i = 0; i < n; i++) s += i % 7; return s; }
    console.log('ready ' + process.pid);
    setInterval(() => bpfkitHotFunction(100000), 1);`;
  const { child } = await startReady(process.execPath, ['--perf-basic-prof', '-e', program]);
  const mapFile = `/tmp/perf-${child.pid}.map`;
  try {
    // V8 names a function in the map once it compiles it to machine code: wait for that.
    let entry: RegExpExecArray | null = null;
    for (let i = 0; i < 200 && !entry; i++) {
      const text = fs.existsSync(mapFile) ? fs.readFileSync(mapFile, 'utf8') : '';
      entry = /^([0-9a-f]+) ([0-9a-f]+) (.*bpfkitHotFunction.*)$/m.exec(text);
      if (!entry) await sleep(50);
    }
    assert.ok(entry, 'bpfkitHotFunction appears in the perf map');
    const addr = BigInt(`0x${entry[1]}`) + 1n;
    const [frame] = new Symbolizer().user(child.pid!, [addr]);
    assert.deepEqual(frame, { addr, name: entry[3], offset: 1, module: '[perf-map]' });
  } finally {
    await stop(child);
    fs.rmSync(mapFile, { force: true });
  }
});

test('a process that exited after remember() still resolves', async (t) => {
  if (!needsBpf(t)) return;
  const bin = burnCpu('stripped');
  const { child } = await startReady(bin, ['30']);
  const symbols = new Symbolizer();
  const addr = runtimeAddress(child.pid!, (p) => p === bin, nmAddress(debugFileOf(bin), 'burn_cpu'));
  symbols.remember(child.pid!);
  await stop(child);
  assert.equal(fs.existsSync(`/proc/${child.pid}`), false);
  assert.deepEqual(symbols.user(child.pid!, [addr]), [{ addr, name: 'burn_cpu', offset: 0, module: bin }]);
});

test('kernel addresses: a kallsyms function by name and offset; a user address is unknown', (t) => {
  if (!needsBpf(t)) return;
  const line = /^([0-9a-f]{16}) T schedule$/m.exec(fs.readFileSync('/proc/kallsyms', 'utf8'));
  assert.ok(line, 'schedule is in kallsyms');
  const symbols = new Symbolizer();
  const addr = BigInt(`0x${line[1]}`) + 0x20n;
  assert.deepEqual(symbols.kernel(addr), { addr, name: 'schedule', offset: 0x20 });
  assert.deepEqual(symbols.kernel(0x1000n), { addr: 0x1000n, name: null, offset: 0 });
});
