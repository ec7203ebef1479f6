// What the running kernel offers, probed rather than guessed from its version: distributions
// backport features and disable others (this VM's 6.18 has no kprobes, and refuses fentry with
// EPERM). Probes go through libbpf with two-instruction programs, so they cost a millisecond and
// never load LLVM. Results are cached for the life of the process.
//
// "Absent" and "not allowed to look" are different answers: tracefs is root's only and bpf() is
// refused to other users, so to them every feature would look missing and a tool would blame
// the kernel. A probe refused (EACCES/EPERM) to a non-root process throws NOT_ROOT instead.
import koffi from 'koffi';
import { libbpf } from './ffi/libbpf.ts';
import { kernelBtf } from './btf.ts';
import { libc } from './ffi/libc.ts';
import { ensureTracefs, existsOrDenied, isRoot, notAllowed, tracefsPath } from './kernel.ts';
import { BpfError, EACCES, ENOENT, EPERM, errnoText, isBpfError } from './errors.ts';

export const PROG_TYPE = {
  SOCKET_FILTER: 1, KPROBE: 2, TRACEPOINT: 5, XDP: 6, PERF_EVENT: 7, RAW_TRACEPOINT: 17, TRACING: 26, LSM: 29,
} as const;
export const ATTACH_TYPE = { TRACE_FENTRY: 24, TRACE_FEXIT: 25, LSM_MAC: 27, XDP: 37 } as const;
export const MAP_TYPE = {
  HASH: 1, ARRAY: 2, PROG_ARRAY: 3, PERF_EVENT_ARRAY: 4, PERCPU_HASH: 5, PERCPU_ARRAY: 6,
  STACK_TRACE: 7, CGROUP_ARRAY: 8, LRU_HASH: 9, LRU_PERCPU_HASH: 10, LPM_TRIE: 11,
  QUEUE: 22, STACK: 23, RINGBUF: 27,
} as const;

// r0 = 0; exit
const RETURN_ZERO = Buffer.from([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);

// A refusal is cached too: asking again would be refused again.
const cache = new Map<string, boolean | BpfError>();
function once(name: string, probe: () => boolean): boolean {
  let result = cache.get(name);
  if (result === undefined) {
    try { result = probe(); } catch (err) { result = isBpfError(err, 'NOT_ROOT') ? err : false; }
    cache.set(name, result);
  }
  if (result instanceof BpfError) throw result;
  return result;
}

/** Throws NOT_ROOT when a bpf() call failed only because this process is not root. */
function checkAllowed(errno: number, what: string): void {
  if ((errno === EPERM || errno === EACCES) && !isRoot()) {
    throw notAllowed(what, `the kernel refuses bpf() to non-root users with ${errnoText(errno)}`, errno);
  }
}

/** struct bpf_prog_load_opts as libbpf 1.x lays it out, up to log_buf (sz = 104 is valid for 1.0 and later). */
function progLoadOpts(expectedAttachType: number, attachBtfId: number): Buffer {
  const opts = Buffer.alloc(104);
  opts.writeBigUInt64LE(104n, 0);
  opts.writeUInt32LE(expectedAttachType, 12);
  opts.writeUInt32LE(attachBtfId, 32);
  return opts;
}

/** A file descriptor, or negative when the kernel (or an old libbpf) says no; NOT_ROOT when refused to a non-root user. */
function loadTrivial(progType: number, what: string, opts: Buffer | null = null): number {
  const load = libbpf().prog_load;
  if (!load) return -1;
  const fd = load(progType, 'bpfkit_probe', 'GPL', RETURN_ZERO, 2, opts) as number;
  if (fd < 0) checkAllowed(koffi.errno(), what);
  return fd;
}

function createMap(type: number, keySize: number, valueSize: number, maxEntries: number, what: string): number {
  const create = libbpf().map_create;
  if (!create) return -1;
  const fd = create(type, null, keySize, valueSize, maxEntries, null) as number;
  if (fd < 0) checkAllowed(koffi.errno(), what);
  return fd;
}

export function tracepointExists(category: string, event: string): boolean {
  const what = `looking up tracepoint ${category}:${event}`;
  return existsOrDenied(`${tracefsPath() ?? ensureTracefs(what)}/events/${category}/${event}`, what);
}

export function rawTracepointSupported(): boolean {
  return once('raw_tracepoint', () => {
    const fd = loadTrivial(PROG_TYPE.RAW_TRACEPOINT, 'checking for raw tracepoints');
    if (fd >= 0) libc.close(fd);
    return fd >= 0;
  });
}

/** kprobes exist when the kernel has the kprobe PMU or tracefs' kprobe_events (CONFIG_KPROBES). */
export function kprobesAvailable(): boolean {
  return once('kprobes', () => {
    const what = 'checking for kprobes';
    if (existsOrDenied('/sys/bus/event_source/devices/kprobe/type', what)) return true;
    // Kernels before 4.17 have no kprobe PMU: only tracefs can tell.
    const tracefs = tracefsPath() ?? '/sys/kernel/tracing';
    return existsOrDenied(`${tracefs}/kprobe_events`, what, `tracefs (${tracefs}) is readable by root only`);
  });
}

/**
 * fentry/fexit need BTF, a JIT with trampolines and a kernel that allows them; loading alone can
 * succeed where attaching fails, so the probe attaches a do-nothing program to a function every
 * kernel has, and detaches at once.
 */
export function fentryUsable(): boolean {
  return once('fentry', () => {
    if (!kernelBtfAvailable()) return false;
    const id = kernelBtf().funcId('vfs_read');
    if (id === undefined) return false;
    const fd = loadTrivial(PROG_TYPE.TRACING, 'checking for fentry', progLoadOpts(ATTACH_TYPE.TRACE_FENTRY, id));
    if (fd < 0) return false;
    const link = libbpf().raw_tracepoint_open(null, fd) as number;
    if (link >= 0) libc.close(link);
    libc.close(fd);
    return link >= 0;
  });
}

export function ringBufferSupported(): boolean {
  return once('ringbuf', () => {
    const fd = createMap(MAP_TYPE.RINGBUF, 0, 0, 4096, 'checking for ring buffers');
    if (fd >= 0) libc.close(fd);
    return fd >= 0;
  });
}

/** Batch map operations need kernel 5.6+ (and libbpf 0.0.7+). */
export function batchOpsSupported(): boolean {
  return once('batch', () => {
    const fd = createMap(MAP_TYPE.HASH, 4, 4, 1, 'checking for batch map operations');
    if (fd < 0) return false;
    const token = Buffer.alloc(8);
    const count = Buffer.alloc(4);
    count.writeUInt32LE(1);
    const ret = libbpf().map_lookup_batch(fd, null, token, Buffer.alloc(4), Buffer.alloc(4), count, null) as number;
    const errno = koffi.errno();
    libc.close(fd);
    return ret >= 0 || errno === ENOENT;
  });
}

export function kernelBtfAvailable(): boolean {
  return existsOrDenied('/sys/kernel/btf/vmlinux', 'reading the kernel\'s BTF');
}

/** Everything at once, for `--explain` and bug reports. */
export function probeFeatures(): Record<string, boolean> {
  return {
    tracefs: tracefsPath() !== null,
    rawTracepoint: rawTracepointSupported(),
    kprobes: kprobesAvailable(),
    fentry: fentryUsable(),
    ringBuffer: ringBufferSupported(),
    batchMapOps: batchOpsSupported(),
    kernelBtf: kernelBtfAvailable(),
  };
}
