// Small C programs whose behaviour is known exactly (N syscalls, N execs, …), built once per run
// with the machine's gcc so that the workload, not Node, is what the probes see.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SOURCE_DIR = path.resolve(import.meta.dirname, '../workloads');
const BUILD_DIR = path.join(os.tmpdir(), `bpfkit-workloads-${process.getuid?.() ?? 0}`);

/**
 * Path to the compiled workload `name` (test/workloads/<name>.c), rebuilt when the source changes.
 * `pkgConfig` names libraries whose compile and link flags pkg-config gives (fileslower's FUSE
 * file system links libfuse3).
 */
export function workload(name: string, pkgConfig: readonly string[] = []): string {
  const src = path.join(SOURCE_DIR, `${name}.c`);
  const bin = path.join(BUILD_DIR, name);
  fs.mkdirSync(BUILD_DIR, { recursive: true });
  if (!fs.existsSync(bin) || fs.statSync(bin).mtimeMs < fs.statSync(src).mtimeMs) {
    const flags = pkgConfig.length === 0 ? []
      : execFileSync('pkg-config', ['--cflags', '--libs', ...pkgConfig], { encoding: 'utf8' }).trim().split(/\s+/);
    execFileSync('gcc', ['-O2', '-o', `${bin}.tmp`, src, ...flags]);
    fs.renameSync(`${bin}.tmp`, bin);
  }
  return bin;
}

export type BurnCpuVariant = 'symtab' | 'stripped';

/**
 * test/workloads/burn-cpu.c built for the profilers' symbol tests, each variant in its own
 * directory: 'symtab' keeps its .symtab; 'stripped' has none (strip --strip-all, burn_cpu is not
 * a dynamic symbol either) and its separate debug file sits in <dir>/.debug/, named by the
 * binary's .gnu_debuglink as gdb and bcc look for it. Both have a build-id, frame pointers, and
 * burn_cpu() kept out of line.
 */
export function burnCpu(variant: BurnCpuVariant): string {
  const src = path.join(SOURCE_DIR, 'burn-cpu.c');
  const dir = path.join(BUILD_DIR, `burn-cpu-${variant}`);
  const bin = path.join(dir, 'burn-cpu');
  if (fs.existsSync(bin) && fs.statSync(bin).mtimeMs >= fs.statSync(src).mtimeMs) return bin;
  // Built in a fresh directory and renamed into place: concurrent test files never see half a build.
  const tmp = fs.mkdtempSync(path.join(BUILD_DIR, `burn-cpu-${variant}-`));
  const out = path.join(tmp, 'burn-cpu');
  execFileSync('gcc', ['-O2', '-g', '-fno-omit-frame-pointer', '-fno-inline', '-Wl,--build-id', '-o', out, src]);
  if (variant === 'stripped') {
    fs.mkdirSync(path.join(tmp, '.debug'));
    const debug = path.join(tmp, '.debug', 'burn-cpu.debug');
    execFileSync('objcopy', ['--only-keep-debug', out, debug]);
    execFileSync('strip', ['--strip-all', out]);
    execFileSync('objcopy', [`--add-gnu-debuglink=${debug}`, out]);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  return bin;
}
