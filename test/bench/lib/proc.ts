// Processes the bench starts, and what it reads about them from /proc: CPU time, memory, the BPF
// programs they hold. Every process is started here and ended by its PID (SIGINT as Ctrl-C, then
// SIGTERM, then SIGKILL); every PID is remembered so the end of the run can check none is left.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';

/** Every process the bench started (PID → its program and start time), for the final check. */
export const started = new Map<number, { file: string; startTime: string | null }>();
/** The ones not known to have ended: stopped by stopAll() if the bench is interrupted. */
const live = new Set<Proc>();

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop(2000)));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * CPU time of a process, all its threads, in nanoseconds: /proc/PID/task/TID/schedstat gives each
 * thread's time on a CPU in ns (/proc/PID/stat's utime/stime count 10 ms ticks, too coarse for a
 * 30 µs-per-event figure). Threads that already ended are not counted; the tracers' threads live
 * as long as they do. Null when the process is gone.
 */
export function cpuNs(pid: number): number | null {
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  let total = 0;
  for (const tid of tids) {
    try {
      total += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch { /* the thread just ended */ }
  }
  return total;
}

/**
 * When a process started (field 22 of /proc/PID/stat, in clock ticks since boot): with PIDs reused
 * (pid_max is 32768 here and the bench makes thousands of processes), the PID alone says nothing.
 */
export function startTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

export interface Memory {
  /** Resident set size now, MB. */
  rssMB: number;
  /** Peak resident set size so far (VmHWM), MB. */
  peakMB: number;
}

export function memory(pid: number): Memory | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMB: kb('VmRSS') / 1024, peakMB: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** IDs of the BPF programs a process holds (program and link fds): to check later that they are gone. */
export function programIds(pid: number): number[] {
  const ids = new Set<number>();
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fdinfo`);
  } catch {
    return [];
  }
  for (const fd of fds) {
    try {
      const m = /^prog_id:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (m) ids.add(Number(m[1]));
    } catch { /* closed meanwhile */ }
  }
  return [...ids];
}

function withoutVars(env: NodeJS.ProcessEnv, names: string[]): NodeJS.ProcessEnv {
  for (const name of names) delete env[name];
  return env;
}

export interface Command {
  file: string;
  args: string[];
  env?: Record<string, string>;
  /** Variables of the bench's own environment the command runs without. */
  unsetEnv?: string[];
  cwd?: string;
}

export interface Readiness {
  stream: 'stdout' | 'stderr';
  pattern: RegExp;
}

/** A process whose output is collected, which can say when it is ready, and is stopped by PID. */
export class Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  stdout = '';
  stderr = '';
  /** performance.now() at spawn. */
  readonly spawnedAt: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private listeners: Array<() => void> = [];

  constructor(readonly name: string, cmd: Command, stdin: 'pipe' | 'ignore' = 'ignore') {
    this.spawnedAt = performance.now();
    this.child = spawn(cmd.file, cmd.args, {
      cwd: cmd.cwd,
      env: withoutVars({ ...process.env, ...cmd.env }, cmd.unsetEnv ?? []),
      stdio: [stdin, 'pipe', 'pipe'],
    });
    // Listened to first: a file that cannot be run emits 'error' after the throw below.
    this.child.on('error', () => { /* reported through exited, or by the throw */ });
    if (this.child.pid === undefined) throw new Error(`cannot start ${cmd.file}`);
    this.pid = this.child.pid;
    started.set(this.pid, { file: cmd.file, startTime: startTime(this.pid) });
    live.add(this);
    this.exited = once(this.child, 'exit').then(([code, signal]) => {
      live.delete(this);
      return { code, signal };
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => { this.stdout += d; this.notify(); });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => { this.stderr += d; this.notify(); });
    void this.exited.then(() => this.notify());
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** Calls `check` on every output or exit until it returns a value, or the timeout (null). */
  waitFor<T>(check: () => T | undefined, timeoutMs: number): Promise<T | null> {
    return new Promise((resolve) => {
      const done = (value: T | null) => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== listener);
        resolve(value);
      };
      const listener = () => {
        const value = check();
        if (value !== undefined) done(value);
        else if (!this.running) done(null);
      };
      const timer = setTimeout(() => done(check() ?? null), timeoutMs);
      this.listeners.push(listener);
      listener();
    });
  }

  /**
   * Milliseconds from spawn to the readiness line, or an Error (with the first line of what the
   * process printed about its failure) if it exits or times out first.
   */
  async ready(readiness: Readiness, timeoutMs = 60_000): Promise<number | Error> {
    let at = 0;
    const ok = await this.waitFor(() => {
      if (readiness.pattern.test(readiness.stream === 'stdout' ? this.stdout : this.stderr)) {
        at ||= performance.now();
        return true;
      }
      return undefined;
    }, timeoutMs);
    if (ok) return at - this.spawnedAt;
    if (this.running) {
      await this.stop();
      return new Error(`not ready after ${timeoutMs / 1000} s: ${firstErrorLine(this.stderr, this.stdout) || 'no output'}`);
    }
    const { code, signal } = await this.exited;
    return new Error(firstErrorLine(this.stderr, this.stdout) || `exited (${signal ?? code}) without output`);
  }

  /** Ends the process by PID: SIGINT (as Ctrl-C, so it detaches and prints), then harder. */
  async stop(graceMs = 10_000): Promise<void> {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
      if (!this.running) break;
      try { process.kill(this.pid, signal); } catch { break; }
      const ended = await Promise.race([this.exited.then(() => true), sleep(signal === 'SIGKILL' ? 5000 : graceMs).then(() => false)]);
      if (ended) break;
    }
    await Promise.race([this.exited, sleep(1000)]);
  }

  write(line: string): void {
    this.child.stdin?.write(line);
  }

  endInput(): void {
    this.child.stdin?.end();
  }
}

/**
 * The line that says why a tracer failed: a compiler's first "error:" line, else the last line
 * of a Python traceback (the exception), else the first line that looks like an error, else the
 * last line. Warnings, notes and bpftrace's RLIMIT_MEMLOCK complaint (harmless here) are skipped.
 */
export function firstErrorLine(stderr: string, stdout = ''): string {
  const lines = `${stderr}\n${stdout}`.split('\n').map((l) => l.trim()).filter(Boolean)
    .filter((l) => !/warning:|: note:|^note:|RLIMIT_MEMLOCK|^Attaching \d+ probe/.test(l));
  const compiler = lines.find((l) => /:\d+:\d+: (fatal )?error:/.test(l));
  if (compiler) return compiler;
  if (/Traceback \(most recent call last\)/.test(stderr)) {
    const exception = [...lines].reverse().find((l) => /^[\w.]*(Error|Exception)\b.*:/.test(l));
    if (exception) return exception;
  }
  return lines.find((l) => /error|fail|cannot|unable|not found|no such/i.test(l)) ?? lines.at(-1) ?? '';
}
