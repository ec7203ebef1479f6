// The edges of a run, through the real commands: output that goes away (`| head -1`) or cannot be
// written (/dev/full), --version, bare `bpfkit`, the kernel headers note said once per kernel, and
// an --exec command's own children ended with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findKernelHeaders, programExists } from 'bcc-node-bindings';
import { REGISTRY } from '../../tools/index.ts';
import { needsBpf, sleep } from '../helpers/kernel.ts';
import { REPO, startTool } from '../helpers/tool.ts';

const BPFKIT = path.join(REPO, 'bin', 'bpfkit.ts');
const command = (name: string) => (name === 'bpfkit' ? BPFKIT : path.join(REPO, 'tools', `${name}.ts`));
const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const COMMANDS = ['bpfkit', ...REGISTRY.map((t) => t.name)];

/** Runs a shell line (bash, with pipefail: the status is the first command's that failed). */
function sh(line: string, env: Record<string, string> = {}) {
  return spawnSync('bash', ['-c', `set -o pipefail; ${line}`], { cwd: REPO, encoding: 'utf8', env: { ...process.env, ...env } });
}

async function programsGone(ids: number[]): Promise<boolean> {
  for (let i = 0; i < 100 && ids.some(programExists); i++) await sleep(20);
  return !ids.some(programExists);
}

// --- item 7: closed and full output ---

test('bpfkit --list | head -1, twenty times: the first tool each time, nothing on stderr, status 0', () => {
  for (let i = 0; i < 20; i++) {
    const run = sh(`${BPFKIT} --list | head -1`);
    assert.equal(run.stderr, '');
    assert.equal(run.status, 0);
    assert.equal(run.stdout, `${REGISTRY[0].name.padEnd(Math.max(...REGISTRY.map((t) => t.name.length)))}  ${REGISTRY[0].summary}\n`);
  }
});

test('bpfkit --list and -h into a pipe already closed: nothing on stderr, status 0', async () => {
  for (const option of ['--list', '-h', '--version']) {
    const child = spawn(BPFKIT, [option], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    // Closed before bpfkit has even started: its write can only fail (EPIPE).
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(stderr, '', option);
    assert.equal(code, 0, option);
  }
});

for (const line of ['bpfkit --list', 'bpfkit -h', 'bpfkit --version', 'execsnoop -h', 'syscount --help', 'tcptop --version', 'exporter -h']) {
  test(`${line} >/dev/full: one line "cannot write output", status 1`, () => {
    const [name, ...args] = line.split(' ');
    const run = sh(`${command(name)} ${args.join(' ')} >/dev/full`);
    assert.equal(run.stderr, `${name}: cannot write output: no space left on device (ENOSPC)\n`);
    assert.equal(run.status, 1);
  });
}

test('syscount --ebpf >/dev/full: one line "cannot write output", status 1 (not a silent 0)', (t) => {
  if (!needsBpf(t)) return;
  const run = sh(`${command('syscount')} --ebpf >/dev/full`);
  assert.equal(run.stderr, 'syscount: cannot write output: no space left on device (ENOSPC)\n');
  assert.equal(run.status, 1);
});

test('a tool\'s data into /dev/full (syscount -i 1 -d 5, execsnoop): one line "cannot write output", status 1', (t) => {
  if (!needsBpf(t)) return;
  // --quiet: on a machine's first run the kernel headers note would be a second line.
  for (const [name, args] of [['syscount', '--quiet -i 1 -d 5'], ['execsnoop', '--quiet']] as const) {
    const run = sh(`${command(name)} ${args} >/dev/full`);
    assert.equal(run.stderr, `${name}: cannot write output: no space left on device (ENOSPC)\n`);
    assert.equal(run.status, 1);
  }
});

test('syscount --ebpf | head -1: the first line, nothing on stderr, status 0', (t) => {
  if (!needsBpf(t)) return;
  const run = sh(`${command('syscount')} --ebpf | head -1`);
  assert.equal(run.stderr, '');
  assert.equal(run.status, 0);
  assert.equal(run.stdout.split('\n').length, 2);
});

test('bare bpfkit >/dev/full: its usage on stderr (nothing written to stdout), status 2', () => {
  const run = sh(`${BPFKIT} >/dev/full`);
  assert.match(run.stderr, /^usage: bpfkit /);
  assert.equal(run.stderr.split('\n').length, 2);
  assert.equal(run.status, 2);
});

test('execsnoop | head -1 with execs going on: status 0 once head has gone, every probe detached', async (t) => {
  if (!needsBpf(t)) return;
  const child = spawn('bash', ['-c', 'set -o pipefail; "$0" --explain | head -1', command('execsnoop')], {
    cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BPFKIT_READY: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let code: number | null | undefined;
  void exited.then((c) => { code = c; });
  try {
    while (!stderr.includes('execsnoop: ready\n') && code === undefined) await sleep(20);
    assert.equal(code, undefined, stderr);
    const ids = [...stderr.matchAll(/^ {2}program id (\d+) /gm)].map((m) => Number(m[1]));
    assert.ok(ids.length > 0, stderr);
    // Execs to report: the first line head takes, the next one finds the pipe closed.
    for (let i = 0; i < 500 && code === undefined; i++) {
      spawnSync('/bin/true');
      await sleep(10);
    }
    assert.equal(await exited, 0, stderr);
    assert.equal(stdout.split('\n').length, 2, stdout);
    assert.doesNotMatch(stderr, /EPIPE|Error|^\s+at /m);
    assert.ok(await programsGone(ids), 'programs still loaded after the pipe closed');
  } finally {
    if (code === undefined) child.kill('SIGKILL');
  }
});

// --- item 10: --version, bare bpfkit ---

for (const name of COMMANDS) {
  test(`${name} --version prints "${name} (bpfkit) <version>" and exits 0`, () => {
    const run = spawnSync(command(name), ['--version'], { cwd: os.tmpdir(), encoding: 'utf8' });
    assert.equal(run.stdout, `${name} (bpfkit) ${VERSION}\n`);
    assert.equal(run.stderr, '');
    assert.equal(run.status, 0);
  });
}

test('bare bpfkit: usage on stderr, nothing on stdout, status 2; bpfkit -h: usage on stdout, status 0', () => {
  const bare = spawnSync(BPFKIT, [], { encoding: 'utf8' });
  assert.equal(bare.stdout, '');
  assert.match(bare.stderr, /^usage: bpfkit /);
  assert.equal(bare.status, 2);
  const help = spawnSync(BPFKIT, ['-h'], { encoding: 'utf8' });
  assert.equal(help.stdout, bare.stderr);
  assert.equal(help.stderr, '');
  assert.equal(help.status, 0);
});

// --- item 9: the kernel headers note ---

test('the kernel headers note: once per kernel, again with --explain, never with --quiet/-q, one line under 120 characters', async (t) => {
  if (!needsBpf(t)) return;
  // A cache of our own, so "once" starts now; the headers found by `make deps` stay reachable.
  const realCache = process.env.BPFKIT_CACHE_DIR ?? '/var/cache/bpfkit';
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'bpfkit-note-'));
  t.after(() => fs.rmSync(cache, { recursive: true, force: true }));
  fs.symlinkSync(path.join(realCache, 'kernel-headers'), path.join(cache, 'kernel-headers'));
  const env = {
    BPFKIT_CACHE_DIR: cache,
    BPFKIT_COMPILE_CACHE_DIR: process.env.BPFKIT_COMPILE_CACHE_DIR ?? path.join(realCache, 'compile'),
  };
  const notes = async (tool: string, args: string[]) => {
    const run = startTool(tool, args, { env });
    try {
      await run.ready;
      await run.stop('SIGINT');
    } finally {
      await run.stop('SIGKILL');
    }
    return run.stderr.split('\n').filter((l) => l.includes('note:'));
  };

  const headers = findKernelHeaders();
  assert.ok(headers);
  if (headers.exact) {
    // Headers of the running kernel: nothing to say, ever.
    assert.deepEqual(await notes('syscount', ['--explain']), []);
    return;
  }
  const first = await notes('syscount', []);
  assert.equal(first.length, 1);
  assert.match(first[0], new RegExp(`^syscount: note: headers ${literal(headers.release)} on kernel ${literal(os.release())} `));
  assert.ok(first[0].length < 120, `${first[0].length} characters: ${first[0]}`);
  assert.deepEqual(await notes('syscount', []), [], 'said twice for the same kernel');
  assert.deepEqual(await notes('execsnoop', []), [], 'said again by another tool');
  assert.deepEqual(await notes('syscount', ['--explain']), [first[0]]);
  assert.deepEqual(await notes('syscount', ['-q', '--explain']), []);
  // execsnoop's -q is bcc's --quote: there only the long form is --quiet.
  assert.deepEqual(await notes('execsnoop', ['--quiet', '--explain']), []);

  // A fresh cache (another kernel, or the first run after `make deps`): said once more.
  fs.rmSync(path.join(cache, 'notes'), { recursive: true, force: true });
  assert.deepEqual(await notes('execsnoop', []), [first[0].replace(/^syscount:/, 'execsnoop:')]);
});

function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// --- item 2: an --exec command's own children ---

test('syscount --exec: SIGTERM ends the command\'s own children too (its process group), and exits with its status', async (t) => {
  if (!needsBpf(t)) return;
  const run = startTool('syscount', ['--exec', 'sh', '-c', 'sleep 311 & echo $!; wait']);
  try {
    await run.ready;
    assert.ok(await run.waitForOutput(/^\d+$/m), run.stdout);
    const grandchild = Number(/^(\d+)$/m.exec(run.stdout)![1]);
    const shell = Number(fs.readFileSync(`/proc/${grandchild}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
    assert.equal(await run.stop('SIGTERM'), 143, run.stderr);
    for (const pid of [shell, grandchild]) {
      for (let i = 0; i < 100 && fs.existsSync(`/proc/${pid}`) && !isZombie(pid); i++) await sleep(20);
      assert.ok(!fs.existsSync(`/proc/${pid}`) || isZombie(pid), `PID ${pid} outlived syscount`);
    }
  } finally {
    await run.stop('SIGKILL');
  }
});

function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}
