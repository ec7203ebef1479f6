// cpudist's program from its configuration and the running kernel (a KernelView): the C file, its
// #defines (listed at the top of cpudist.bpf.c) and where the context switch is seen, best first
// (README.md, "What it traces, and why"):
//
//   1. tracepoint sched:sched_switch: stable, and `current` there is still prev, so prev's tgid is
//      bpf_get_current_pid_tgid()'s; tids come from the fields prev_pid / next_pid.
//   2. raw tracepoint sched_switch: the task pointers, pid / tgid / __state read at offsets from
//      the kernel's BTF (for kernels whose tracefs lacks the event).
//   3. kprobe finish_task_switch (or its .isra clone), bcc's choice: after the switch, `current`
//      is next and prev is the argument. Only where both tracepoints are missing.
import type { BPF } from 'bcc-node-bindings';
import { chooseAttach, type AttachCandidate } from '../../lib/run/attach-plan.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import type { DefineValue, ToolProgram } from '../../lib/run/program.ts';

export type Grouping = 'none' | 'pid' | 'tid';
export type Measure = 'on' | 'off' | 'both';

export interface CpudistConfig {
  /** on-CPU (default), off-CPU (-O), or both (the exporter). */
  measure: Measure;
  /** Nanoseconds per histogram unit: 1000 (usecs) or 1000000 (-m). */
  nsPerUnit: number;
  /** -P: per process; -L: per thread. */
  grouping: Grouping;
  /** -p: only this process (tgid). */
  pid?: number;
  /** -I: the idle tasks too. */
  includeIdle: boolean;
  /** Per-histogram sums and counts: -e, --json and metrics. */
  extension: boolean;
  /** Metrics mode: maps sized for this many label sets. */
  seriesLimit?: number;
}

export type SwitchHook =
  | { kind: 'tracepoint' }
  | { kind: 'raw_tracepoint'; prevArg: number }
  | { kind: 'kprobe'; fn: string };

export interface CpudistProgram extends ToolProgram {
  hook: SwitchHook;
}

// Slots per histogram: bpf_log2l of a 64-bit value is at most 64.
const SLOTS = 65;
const MAX_ENTRIES = 1 << 20;
// Tasks whose slice is in progress. On-CPU: one per CPU (an entry goes when its task goes off).
// Off-CPU: every sleeping thread of the machine, or of the one process with -p.
const START_ON_ENTRIES = 1024;
const START_OFF_ENTRIES = 65536;
const START_OFF_ENTRIES_ONE_PROCESS = 8192;
// Per-task histograms: room for 1024 tasks with every slot used, far more with the usual dozen.
const GROUPED_HIST_ENTRIES = 64 * 1024;
const GROUPED_EXT_ENTRIES = 16384;
const TASK_FIELDS: Array<[string, string, string[]]> = [
  ['TASK_PID_OFFSET', 'task_struct', ['pid']],
  ['TASK_TGID_OFFSET', 'task_struct', ['tgid']],
  // Renamed from `state` to `__state` in 5.14.
  ['TASK_STATE_OFFSET', 'task_struct', ['__state', 'state']],
];

export function configureCpudist(config: CpudistConfig, kernel: KernelView = liveKernel()): CpudistProgram {
  const fields = taskFields(kernel);
  const candidates: AttachCandidate<SwitchHook>[] = [
    {
      label: 'tracepoint sched:sched_switch',
      unavailable: () => (kernel.tracepoint('sched', 'sched_switch') ? null : 'this kernel has no such tracepoint'),
      value: { kind: 'tracepoint' },
    },
    {
      label: 'raw tracepoint sched_switch',
      unavailable: () => (!kernel.rawTracepoints() ? 'this kernel cannot attach raw tracepoints'
        : 'missing' in fields ? `needs ${fields.missing} from the kernel's BTF` : null),
      // Without BTF for the prototype, prev follows `bool preempt` as it has since 4.4.
      get value(): SwitchHook { return { kind: 'raw_tracepoint', prevArg: kernel.rawArg('sched_switch', 'task_struct') ?? 1 }; },
    },
    ...['finish_task_switch', 'finish_task_switch.isra.0'].map((fn): AttachCandidate<SwitchHook> => ({
      label: `kprobe ${fn}`,
      unavailable: () => (!kernel.kprobes() ? 'this kernel has no kprobes'
        : !kernel.kernelFunction(fn) ? 'no such kernel function here'
        : 'missing' in fields ? `needs ${fields.missing} from the kernel's BTF` : null),
      value: { kind: 'kprobe', fn },
    })),
  ];
  const sw = chooseAttach('context switch', candidates);
  const hook = sw.value;
  const grouped = config.grouping !== 'none';
  const kinds = config.measure === 'both' ? 2 : 1;
  const limit = config.seriesLimit;
  const defines: Record<string, DefineValue> = {
    ONCPU: config.measure !== 'off',
    OFFCPU: config.measure !== 'on',
    NS_PER_UNIT: config.nsPerUnit,
    GROUP_PID: config.grouping === 'pid',
    GROUP_TID: config.grouping === 'tid',
    FILTER_TGID: config.pid !== undefined,
    TARGET_TGID: config.pid ?? 0,
    INCLUDE_IDLE: config.includeIdle,
    EXTENSION: config.extension || limit !== undefined,
    START_ON_ENTRIES: Math.max(START_ON_ENTRIES, 4 * kernel.cpus()),
    START_OFF_ENTRIES: config.pid !== undefined ? START_OFF_ENTRIES_ONE_PROCESS : START_OFF_ENTRIES,
    HIST_ENTRIES: !grouped ? SLOTS * kinds : limit !== undefined ? Math.min(MAX_ENTRIES, SLOTS * kinds * limit) : GROUPED_HIST_ENTRIES,
    EXT_ENTRIES: !grouped ? kinds : limit !== undefined ? Math.min(MAX_ENTRIES, kinds * limit) : GROUPED_EXT_ENTRIES,
    SWITCH_TRACEPOINT: hook.kind === 'tracepoint',
    SWITCH_RAW_TP: hook.kind === 'raw_tracepoint',
    SWITCH_KPROBE: hook.kind === 'kprobe',
  };
  if (hook.kind === 'raw_tracepoint') defines.PREV_ARG = hook.prevArg;
  if (hook.kind !== 'tracepoint' && 'defines' in fields) Object.assign(defines, fields.defines);
  return {
    file: 'cpudist.bpf.c',
    defines,
    attachments: [sw.choice],
    hook,
    attach(bpf: BPF) {
      if (hook.kind === 'tracepoint') bpf.attachTracepoint({ tp: 'sched:sched_switch', fnName: 'tracepoint__sched__sched_switch' });
      else if (hook.kind === 'raw_tracepoint') bpf.attachRawTracepoint({ tp: 'sched_switch', fnName: 'on_sched_switch' });
      else bpf.attachKprobe({ event: hook.fn, fnName: 'on_finish_task_switch' });
    },
  };
}

/** task_struct's pid, tgid and state at the running kernel's offsets, or the first one missing. */
function taskFields(kernel: KernelView): { defines: Record<string, number> } | { missing: string } {
  const defines: Record<string, number> = {};
  for (const [name, struct, names] of TASK_FIELDS) {
    const at = names.map((f) => kernel.offset(struct, f)).find((o) => o !== undefined);
    if (at === undefined) return { missing: `${struct}.${names[0]}` };
    defines[name] = at;
  }
  return { defines };
}
