// The workload generators (test/bench/workloads/*.c), built by the bench with gcc into a private
// directory, and run as child processes that time their own work (see workloads/bench.h).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Proc } from './proc.ts';

const SOURCES = path.resolve(import.meta.dirname, '../workloads');

/** Every workload by the name of its source file (workloads/<name>.c → bin.<name>). */
export type WorkloadBinaries = Record<string, string> & {
  getppid: string;
  execloop: string;
  tcpsend: string;
  dio: string;
  /** Static do-nothing program exec'd by execloop; its path marks its execs in tracer output. */
  noop: string;
};

/** Builds every workloads/*.c: a new tool's bench adds its workload there and finds it in bin. */
export function buildWorkloads(dir: string): WorkloadBinaries {
  const build = (name: string, out = name, extra: string[] = []) => {
    const bin = path.join(dir, out);
    execFileSync('gcc', ['-O2', '-Wall', ...extra, '-o', bin, path.join(SOURCES, `${name}.c`)], { stdio: ['ignore', 'ignore', 'pipe'] });
    return bin;
  };
  fs.mkdirSync(dir, { recursive: true });
  const bin: Record<string, string> = {};
  for (const file of fs.readdirSync(SOURCES).filter((f) => f.endsWith('.c')).sort()) {
    const name = file.slice(0, -2);
    // noop is exec'd by execloop: static, so its exec costs no dynamic loading, and named so its path is unmistakable.
    bin[name] = name === 'noop' ? build(name, 'bench-noop', ['-static']) : build(name);
  }
  return bin as WorkloadBinaries;
}

export interface WorkResult {
  ops: number;
  elapsedNs: number;
  nsPerOp: number;
}

/** A workload started in "wait" mode: it is ready (and its PID known) before its work begins. */
export class Work {
  readonly proc: Proc;

  constructor(name: string, file: string, args: string[]) {
    this.proc = new Proc(name, { file, args: [...args, 'wait'] }, 'pipe');
  }

  get pid(): number {
    return this.proc.pid;
  }

  go(): void {
    this.proc.write('go\n');
  }

  /** Waits for the result line (and the exit); throws with the workload's error if it fails. */
  async result(timeoutMs = 600_000): Promise<WorkResult> {
    const line = await this.proc.waitFor(() => /ops=(\d+) elapsed_ns=(\d+) ns_per_op=([\d.]+)/.exec(this.proc.stdout) ?? undefined, timeoutMs);
    if (!line) {
      await this.proc.stop();
      throw new Error(`${this.proc.name} failed: ${this.proc.stderr.trim().split('\n')[0] || 'no result'}`);
    }
    await Promise.race([this.proc.exited, new Promise((r) => setTimeout(r, 5000))]);
    if (this.proc.running) await this.proc.stop();
    return { ops: Number(line[1]), elapsedNs: Number(line[2]), nsPerOp: Number(line[3]) };
  }

  /** Starts the work at once and waits for it: an untraced baseline, or work under a running tracer. */
  async run(): Promise<WorkResult> {
    this.go();
    return this.result();
  }
}
