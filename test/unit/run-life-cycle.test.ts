// runTool's ways out, proved on a small tool built on it (no BPF, so no root): a command started
// with --exec never outlives the run, whatever ends it; ctx.exitCode is the run's status; output
// that cannot be written ends the run in one line; --version; runs that need no root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from '../helpers/tool.ts';

const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

// World-readable, so that the user `nobody` can run it too; .mts: no package.json here says ESM.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpfkit-run-'));
fs.chmodSync(dir, 0o755);
const FIXTURE = path.join(dir, 'fixture.mts');
fs.writeFileSync(FIXTURE, `
import { runTool } from ${JSON.stringify(path.join(REPO, 'lib/run/tool.ts'))};
import { HeldCommand } from ${JSON.stringify(path.join(REPO, 'lib/run/held-command.ts'))};

const spec = {
  name: 'fixture',
  description: 'a tool that does what --mode says',
  options: [{ long: 'mode', type: 'string', help: 'wait, stream, throw, throw-held, exit-code, end' } as const],
  restAfter: 'exec',
  examples: [['fixture --mode wait', 'waits for Ctrl-C']] as Array<[string, string]>,
  needsRoot: () => process.env.FIXTURE_NEEDS_ROOT === '1',
};

await runTool<{ mode?: string }>(spec, async (ctx) => {
  const mode = ctx.opts.mode;
  const held = ctx.opts.rest.length ? HeldCommand.start(ctx.opts.rest) : null;
  if (held) {
    await held.held();
    if (mode === 'throw-held') {
      process.stderr.write(\`fixture: held \${held.pid}\\n\`);
      throw new Error('failed before the command ran');
    }
    held.release();
    // What a tool with --exec does: the command's status is the run's, and its end ends the run.
    void held.exited.then((code) => { ctx.exitCode = code; ctx.stop(); });
    process.stderr.write(\`fixture: command \${held.pid}\\n\`);
  }
  if (mode === 'wait') {
    await ctx.stopped;
    process.stderr.write('fixture: stopping\\n');
  } else if (mode === 'stream') while (await ctx.sleep(2)) ctx.print('x'.repeat(200));
  else if (mode === 'throw') throw new Error('failed on purpose');
  else if (mode === 'exit-code') ctx.exitCode = 7;
});
`);

/** Commands the fixtures started: killed at the end if a failed test left one running. */
const leftovers = new Set<number>();

interface Run {
  code: Promise<number>;
  ended: boolean;
  stdout: string;
  stderr: string;
  child: ChildProcess;
  /** Resolves with the --exec command's PID once the fixture has released it. */
  command: Promise<number>;
}

function start(args: string[], opts: { stdout?: 'pipe' | number; env?: Record<string, string> } = {}): Run {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...args], {
    cwd: REPO, stdio: ['ignore', opts.stdout ?? 'pipe', 'pipe'], env: { ...process.env, ...opts.env },
  });
  const run = { child, stdout: '', stderr: '' } as Run;
  child.stdout?.setEncoding('utf8').on('data', (d: string) => { run.stdout += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { run.stderr += d; });
  run.code = once(child, 'exit').then(([code, signal]) => {
    run.ended = true;
    return (code ?? `signal ${signal}`) as number;
  });
  run.command = new Promise((resolve, reject) => {
    child.stderr!.on('data', () => {
      const m = /^fixture: command (\d+)$/m.exec(run.stderr);
      if (m) {
        leftovers.add(Number(m[1]));
        resolve(Number(m[1]));
      }
    });
    void run.code.then(() => reject(new Error(`fixture ended before releasing its command:\n${run.stderr}`)));
  });
  run.command.catch(() => {});
  return run;
}

/** Waits until `ready()` holds; fails if the fixture ends first. */
async function until(run: Run, ready: () => boolean): Promise<void> {
  while (!ready()) {
    if (run.ended) throw new Error(`the fixture ended first (status ${await run.code}):\n${run.stderr}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Whether `pid` still runs (a zombie has ended: only its parent's wait is missing). */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Waits (bounded) for processes that were signalled to be gone; true when they are. */
async function gone(pids: number[]): Promise<boolean> {
  for (let i = 0; i < 250 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 20));
  return !pids.some(alive);
}

for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  test(`${signal} to the tool ends its --exec command and the command's own children, and the run exits with the command's status (${status})`, async () => {
    // The shell prints its background child's PID, then waits for it. That child ignores SIGINT
    // (POSIX: a non-interactive shell's background jobs do): it goes once the shell has gone.
    const run = start(['--mode', 'wait', '--exec', 'sh', '-c', 'sleep 301 & echo $!; wait']);
    const pid = await run.command;
    await until(run, () => /^\d+\n/.test(run.stdout));
    const grandchild = Number(run.stdout.trim());
    leftovers.add(grandchild);
    assert.ok(alive(pid) && alive(grandchild));
    run.child.kill(signal);
    assert.equal(await run.code, status, run.stderr);
    assert.ok(await gone([pid, grandchild]), 'the command or its child outlived the tool');
  });
}

test('a run that fails ends its running --exec command and says one line, exit 1', async () => {
  const run = start(['--mode', 'throw', '--exec', 'sleep', '302']);
  const pid = await run.command;
  assert.equal(await run.code, 1);
  assert.equal(run.stderr.replace(/^fixture: command \d+\n/m, ''), 'fixture: failed on purpose\n');
  assert.ok(await gone([pid]));
});

test('a run that fails while its command is still held kills the held command', async () => {
  const run = start(['--mode', 'throw-held', '--exec', 'sleep', '303']);
  assert.equal(await run.code, 1);
  const m = /^fixture: held (\d+)\n/.exec(run.stderr);
  assert.ok(m, run.stderr);
  assert.equal(run.stderr.slice(m[0].length), 'fixture: failed before the command ran\n');
  leftovers.add(Number(m[1]));
  assert.ok(await gone([Number(m[1])]));
});

test('a normal end while the command runs ends it; the run exits with the status the command got', async () => {
  // -mode end: the body returns at once, leaving the command running.
  const run = start(['--mode', 'end', '--exec', 'sleep', '304']);
  const pid = await run.command;
  assert.equal(await run.code, 143, run.stderr);
  assert.ok(await gone([pid]));
});

test('a command that ends on its own gives the run its status', async () => {
  const run = start(['--mode', 'wait', '--exec', 'sh', '-c', 'exit 3']);
  assert.equal(await run.code, 3, run.stderr);
});

test('a command that ignores SIGTERM is killed after the grace period; the run exits 137', async () => {
  const run = start(['--mode', 'wait', '--exec', 'sh', '-c', 'trap "" TERM INT HUP; echo deaf; sleep 305']);
  const pid = await run.command;
  await until(run, () => run.stdout === 'deaf\n');
  run.child.kill('SIGTERM');
  assert.equal(await run.code, 137, run.stderr);
  assert.ok(await gone([pid]));
});

test('a second Ctrl-C while the tool waits for its command ends both at once', async () => {
  const run = start(['--mode', 'wait', '--exec', 'sh', '-c', 'trap "" TERM INT HUP; echo deaf; sleep 306']);
  const pid = await run.command;
  await until(run, () => run.stdout === 'deaf\n');
  run.child.kill('SIGINT');
  // The tool has passed the first one on and waits for its command, which ignores it.
  await until(run, () => run.stderr.includes('fixture: stopping\n'));
  run.child.kill('SIGINT');
  assert.equal(await run.code, 130);
  assert.ok(await gone([pid]));
});

test('ctx.exitCode is the status of a normal end; 0 when unset', async () => {
  assert.equal(await start(['--mode', 'exit-code']).code, 7);
  assert.equal(await start(['--mode', 'end']).code, 0);
});

test('a closed pipe ends the run quietly with 0, and its --exec command with it', async () => {
  const run = start(['--mode', 'stream', '--exec', 'sleep', '307']);
  const pid = await run.command;
  await until(run, () => run.stdout.length > 0);
  run.child.stdout!.destroy();
  assert.equal(await run.code, 0, run.stderr);
  assert.equal(run.stderr.replace(/^fixture: command \d+\n/m, ''), '');
  assert.ok(await gone([pid]));
});

test('events that cannot be written (a full disk) end the run in one line with 1, and its --exec command with it', async () => {
  const full = fs.openSync('/dev/full', 'w');
  const run = start(['--mode', 'stream', '--exec', 'sleep', '308'], { stdout: full });
  fs.closeSync(full);
  const pid = await run.command;
  assert.equal(await run.code, 1);
  assert.equal(run.stderr.replace(/^fixture: command \d+\n/m, ''), 'fixture: cannot write output: no space left on device (ENOSPC)\n');
  assert.ok(await gone([pid]));
});

for (const option of ['--help', '--version']) {
  test(`${option} into a full disk says one line and exits 1; into a closed pipe, nothing and 0`, async () => {
    const full = fs.openSync('/dev/full', 'w');
    const run = start([option], { stdout: full });
    fs.closeSync(full);
    assert.equal(await run.code, 1);
    assert.equal(run.stderr, 'fixture: cannot write output: no space left on device (ENOSPC)\n');

    const piped = start([option]);
    piped.child.stdout!.destroy();
    assert.equal(await piped.code, 0);
    assert.equal(piped.stderr, '');
  });
}

test('--version prints "<name> (bpfkit) <version>" from package.json and exits 0', async () => {
  const run = start(['--version']);
  assert.equal(await run.code, 0);
  assert.equal(run.stdout, `fixture (bpfkit) ${VERSION}\n`);
  assert.equal(run.stderr, '');
});

test('a run the spec says needs no root works for any user; the others still say root is needed (exit 2)', async () => {
  // As root, become nobody; as any other user, that user already lacks root.
  const asUser = (env: Record<string, string>) => spawnSync(
    process.geteuid?.() === 0 ? 'setpriv' : process.execPath,
    [...(process.geteuid?.() === 0 ? ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath] : []),
      '--import', 'tsx', FIXTURE, '--mode', 'exit-code'],
    { cwd: REPO, encoding: 'utf8', env: { ...process.env, ...env } },
  );
  const free = asUser({ FIXTURE_NEEDS_ROOT: '0' });
  assert.equal(free.status, 7, free.stderr);
  assert.equal(free.stderr, '');
  const guarded = asUser({ FIXTURE_NEEDS_ROOT: '1' });
  assert.equal(guarded.status, 2);
  assert.match(guarded.stderr, /^fixture: must run as root/);
  assert.equal(guarded.stderr.split('\n').length, 2);
});

test.after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  for (const pid of leftovers) {
    let cmdline = '';
    try { cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { continue; }
    if (/sleep/.test(cmdline)) process.kill(pid, 'SIGKILL');
  }
});
