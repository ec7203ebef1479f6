// Running a command that is held before it starts, so a tool can attach its probes (and filter on
// the command's PID, which it only knows once the process exists) without missing its first system
// call: the tools' --exec option (bcc's bcc/exec.py holds its child on a pipe for the same purpose).
//
// The child is a shell that stops itself with SIGSTOP and, once continued, replaces itself with the
// command (`exec`). Stopping rather than blocking on a pipe read means nothing of ours runs in the
// child after release: no read() returning, no dup2/close to restore descriptors, just one
// execve(). The command is looked up on PATH here and run by its full path, so the trace does not
// start with a failed execve() per PATH entry (bcc's execvp() shows those); its argv[0] is that
// path. It keeps our stdin, stdout and stderr.
//
// The command never outlives the tool: it leads a session and process group of its own, so that
// whatever it starts can be signalled with it, and every live command is registered here, where
// lib/run/tool.ts ends it on every way a run ends (signals, errors, a closed stdout, a normal end),
// and the process's exit hook SIGKILLs what is left. Its own session also means the terminal's
// Ctrl-C reaches the tool only, which passes the signal on (as `timeout` does, and for the same
// reason: a group of its own); the price is that the command has no controlling terminal (its
// stdin, stdout and stderr still are the terminal, but /dev/tty cannot be opened).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from './cli.ts';

// Loaded when --exec is used: node:child_process adds ~3 ms to every other start.
const requireBuiltin = createRequire(import.meta.url);
const childProcess = () => requireBuiltin('node:child_process') as typeof import('node:child_process');

const HOLD_SCRIPT = 'kill -STOP $$; exec "$@"';
const HOLD_TIMEOUT_MS = 10_000;
/** How long a command may take to end after its signal before it gets SIGKILL (docker stop gives 10 s). */
export const END_GRACE_MS = 5_000;

const live = new Set<HeldCommand>();
let exitHookInstalled = false;

export class HeldCommand {
  readonly pid: number;
  /** Resolves with the exit code (128+signal when killed) once the command has ended. */
  readonly exited: Promise<number>;
  private readonly child: ChildProcess;
  private ended = false;
  private released = false;
  private signalled = false;

  private constructor(file: string, args: string[]) {
    // detached: setsid() in the child, so its PID is also its process group's ID.
    this.child = childProcess().spawn('/bin/sh', ['-c', HOLD_SCRIPT, 'sh', file, ...args], { stdio: 'inherit', detached: true });
    // A failed spawn is reported below (no PID); unheard, its 'error' event would end the tool with a stack trace.
    this.child.on('error', () => {});
    if (this.child.pid === undefined) throw new Error(`could not start ${file}`);
    this.pid = this.child.pid;
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.ended = true;
        live.delete(this);
        // Ended because we signalled it: what it started and left behind goes too (a shell's
        // background jobs ignore SIGINT). The group's ID cannot name another group yet: the
        // kernel frees a PID only once no process uses it as its PID, group or session, and
        // hands PIDs out again only after wrapping around pid_max.
        if (this.signalled) {
          try { process.kill(-this.pid, 'SIGTERM'); } catch { /* nothing left */ }
        }
        resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0));
      });
    });
    live.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', killHeldCommands);
    }
  }

  /** Starts `argv` held (the command name must be found on PATH or be a path that can run). */
  static start(argv: string[]): HeldCommand {
    if (argv.length === 0) throw new UsageError('no command to run');
    const file = findExecutable(argv[0]);
    if (!file) throw new UsageError(`command not found: ${argv[0]}`);
    return new HeldCommand(path.resolve(file), argv.slice(1));
  }

  get hasExited(): boolean {
    return this.ended;
  }

  /** Resolves once the child has stopped itself (it then has not yet run the command). */
  async held(): Promise<void> {
    const deadline = Date.now() + HOLD_TIMEOUT_MS;
    while (!this.ended) {
      if (processState(this.pid) === 'T') return;
      if (Date.now() > deadline) throw new Error(`the command (PID ${this.pid}) did not reach its hold point`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    throw new Error(`the command's launcher (PID ${this.pid}) ended before it could be released`);
  }

  /** Lets the command run. */
  release(): void {
    if (this.ended || this.released) return;
    this.released = true;
    process.kill(this.pid, 'SIGCONT');
  }

  /**
   * Sends `signal` to the command's process group (SIGKILL while it is still held: the command
   * itself has not run yet, only our shell).
   */
  signal(signal: NodeJS.Signals): void {
    // Once ended (and so reaped by Node), its PID may name another process group: leave it alone.
    if (this.ended) return;
    this.signalled = true;
    const sent = this.released ? signal : 'SIGKILL';
    try {
      process.kill(-this.pid, sent);
      // A stopped process acts on nothing but SIGKILL until it is continued.
      if (sent !== 'SIGKILL') process.kill(-this.pid, 'SIGCONT');
    } catch { /* ended meanwhile */ }
  }

  /**
   * Ends the command: `signal` to its group unless it was signalled already, SIGKILL if it is
   * still running after `graceMs`. Resolves with its exit status.
   */
  async end(signal: NodeJS.Signals = 'SIGTERM', graceMs = END_GRACE_MS): Promise<number> {
    if (!this.signalled) this.signal(signal);
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the command and its group at once, without waiting. */
  kill(): void {
    this.signal('SIGKILL');
  }
}

/** Sends `signal` to every command still running (a tool got Ctrl-C: so does its command). */
export function signalHeldCommands(signal: NodeJS.Signals): void {
  for (const command of live) command.signal(signal);
}

/** Ends every command still running (SIGTERM unless signalled already) and waits for each. */
export async function endHeldCommands(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  await Promise.all([...live].map((command) => command.end(signal)));
}

/** SIGKILLs every command still running, for exits that cannot wait. */
export function killHeldCommands(): void {
  for (const command of live) command.kill();
}

/** The state letter of /proc/<pid>/stat (R, S, T, Z, …), or null when the process is gone. */
function processState(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

/** What execvp() would run for `name`, or null. */
export function findExecutable(name: string): string | null {
  const candidates = name.includes('/') ? [name] : (process.env.PATH ?? '/usr/bin:/bin').split(':').map((dir) => path.join(dir || '.', name));
  for (const file of candidates) {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch { /* not here */ }
  }
  return null;
}
