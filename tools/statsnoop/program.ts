// statsnoop's one configuration: the options (plain data) and a KernelView → statsnoop.bpf.c's
// #defines, which syscalls are traced, how they are hooked and why, and the attach.
import type { BPF } from 'bcc-node-bindings';
import { busyRingBufferPages } from '../../lib/run/event-channel.ts';
import { chooseAttach, type AttachChoice } from '../../lib/run/attach-plan.ts';
import type { DefineValue, ToolProgram } from '../../lib/run/program.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { haveSyscallTable, syscalls } from '../../lib/kernel/syscalls.ts';
import { STAT_SYSCALLS, type StatSyscall } from './syscalls.ts';

export interface StatsnoopConfig {
  /** -p: this process only. */
  pid?: number;
  /** -x: failed calls only (dropped in the kernel). */
  failedOnly: boolean;
}

export interface StatsnoopProgram extends ToolProgram {
  /** Records come through a ring buffer, else a perf buffer (bpfkit/events.h). */
  ringBuffer: boolean;
  /** The syscalls hooked on this kernel, by name. */
  traced: string[];
}

/** HOOK in statsnoop.bpf.c. */
const HOOK = { tracepoints: 1, rawSyscalls: 2, kprobes: 3 } as const;
type Hook = keyof typeof HOOK;

interface Hooked {
  sc: StatSyscall;
  /** The kprobe's function, or the raw_syscalls number. */
  fn?: string;
  nr?: number;
}

export function configureStatsnoop(config: StatsnoopConfig, kernel: KernelView = liveKernel()): StatsnoopProgram {
  const hasTracepoints = (sc: StatSyscall) =>
    kernel.tracepoint('syscalls', `sys_enter_${sc.name}`) && kernel.tracepoint('syscalls', `sys_exit_${sc.name}`);
  // Read only when a fallback is tried: /proc/kallsyms takes 100 ms to read.
  let functions: Map<string, string | null> | undefined;
  const kernelFunctions = () => (functions ??= new Map(STAT_SYSCALLS.map((sc) => [sc.name, kernel.syscallFunction(sc.name)])));
  const numbers = () => new Map(syscalls().flatMap((s) => (s.entry ? [[s.entry, s.nr] as const] : [])));

  // One hook for every syscall: a kernel has all its syscall tracepoints or none.
  const how = chooseAttach<Hook>('stat and access syscalls', [
    {
      label: 'tracepoints syscalls:sys_enter_<syscall> and sys_exit_<syscall> of each',
      unavailable: () => (STAT_SYSCALLS.some(hasTracepoints) ? null : 'this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS is off)'),
      value: 'tracepoints',
    },
    {
      label: 'tracepoints raw_syscalls:sys_enter and sys_exit, by syscall number (every syscall runs them)',
      unavailable: () => (!kernel.tracepoint('raw_syscalls', 'sys_enter') || !kernel.tracepoint('raw_syscalls', 'sys_exit')
        ? 'no raw_syscalls tracepoints'
        : !haveSyscallTable() ? `no syscall numbers for ${process.arch}` : null),
      value: 'rawSyscalls',
    },
    {
      label: 'kprobes and kretprobes on the syscall functions',
      unavailable: () => (!kernel.kprobes() ? 'this kernel has no kprobes'
        : [...kernelFunctions().values()].every((f) => f === null) ? 'no stat syscall function in /proc/kallsyms' : null),
      value: 'kprobes',
    },
  ]);

  let hooked: Hooked[];
  if (how.value === 'tracepoints') {
    hooked = STAT_SYSCALLS.filter(hasTracepoints).map((sc) => ({ sc }));
  } else if (how.value === 'rawSyscalls') {
    const nr = numbers();
    hooked = STAT_SYSCALLS.filter((sc) => nr.has(sc.name)).map((sc) => ({ sc, nr: nr.get(sc.name) }));
  } else {
    const fns = kernelFunctions();
    hooked = STAT_SYSCALLS.filter((sc) => fns.get(sc.name)).map((sc) => ({ sc, fn: fns.get(sc.name)! }));
  }
  const traced = hooked.map((h) => h.sc.name);
  const absent = STAT_SYSCALLS.filter((sc) => !traced.includes(sc.name)).map((sc) => sc.name);
  const which: AttachChoice = {
    purpose: 'syscalls traced',
    chosen: traced.join(', '),
    rejected: absent.length ? [{ label: absent.join(', '), reason: 'not syscalls of this kernel (other architectures have them)' }] : [],
  };

  const stream = chooseAttach('event records', [
    { label: 'ring buffer', unavailable: () => (kernel.ringBuffer() ? null : 'needs Linux 5.8'), value: true },
    { label: 'perf buffer', unavailable: () => null, value: false },
  ]);
  const ringBuffer = stream.value;

  const defines: Record<string, DefineValue> = {
    TRACED: hooked.reduce((mask, h) => mask | (1 << h.sc.id), 0),
    HOOK: HOOK[how.value],
    FILTER_PID: config.pid !== undefined,
    TARGET_PID: config.pid ?? 0,
    FAILED_ONLY: config.failedOnly,
    USE_RINGBUF: ringBuffer,
    ...(ringBuffer ? { RINGBUF_PAGES: busyRingBufferPages(kernel.cpus()) } : {}),
  };
  for (const h of hooked) if (h.nr !== undefined) defines[`NR_${h.sc.name.toUpperCase()}`] = h.nr;

  return {
    file: 'statsnoop.bpf.c',
    defines,
    attachments: [how.choice, which, stream.choice],
    ringBuffer,
    traced,
    attach(bpf: BPF) {
      // Exits before entries, so that no entry is noted whose exit could be missed.
      if (how.value === 'tracepoints') {
        for (const { sc } of hooked) bpf.attachTracepoint({ tp: `syscalls:sys_exit_${sc.name}`, fnName: 'stat_return' });
        for (const { sc } of hooked) bpf.attachTracepoint({ tp: `syscalls:sys_enter_${sc.name}`, fnName: `enter_${sc.name}` });
      } else if (how.value === 'rawSyscalls') {
        bpf.attachTracepoint({ tp: 'raw_syscalls:sys_exit', fnName: 'raw_exit' });
        bpf.attachTracepoint({ tp: 'raw_syscalls:sys_enter', fnName: 'raw_enter' });
      } else {
        for (const { fn } of hooked) bpf.attachKretprobe({ event: fn!, fnName: 'stat_return' });
        for (const { sc, fn } of hooked) bpf.attachKprobe({ event: fn!, fnName: `syscall__${sc.name}` });
      }
    },
  };
}
