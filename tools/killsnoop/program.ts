// killsnoop's one configuration: what to report (plain data from the options, or the exporter's
// fixed choice) and a KernelView → killsnoop.bpf.c's #defines, where the probes go and why, and
// the attach. The tool and `bpfkit exporter` both load the program through configureKillsnoop.
import type { BPF } from 'bcc-node-bindings';
import { busyRingBufferPages } from '../../lib/run/event-channel.ts';
import { chooseAttach } from '../../lib/run/attach-plan.ts';
import { syscallRungs, type SyscallHooks } from '../../lib/run/syscall-rungs.ts';
import type { DefineValue, ToolProgram } from '../../lib/run/program.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { SYSCALLS } from './events.ts';

export interface KillsnoopConfig {
  /** -x: only calls that failed. */
  failedOnly: boolean;
  /** -p: the sender's PID. */
  pid?: number;
  /** -T: the target's PID (or a thread's TID). */
  tpid?: number;
  /** -s: the signals to report (0 to 64), all when absent. */
  signals?: readonly number[];
}

export interface KillsnoopProgram extends ToolProgram {
  /** Records come through a ring buffer, else a perf buffer (bpfkit/events.h). */
  ringBuffer: boolean;
}

/** What the exporter counts: every signal sent by a syscall, failed or not. */
export const EXPORTER_CONFIG: KillsnoopConfig = { failedOnly: false };

type Syscall = (typeof SYSCALLS)[number]['name'];

/**
 * Syscall numbers for the raw tracepoint fallback (no tracepoint of their own there), per
 * Node's process.arch. They are ABI: they never change on an architecture.
 */
const SYSCALL_NUMBERS: Record<string, Record<Syscall, number>> = {
  x64: { kill: 62, tkill: 200, tgkill: 234, pidfd_send_signal: 424, rt_sigqueueinfo: 129, rt_tgsigqueueinfo: 297 },
  arm64: { kill: 129, tkill: 130, tgkill: 131, pidfd_send_signal: 424, rt_sigqueueinfo: 138, rt_tgsigqueueinfo: 240 },
  riscv64: { kill: 129, tkill: 130, tgkill: 131, pidfd_send_signal: 424, rt_sigqueueinfo: 138, rt_tgsigqueueinfo: 240 },
};

type Hooks = SyscallHooks<Syscall> | { kind: 'kprobe'; functions: Array<[Syscall, string]> };

/** The highest signal -s takes: SIGRTMAX. */
export const MAX_SIGNAL = 64;

export function configureKillsnoop(config: KillsnoopConfig, kernel: KernelView = liveKernel(), arch: string = process.arch): KillsnoopProgram {
  // Looked up only when the tracepoints are missing: reading /proc/kallsyms takes 100 ms.
  let functions: Array<[Syscall, string]> | undefined;
  const kernelFunctions = () => (functions ??= SYSCALLS.flatMap(({ name }) => {
    const fn = kernel.syscallFunction(name);
    return fn ? [[name, fn] as [Syscall, string]] : [];
  }));
  const hooks = chooseAttach<Hooks>('signals sent by kill(), tkill(), tgkill(), pidfd_send_signal(), rt_(tg)sigqueueinfo()', [
    ...syscallRungs(kernel, { tool: 'killsnoop', syscalls: SYSCALLS.map((s) => s.name), always: 'kill', countWord: 'the six', numbers: SYSCALL_NUMBERS, arch }),
    {
      get label() { return `kprobes and kretprobes on ${kernel.kprobes() && kernelFunctions().length ? kernelFunctions().map(([, fn]) => fn).join(', ') : 'the syscall functions'}`; },
      unavailable: () => (!kernel.kprobes() ? 'this kernel has no kprobes'
        : !kernelFunctions().some(([s]) => s === 'kill') ? 'no kill syscall function in /proc/kallsyms' : null),
      get value(): Hooks { return { kind: 'kprobe', functions: kernelFunctions() }; },
    },
  ]);
  const stream = chooseAttach('event records', [
    { label: 'ring buffer', unavailable: () => (kernel.ringBuffer() ? null : 'needs Linux 5.8'), value: true },
    { label: 'perf buffer', unavailable: () => null, value: false },
  ]);
  const ringBuffer = stream.value;
  const h = hooks.value;
  const traced = new Set<Syscall>(h.kind === 'tracepoint' ? h.syscalls : h.kind === 'kprobe' ? h.functions.map(([s]) => s) : SYSCALLS.map((s) => s.name));
  const has: Record<string, boolean> = Object.fromEntries(SYSCALLS.map(({ name, define }) => [`HAS_${define}`, traced.has(name)]));
  const numbers: Record<string, number> = h.kind === 'raw'
    ? Object.fromEntries(SYSCALLS.map(({ name, define }) => [`NR_${define}`, h.numbers[name]])) : {};
  const signals = signalMasks(config.signals);

  return {
    file: 'killsnoop.bpf.c',
    defines: {
      HOOK_TRACEPOINTS: h.kind === 'tracepoint',
      HOOK_RAW: h.kind === 'raw',
      HOOK_KPROBES: h.kind === 'kprobe',
      ...has,
      ...numbers,
      FILTER_PID: config.pid !== undefined,
      TARGET_PID: config.pid ?? 0,
      FILTER_TPID: config.tpid !== undefined,
      TARGET_TPID: config.tpid ?? 0,
      FILTER_SIGNALS: signals !== null,
      SIGNAL_MASK_LO: signals?.lo ?? 0n,
      SIGNAL_MASK_HI: signals?.hi ?? 0n,
      FAILED_ONLY: config.failedOnly,
      USE_RINGBUF: ringBuffer,
      // A signal loop makes ~1,000,000 kills a second: the default ring (7,281 records of 72 bytes)
      // lost 27% of a 10,000-kill burst in the bench while the reader slept its 50 ms.
      ...(ringBuffer ? { RINGBUF_PAGES: busyRingBufferPages(kernel.cpus()) } : {}),
      ...(traced.has('pidfd_send_signal') ? pidfdOffsets(kernel) : { RESOLVE_PIDFD: false }),
    },
    attachments: [hooks.choice, stream.choice],
    ringBuffer,
    attach(bpf: BPF) {
      // Each exit before its entry, so that no entry is noted whose exit could be missed.
      if (h.kind === 'tracepoint') {
        for (const s of h.syscalls) {
          bpf.attachTracepoint({ tp: `syscalls:sys_exit_${s}`, fnName: `tracepoint__syscalls__sys_exit_${s}` });
          bpf.attachTracepoint({ tp: `syscalls:sys_enter_${s}`, fnName: `tracepoint__syscalls__sys_enter_${s}` });
        }
      } else if (h.kind === 'raw') {
        bpf.attachRawTracepoint({ tp: 'sys_exit', fnName: 'raw_tracepoint__sys_exit' });
        bpf.attachRawTracepoint({ tp: 'sys_enter', fnName: 'raw_tracepoint__sys_enter' });
      } else {
        for (const [s, fn] of h.functions) {
          bpf.attachKretprobe({ event: fn, fnName: 'signal_return' });
          bpf.attachKprobe({ event: fn, fnName: `syscall__${s}` });
        }
      }
    },
  };
}

/** -s as two 64-bit masks (signals 0-63, then 64-127), or null for every signal. */
export function signalMasks(signals?: readonly number[]): { lo: bigint; hi: bigint } | null {
  if (!signals) return null;
  let lo = 0n;
  let hi = 0n;
  for (const s of signals) {
    if (!Number.isInteger(s) || s < 0 || s > MAX_SIGNAL) throw new Error(`signal ${s} out of range`);
    if (s < 64) lo |= 1n << BigInt(s);
    else hi |= 1n << BigInt(s - 64);
  }
  return { lo, hi };
}

/**
 * For pidfd_target() in killsnoop.bpf.c: the caller's descriptor table, a file's inode and the
 * struct pid behind it. Without BTF a pidfd's target is shown as unknown ("?"), nothing else is lost.
 */
function pidfdOffsets(kernel: KernelView): Record<string, DefineValue> {
  const fields: Record<string, [string, string]> = {
    TASK_FILES_OFFSET: ['task_struct', 'files'],
    FILES_FDT_OFFSET: ['files_struct', 'fdt'],
    FDTABLE_MAX_FDS_OFFSET: ['fdtable', 'max_fds'],
    FDTABLE_FD_OFFSET: ['fdtable', 'fd'],
    FILE_F_INODE_OFFSET: ['file', 'f_inode'],
    FILE_PRIVATE_DATA_OFFSET: ['file', 'private_data'],
    INODE_I_SB_OFFSET: ['inode', 'i_sb'],
    INODE_I_PRIVATE_OFFSET: ['inode', 'i_private'],
    SB_S_MAGIC_OFFSET: ['super_block', 's_magic'],
    PID_NUMBERS_OFFSET: ['pid', 'numbers'],
    UPID_NR_OFFSET: ['upid', 'nr'],
    PROC_INODE_PID_OFFSET: ['proc_inode', 'pid'],
    PROC_INODE_VFS_INODE_OFFSET: ['proc_inode', 'vfs_inode'],
  };
  const out: Record<string, number> = {};
  for (const [name, [struct, field]] of Object.entries(fields)) {
    const at = kernel.offset(struct, field);
    if (at === undefined) return { RESOLVE_PIDFD: false };
    out[name] = at;
  }
  // numbers[0].nr: the PID in the initial namespace.
  const { PID_NUMBERS_OFFSET, UPID_NR_OFFSET, ...rest } = out;
  return { RESOLVE_PIDFD: true, ...rest, PID_NR_OFFSET: PID_NUMBERS_OFFSET + UPID_NR_OFFSET };
}
