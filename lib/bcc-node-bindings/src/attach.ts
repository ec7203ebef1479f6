// Attaching loaded programs to kernel events, one function per attach kind. Each returns a Link
// that knows how to undo itself in the order libbcc expects (close the perf event fd first, then
// remove the probe event), so BPF.close() only has to walk its links.
import fs from 'node:fs';
import koffi from 'koffi';
import { libbcc } from './ffi/libbcc.ts';
import { libc, SYS_PERF_EVENT_OPEN } from './ffi/libc.ts';
import { libbpf } from './ffi/libbpf.ts';
import { BpfError, ENOENT, EPERM, errnoText } from './errors.ts';
import { onlineCpus, tracefsPath } from './kernel.ts';
import { kprobesAvailable, tracepointExists } from './features.ts';
import { openUprobeEvent, symbolFileOffset, uprobePmu } from './uprobe.ts';

export type LinkKind = 'tracepoint' | 'raw_tracepoint' | 'kprobe' | 'kretprobe' | 'uprobe' | 'uretprobe' | 'perf_event' | 'kfunc' | 'lsm' | 'xdp' | 'socket_filter';

export interface Link {
  kind: LinkKind;
  /** What it is attached to, as a user would name it: "sched:sched_process_exec", "do_sys_open", "/lib/libc.so.6:malloc". */
  target: string;
  /** The BPF function attached. */
  fnName: string;
  detach(): void;
  /**
   * The same, off the main thread, where the kernel makes detaching wait: closing a tracepoint's
   * perf event waits for an RCU grace period (40-100 ms each here), so several in parallel end in
   * about the time of one.
   */
  detachAsync?(): Promise<void>;
}

function closeOnThreadPool(fd: number): Promise<void> {
  // Settles either way: a close that failed has nothing left to retry.
  return new Promise((resolve) => { libc.close.async(fd, () => resolve()); });
}

function fail(kind: LinkKind, target: string, errno: number): never {
  const what = `${kind} ${target}`;
  if (errno === ENOENT) throw new BpfError('ATTACH_MISSING', `cannot attach ${what}: it does not exist on this kernel`, { errno });
  if (errno === EPERM && process.geteuid?.() !== 0) throw new BpfError('NOT_ROOT', `cannot attach ${what}: must run as root`, { errno });
  throw new BpfError('ATTACH', `cannot attach ${what}: ${errnoText(errno)}`, { errno });
}

export function attachTracepoint(progFd: number, fnName: string, tp: string): Link {
  const [category, event] = splitTracepoint(tp);
  if (!tracepointExists(category, event)) {
    throw new BpfError('ATTACH_MISSING', `tracepoint ${tp} does not exist on this kernel (no ${tracefsPath() ?? 'tracefs'}/events/${category}/${event})`, { errno: ENOENT });
  }
  const fd = openTracepointEvent(category, event);
  if (fd < 0) fail('tracepoint', tp, koffi.errno());
  if ((libc.ioctl(fd, PERF_EVENT_IOC_SET_BPF, 'int', progFd) as number) < 0 ||
      (libc.ioctl(fd, PERF_EVENT_IOC_ENABLE, 'int', 0) as number) < 0) {
    const errno = koffi.errno();
    libc.close(fd);
    fail('tracepoint', tp, errno);
  }
  return { kind: 'tracepoint', target: tp, fnName, detach: () => { libc.close(fd); }, detachAsync: () => closeOnThreadPool(fd) };
}

// A tracepoint program runs from a perf event of type PERF_TYPE_TRACEPOINT whose config is the
// tracepoint's id; attaching is one ioctl. Doing it here rather than through libbcc means a
// program loaded from the cache never loads libbcc (and LLVM with it).
const PERF_TYPE_TRACEPOINT = 2;
const PERF_SAMPLE_RAW = 1 << 10;
const PERF_FLAG_FD_CLOEXEC = 1 << 3;
const PERF_EVENT_IOC_ENABLE = 0x2400;
const PERF_EVENT_IOC_SET_BPF = 0x40042408;
const PERF_ATTR_SIZE = 128;

function openTracepointEvent(category: string, event: string): number {
  const id = Number(fs.readFileSync(`${tracefsPath()}/events/${category}/${event}/id`, 'utf8'));
  const attr = Buffer.alloc(PERF_ATTR_SIZE);
  attr.writeUInt32LE(PERF_TYPE_TRACEPOINT, 0);
  attr.writeUInt32LE(PERF_ATTR_SIZE, 4);
  attr.writeBigUInt64LE(BigInt(id), 8);        // config
  attr.writeBigUInt64LE(1n, 16);               // sample_period
  attr.writeBigUInt64LE(BigInt(PERF_SAMPLE_RAW), 24);
  attr.writeUInt32LE(1, 48);                   // wakeup_events
  // pid -1, cpu 0: a tracepoint program fires on every CPU whichever CPU the event is opened on.
  return Number(libc.syscall(SYS_PERF_EVENT_OPEN, 'void *', attr, 'int', -1, 'int', 0, 'int', -1, 'unsigned long', PERF_FLAG_FD_CLOEXEC));
}

export function splitTracepoint(tp: string): [string, string] {
  const m = /^([A-Za-z0-9_]+):([A-Za-z0-9_]+)$/.exec(tp);
  if (!m) throw new BpfError('INVALID_ARGUMENT', `tracepoint must be "category:event", got ${JSON.stringify(tp)}`);
  return [m[1], m[2]];
}

export function attachRawTracepoint(progFd: number, fnName: string, tp: string): Link {
  if (!/^[A-Za-z0-9_]+$/.test(tp)) throw new BpfError('INVALID_ARGUMENT', `raw tracepoint name must be an identifier, got ${JSON.stringify(tp)}`);
  const fd = libbpf().raw_tracepoint_open(tp, progFd) as number;
  if (fd < 0) fail('raw_tracepoint', tp, koffi.errno());
  return { kind: 'raw_tracepoint', target: tp, fnName, detach: () => { libc.close(fd); } };
}

/** bcc's probe event names: "p_"/"r_" and the function, with characters tracefs rejects replaced. */
function probeEventName(prefix: 'p' | 'r', target: string): string {
  return `${prefix}_${target.replace(/[^A-Za-z0-9_]/g, '_')}_bpfkit_${process.pid}`;
}

export function attachKprobe(progFd: number, fnName: string, event: string, opts: { ret?: boolean; offset?: number; maxActive?: number } = {}): Link {
  const kind: LinkKind = opts.ret ? 'kretprobe' : 'kprobe';
  if (!kprobesAvailable()) {
    throw new BpfError('NOT_SUPPORTED', `cannot attach ${kind} ${event}: this kernel has no kprobes (CONFIG_KPROBES is off); use a tracepoint`);
  }
  if (!/^[A-Za-z0-9_.]+$/.test(event)) throw new BpfError('INVALID_ARGUMENT', `kprobe function name ${JSON.stringify(event)} is not a symbol name`);
  const bcc = libbcc();
  const evName = probeEventName(opts.ret ? 'r' : 'p', event);
  const fd = bcc.attach_kprobe(progFd, opts.ret ? 1 : 0, evName, event, opts.offset ?? 0, opts.maxActive ?? 0) as number;
  if (fd < 0) fail(kind, event, koffi.errno() || ENOENT);
  return {
    kind, target: event, fnName,
    detach: () => { bcc.close_perf_event_fd(fd); bcc.detach_kprobe(evName); },
  };
}

export interface UprobeTarget {
  /** A library name ("c") or a path to a binary or library. */
  name: string;
  /** A symbol in it; or give `addr`. */
  sym?: string;
  addr?: number | bigint;
  symOffset?: number;
  pid?: number;
}

/**
 * Resolves a symbol in a binary or library to a file path and file offset, as bcc does: a path
 * through our own ELF reader (uprobe.ts), a library given by name ("c") through libbcc, which
 * knows the loader's search (ld.so.cache).
 */
export function resolveUprobe(target: UprobeTarget): { path: string; offset: bigint } {
  if (target.name.includes('/')) {
    if (!fs.existsSync(target.name)) throw new BpfError('ATTACH_MISSING', `${target.name} does not exist`);
    let offset: number | null;
    if (target.sym) {
      try {
        offset = symbolFileOffset(target.name, target.sym);
      } catch (err) {
        throw new BpfError('ATTACH_MISSING', `cannot read ${target.name}: ${(err as Error).message}`);
      }
      if (offset === null) throw new BpfError('ATTACH_MISSING', `cannot find symbol ${target.sym} in ${target.name}`);
    } else {
      offset = Number(target.addr ?? 0);
    }
    return { path: target.name, offset: BigInt(offset) + BigInt(target.symOffset ?? 0) };
  }
  const bcc = libbcc();
  const sym: Record<string, unknown> = {};
  const ret = bcc.resolve_symname(target.name, target.sym ?? null, BigInt(target.addr ?? 0), target.pid ?? -1, null, sym) as number;
  if (ret < 0) {
    throw new BpfError('ATTACH_MISSING', `cannot find ${target.sym ? `symbol ${target.sym} in ` : ''}${target.name}`);
  }
  const path = koffi.decode(sym.module, 'char', -1) as string;
  bcc.procutils_free(sym.module);
  return { path, offset: BigInt(sym.offset as number | bigint) + BigInt(target.symOffset ?? 0) };
}

export function attachUprobe(progFd: number, fnName: string, target: UprobeTarget, ret = false): Link {
  const kind: LinkKind = ret ? 'uretprobe' : 'uprobe';
  const { path, offset } = resolveUprobe(target);
  if (!fs.existsSync(path)) throw new BpfError('ATTACH_MISSING', `${kind}: ${path} does not exist`);
  const label = `${path}:${target.sym ?? `0x${offset.toString(16)}`}`;
  const pmu = uprobePmu();
  if (pmu) {
    const fd = openUprobeEvent(pmu, path, offset, ret, target.pid ?? -1);
    if (fd < 0) fail(kind, label, koffi.errno());
    if ((libc.ioctl(fd, PERF_EVENT_IOC_SET_BPF, 'int', progFd) as number) < 0 ||
        (libc.ioctl(fd, PERF_EVENT_IOC_ENABLE, 'int', 0) as number) < 0) {
      const errno = koffi.errno();
      libc.close(fd);
      fail(kind, label, errno);
    }
    return { kind, target: label, fnName, detach: () => { libc.close(fd); }, detachAsync: () => closeOnThreadPool(fd) };
  }
  // Before 4.17 (no uprobe PMU): a tracefs uprobe event, through libbcc.
  const bcc = libbcc();
  const evName = probeEventName(ret ? 'r' : 'p', `${path}_0x${offset.toString(16)}_${target.pid ?? -1}`);
  const fd = bcc.attach_uprobe(progFd, ret ? 1 : 0, evName, path, offset, target.pid ?? -1, 0) as number;
  if (fd < 0) fail(kind, label, koffi.errno());
  return {
    kind, target: label, fnName,
    detach: () => { bcc.close_perf_event_fd(fd); bcc.detach_uprobe(evName); },
  };
}

export interface PerfEventTarget {
  /** PERF_TYPE_HARDWARE 0, PERF_TYPE_SOFTWARE 1, … */
  evType: number;
  evConfig: number;
  samplePeriod?: number;
  sampleFreq?: number;
  pid?: number;
  /** One CPU, or every online CPU when absent. */
  cpu?: number;
}

// A sampling event (cpu-clock, cycles, …) opened here rather than through libbcc's
// bpf_attach_perf_event, for the tracepoints' reason: calling libbcc maps LLVM into the process,
// ~60 MB of RSS for a profiler that only needs one syscall and two ioctls per CPU.
const PERF_ATTR_FREQ = 1n << 10n;

function openSamplingEvent(t: PerfEventTarget, cpu: number): number {
  const attr = Buffer.alloc(PERF_ATTR_SIZE);
  attr.writeUInt32LE(t.evType, 0);
  attr.writeUInt32LE(PERF_ATTR_SIZE, 4);
  attr.writeBigUInt64LE(BigInt(t.evConfig), 8);
  // sample_period and sample_freq share this field; the freq flag says which it is.
  attr.writeBigUInt64LE(BigInt(t.sampleFreq ?? t.samplePeriod ?? 0), 16);
  attr.writeBigUInt64LE(t.sampleFreq ? PERF_ATTR_FREQ : 0n, 40);
  return Number(libc.syscall(SYS_PERF_EVENT_OPEN, 'void *', attr, 'int', t.pid ?? -1, 'int', cpu, 'int', -1, 'unsigned long', PERF_FLAG_FD_CLOEXEC));
}

/**
 * 0 when a sampling event of this type and config opens on this machine (tried on the first online
 * CPU and closed at once), else perf_event_open's errno: a VM has no hardware counters unless its
 * hypervisor passes the PMU through, and no file says so on every architecture.
 */
export function samplingEventErrno(evType: number, evConfig: number): number {
  let cpu = 0;
  try { cpu = onlineCpus()[0] ?? 0; } catch { /* cpu 0 */ }
  const fd = openSamplingEvent({ evType, evConfig, sampleFreq: 49 }, cpu);
  if (fd < 0) return koffi.errno();
  libc.close(fd);
  return 0;
}

export function attachPerfEvent(progFd: number, fnName: string, t: PerfEventTarget): Link {
  if (!t.samplePeriod === !t.sampleFreq) throw new BpfError('INVALID_ARGUMENT', 'perf event needs exactly one of samplePeriod and sampleFreq');
  const fds: number[] = [];
  const label = `type=${t.evType},config=${t.evConfig}`;
  const closeAll = () => { for (const fd of fds) libc.close(fd); };
  for (const cpu of t.cpu === undefined ? onlineCpus() : [t.cpu]) {
    const fd = openSamplingEvent(t, cpu);
    if (fd < 0) {
      const errno = koffi.errno();
      closeAll();
      fail('perf_event', label, errno);
    }
    fds.push(fd);
    if ((libc.ioctl(fd, PERF_EVENT_IOC_SET_BPF, 'int', progFd) as number) < 0 ||
        (libc.ioctl(fd, PERF_EVENT_IOC_ENABLE, 'int', 0) as number) < 0) {
      const errno = koffi.errno();
      closeAll();
      fail('perf_event', label, errno);
    }
  }
  return {
    kind: 'perf_event', target: label, fnName,
    detach: closeAll,
    detachAsync: async () => { await Promise.all(fds.map(closeOnThreadPool)); },
  };
}

export function attachKfunc(progFd: number, fnName: string, target: string): Link {
  // fentry/fexit attach through the raw tracepoint open call with no name.
  const fd = libbpf().raw_tracepoint_open(null, progFd) as number;
  if (fd < 0) fail('kfunc', target, koffi.errno());
  return { kind: 'kfunc', target, fnName, detach: () => { libc.close(fd); } };
}

/** A BPF LSM program (loaded with its hook's BTF id) attaches as fentry does: a raw tracepoint open with no name. */
export function attachLsm(progFd: number, fnName: string, hook: string): Link {
  const fd = libbpf().raw_tracepoint_open(null, progFd) as number;
  if (fd < 0) fail('lsm', hook, koffi.errno());
  return { kind: 'lsm', target: hook, fnName, detach: () => { libc.close(fd); } };
}
