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

export class HeldCommand {
  readonly pid: number;
  /** Resolves with the exit code (128+signal when killed) once the command has ended. */
  readonly exited: Promise<number>;
  private readonly child: ChildProcess;
  private ended = false;

  private constructor(file: string, args: string[]) {
    this.child = childProcess().spawn('/bin/sh', ['-c', HOLD_SCRIPT, 'sh', file, ...args], { stdio: 'inherit' });
    if (this.child.pid === undefined) throw new Error(`could not start ${file}`);
    this.pid = this.child.pid;
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.ended = true;
        resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0));
      });
    });
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
    if (!this.ended) process.kill(this.pid, 'SIGCONT');
  }

  /** Ends the command (used when the tool fails before releasing it). */
  kill(): void {
    if (!this.ended) {
      try { process.kill(this.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  }
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
