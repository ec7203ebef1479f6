// Facts about the running kernel that the binding needs before it compiles anything: where tracefs
// is, which kernel headers libbcc will compile against, and how many CPUs there are.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BpfError } from './errors.ts';
import { childProcess } from './lazy-builtins.ts';

const TRACEFS_CANDIDATES = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

/** The tracefs mount point in use, or null. */
export function tracefsPath(): string | null {
  return TRACEFS_CANDIDATES.find((dir) => fs.existsSync(`${dir}/events`)) ?? null;
}

/**
 * The error for a question this process may not ask: "<what> needs root: <why>; try sudo". A
 * feature probe throws it instead of answering "absent", which would blame the kernel.
 */
export function notAllowed(what: string, why: string, errno?: number): BpfError {
  return new BpfError('NOT_ROOT', `${what} needs root: ${why}; try sudo`, errno === undefined ? {} : { errno });
}

function denied(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EACCES' || code === 'EPERM';
}

/** stat() refused to answer (EACCES/EPERM), rather than said yes or no. */
function refused(file: string): boolean {
  try { fs.statSync(file, { throwIfNoEntry: false }); return false; } catch (err) { return denied(err); }
}

/**
 * Whether `file` exists, as stat() says: false when it does not, NOT_ROOT (naming `what`) when a
 * non-root user may not look. Root refused (by an LSM) is no matter of privilege: absent.
 */
export function existsOrDenied(file: string, what: string, why = `${file} is readable by root only`): boolean {
  try {
    return fs.statSync(file, { throwIfNoEntry: false }) !== undefined;
  } catch (err) {
    if (denied(err) && !isRoot()) throw notAllowed(what, why);
    return false;
  }
}

/**
 * Returns the tracefs mount point, mounting it at /sys/kernel/tracing when it is not mounted (bcc
 * reads tracepoint formats from it while compiling, and fails with a confusing "incomplete
 * definition of type struct tracepoint__…" when it is missing). `what` names the question asked,
 * for the error a non-root user gets: tracefs is mounted root-only (mode 700) by default, so to
 * them it looks absent.
 */
export function ensureTracefs(what = 'tracing'): string {
  const found = tracefsPath();
  if (found) return found;
  if (process.geteuid?.() !== 0) {
    const closed = TRACEFS_CANDIDATES.find((dir) => refused(`${dir}/events`));
    throw notAllowed(what, closed ? `tracefs (${closed}) is readable by root only` : 'tracefs is not mounted and only root can mount it');
  }
  try {
    childProcess().execFileSync('mount', ['-t', 'tracefs', 'tracefs', '/sys/kernel/tracing'], { stdio: 'pipe' });
  } catch (err) {
    throw new BpfError('TRACEFS_MISSING',
      'tracefs is not mounted at /sys/kernel/tracing and mounting it failed: run `mount -t tracefs tracefs /sys/kernel/tracing`',
      { cause: err });
  }
  const mounted = tracefsPath();
  if (!mounted) throw new BpfError('TRACEFS_MISSING', 'tracefs mounted but /sys/kernel/tracing/events is missing');
  return mounted;
}

export interface KernelHeaders {
  /** Where libbcc finds them: the modules tree, the kernel's own kheaders, our cache, or the user's BCC_KERNEL_SOURCE. */
  source: 'modules' | 'kheaders' | 'cache' | 'env';
  path: string;
  /** The release the headers were made for (the running one unless `exact` is false). */
  release: string;
  exact: boolean;
}

/** Where bpfkit keeps what it learns per kernel: headers, compiled programs, BTF answers (BPFKIT_CACHE_DIR). */
export function cacheRoot(): string {
  return process.env.BPFKIT_CACHE_DIR ?? '/var/cache/bpfkit';
}

/**
 * Finds headers the way libbcc would, plus the cache that `make deps` fills with the closest
 * distribution headers when the running kernel has none (see scripts/kernel-headers.sh).
 */
export function findKernelHeaders(release = os.release()): KernelHeaders | null {
  const fromEnv = process.env.BCC_KERNEL_SOURCE;
  if (fromEnv) return { source: 'env', path: fromEnv, release: path.basename(fromEnv), exact: false };
  for (const dir of [`/lib/modules/${release}/build`, `/lib/modules/${release}/source`]) {
    if (fs.existsSync(`${dir}/include/linux/kconfig.h`)) return { source: 'modules', path: dir, release, exact: true };
  }
  if (fs.existsSync('/sys/kernel/kheaders.tar.xz')) {
    return { source: 'kheaders', path: '/sys/kernel/kheaders.tar.xz', release, exact: true };
  }
  const descriptor = path.join(cacheRoot(), 'kernel-headers', `${release}.json`);
  try {
    const d = JSON.parse(fs.readFileSync(descriptor, 'utf8')) as { headers: string; path: string; exact: boolean };
    if (fs.existsSync(`${d.path}/include/linux/kconfig.h`)) {
      return { source: 'cache', path: d.path, release: d.headers, exact: d.exact };
    }
  } catch { /* no descriptor: no cached headers */ }
  return null;
}

/**
 * Makes sure libbcc will find headers (pointing BCC_KERNEL_SOURCE at the cache when needed; Node's
 * process.env writes through to the C environment libbcc reads). Returns what will be used.
 */
export function useKernelHeaders(): KernelHeaders {
  const headers = findKernelHeaders();
  if (!headers) {
    throw new BpfError('HEADERS_MISSING',
      `no kernel headers for ${os.release()}: run \`make deps\` (installs or fetches the closest headers)`);
  }
  if (headers.source === 'cache') process.env.BCC_KERNEL_SOURCE = headers.path;
  return headers;
}

/** One short line naming a headers mismatch (null when they match); when to say it is the caller's choice. */
export function headersMismatchNotice(headers: KernelHeaders): string | null {
  if (headers.exact) return null;
  return `note: headers ${headers.release} on kernel ${os.release()} (results exact: layouts from tracefs, BTF)`;
}

function parseCpuList(text: string): number[] {
  const cpus: number[] = [];
  for (const part of text.trim().split(',')) {
    if (!part) continue;
    const [lo, hi] = part.split('-').map(Number);
    for (let cpu = lo; cpu <= (hi ?? lo); cpu++) cpus.push(cpu);
  }
  return cpus;
}

/** CPUs that may ever exist: per-CPU map values have one slot for each. */
export function possibleCpus(): number[] {
  return parseCpuList(fs.readFileSync('/sys/devices/system/cpu/possible', 'utf8'));
}

/** CPUs online now: perf buffers are opened on each. */
export function onlineCpus(): number[] {
  return parseCpuList(fs.readFileSync('/sys/devices/system/cpu/online', 'utf8'));
}

export function isRoot(): boolean {
  return process.geteuid?.() === 0;
}

export function requireRoot(): void {
  if (!isRoot()) throw new BpfError('NOT_ROOT', 'must run as root (BPF needs CAP_BPF and CAP_PERFMON): try sudo');
}
