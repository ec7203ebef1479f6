// Small C programs whose behaviour is known exactly (N syscalls, N execs, …), built once per run
// with the machine's gcc so that the workload, not Node, is what the probes see.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SOURCE_DIR = path.resolve(import.meta.dirname, '../workloads');
const BUILD_DIR = path.join(os.tmpdir(), `bpfkit-workloads-${process.getuid?.() ?? 0}`);

/** Path to the compiled workload `name` (test/workloads/<name>.c), rebuilt when the source changes. */
export function workload(name: string): string {
  const src = path.join(SOURCE_DIR, `${name}.c`);
  const bin = path.join(BUILD_DIR, name);
  fs.mkdirSync(BUILD_DIR, { recursive: true });
  if (!fs.existsSync(bin) || fs.statSync(bin).mtimeMs < fs.statSync(src).mtimeMs) {
    execFileSync('gcc', ['-O2', '-o', `${bin}.tmp`, src]);
    fs.renameSync(`${bin}.tmp`, bin);
  }
  return bin;
}
