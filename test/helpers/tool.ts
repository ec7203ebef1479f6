// Running a tool as a user would (a child process from the checkout) and reading what it prints.
// With BPFKIT_READY=1 a tool writes "<tool>: ready" on stderr once its probes are attached, so a
// test starts its workload only then.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { TIME_SCALE } from './guest.ts';

export const REPO = path.resolve(import.meta.dirname, '../..');

export interface ToolRun {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves when the tool's probes are attached. */
  ready: Promise<void>;
  /** Resolves with the exit code (or 128+signal) when it ends. */
  exited: Promise<number>;
  /** Sends a signal (default SIGINT, as Ctrl-C) and waits for the end. */
  stop(signal?: NodeJS.Signals): Promise<number>;
  /** Waits until stdout matches `pattern` (or the tool exits). */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<boolean>;
}

export interface ToolOptions {
  env?: Record<string, string>;
  /** Run as this user id (to test what non-root users see). */
  uid?: number;
}

/**
 * The checkout's tool through tsx, or with BPFKIT_TEST_BUILT=1 (set in `make test-vm` guests) the
 * built package's (dist/, what `npx bpfkit` runs): under emulation tsx's loader costs seconds a start.
 */
function toolCommand(tool: string): string[] {
  if (process.env.BPFKIT_TEST_BUILT === '1') return [path.join(REPO, 'dist', 'tools', tool, `${tool}.js`)];
  return ['--import', 'tsx', path.join(REPO, 'tools', `${tool}.ts`)];
}

export function startTool(tool: string, args: string[], opts: ToolOptions = {}): ToolRun {
  const child = spawn(process.execPath, [...toolCommand(tool), ...args], {
    cwd: REPO,
    env: { ...process.env, BPFKIT_READY: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.uid }),
  });
  const run = { child, stdout: '', stderr: '' } as ToolRun;
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { run.stdout += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { run.stderr += d; });
  // 'close', not 'exit': a child's exit can be seen before the last of its output is read, and a
  // test that reads run.stdout then would miss the final rows.
  run.exited = once(child, 'close').then(([code, signal]) => (code ?? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 9)) as number);
  run.ready = new Promise((resolve, reject) => {
    const check = () => {
      if (run.stderr.includes(`${tool}: ready\n`)) { resolve(); return true; }
      return false;
    };
    child.stderr!.on('data', check);
    void run.exited.then((code) => { if (!check()) reject(new Error(`${tool} exited (${code}) before it was ready:\n${run.stderr}`)); });
  });
  // Runs that end before being ready (bad input, -l) need not await it: no unhandled rejection.
  run.ready.catch(() => {});
  run.stop = async (signal = 'SIGINT') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return run.exited;
  };
  run.waitForOutput = async (pattern, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs * TIME_SCALE;
    while (Date.now() < deadline) {
      if (pattern.test(run.stdout)) return true;
      if (child.exitCode !== null) return pattern.test(run.stdout);
      await new Promise((r) => setTimeout(r, 20));
    }
    return false;
  };
  return run;
}

/** Runs a tool to completion (for options that end on their own, and for bad input). */
export async function runToolToEnd(tool: string, args: string[], opts: ToolOptions & { timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = startTool(tool, args, opts);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), (opts.timeoutMs ?? 60_000) * TIME_SCALE);
  const code = await run.exited;
  clearTimeout(timer);
  return { code, stdout: run.stdout, stderr: run.stderr };
}

/** startTool for one test: the run is killed when the test ends, however it ends. */
export function startInTest(t: { after(fn: () => void): void }, tool: string, args: string[], opts: ToolOptions = {}): ToolRun {
  const run = startTool(tool, args, opts);
  t.after(() => { if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL'); });
  return run;
}

/** Ctrl-C to each run, and each must end with status 0 (rows still buffered are written then). */
export async function stopAll(...runs: ToolRun[]): Promise<void> {
  const codes = await Promise.all(runs.map((r) => r.stop('SIGINT')));
  runs.forEach((r, i) => assert.equal(codes[i], 0, `exit ${codes[i]}; stderr:\n${r.stderr}`));
}
