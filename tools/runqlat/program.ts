// runqlat's program from its configuration and the running kernel (a KernelView): the C file, its
// #defines (listed at the top of runqlat.bpf.c) and where its three probes attach, best first
// (README.md, "What it traces, and why"):
//
//   1. tracepoints sched:sched_wakeup, sched_wakeup_new and sched_switch: stable, what `perf sched`
//      reads. They name threads only: the process (-P, -p) or PID namespace (--pidnss) of a task
//      switched in is read when it is next switched out, as `current`.
//   2. raw tracepoints of the same events: the task_structs, tgid and namespace read at offsets
//      from the kernel's BTF (bcc's choice where raw tracepoints exist).
//   3. kprobes on the wakeup functions and finish_task_switch (bcc's choice before 4.17).
//
// The three points are one choice: a wait must start and end under the same rung.
import type { BPF } from 'bcc-node-bindings';
import { chooseAttach, type AttachCandidate } from '../../lib/run/attach-plan.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { releaseAtLeast } from '../../lib/kernel/release.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import type { DefineValue, ToolProgram } from '../../lib/run/program.ts';

export type Grouping = 'none' | 'pid' | 'tid' | 'pidns';
export type Rung = 'tracepoint' | 'raw_tracepoint' | 'kprobe';

export interface RunqlatConfig {
  /** -P, -L, --pidnss, or one histogram. */
  grouping: Grouping;
  /** Nanoseconds per histogram unit: 1000 (usecs), 1000000 (-m msecs), 1 (the exporter's ns). */
  nsPerUnit: number;
  /** -p: only this process (tgid). */
  pid?: number;
  /** Add up each histogram's waits in ns (--json's sum_ns, the metrics' _sum). */
  totals: boolean;
  /** Metrics mode: maps sized for this many label sets. */
  seriesLimit?: number;
}

export interface Probe {
  kind: Rung;
  /** "sched:sched_switch", "sched_switch" (raw), or a kernel function. */
  target: string;
  fnName: string;
}

export interface RunqlatProgram extends ToolProgram {
  rung: Rung;
  /** In attach order: the switch first, so that no start is recorded whose end could be missed. */
  probes: Probe[];
}

// Runnable and recently woken threads of the whole machine: bcc's 10240 fills on big hosts.
const START_ENTRIES = 32768;
const GROUP_ENTRIES = 4096;
const MAX_ENTRIES = 1 << 20;
// sizeof(struct upid) { int nr; struct pid_namespace *ns; } on 64-bit, unchanged since 2.6.24.
const UPID_SIZE = 16;

interface RungValue {
  rung: Rung;
  probes: Probe[];
  defines: Record<string, DefineValue>;
}

export function configureRunqlat(config: RunqlatConfig, kernel: KernelView = liveKernel()): RunqlatProgram {
  const sched = (event: string) => kernel.tracepoint('sched', event);
  const events = ['sched_wakeup', 'sched_wakeup_new', 'sched_switch'];
  const taskReads = () => fieldOffsets(kernel, config.grouping === 'pidns');
  const missingOffsets = () => {
    const reads = taskReads();
    return 'missing' in reads ? `needs ${reads.missing} from the kernel's BTF to read the tasks` : null;
  };

  const tracepoints: AttachCandidate<RungValue> = {
    label: 'tracepoints sched:sched_wakeup, sched:sched_wakeup_new, sched:sched_switch',
    unavailable: () => {
      const lacking = events.filter((e) => !sched(e));
      if (lacking.length) return `this kernel has no ${lacking.map((e) => `sched:${e}`).join(', ')}`;
      return config.grouping === 'pidns' ? missingOffsets() : null;
    },
    get value(): RungValue {
      const defer = config.grouping === 'pid' || config.grouping === 'pidns' || config.pid !== undefined;
      return {
        rung: 'tracepoint',
        probes: [
          { kind: 'tracepoint', target: 'sched:sched_switch', fnName: 'tracepoint__sched__sched_switch' },
          { kind: 'tracepoint', target: 'sched:sched_wakeup', fnName: 'tracepoint__sched__sched_wakeup' },
          { kind: 'tracepoint', target: 'sched:sched_wakeup_new', fnName: 'tracepoint__sched__sched_wakeup_new' },
        ],
        defines: {
          DEFER_TO_SWITCH_OUT: defer,
          RUNNABLE_STATE_MASK: runnableStateMask(kernel.release),
          ...(config.grouping === 'pidns' ? offsetsOrThrow(taskReads()) : {}),
        },
      };
    },
  };

  const rawTracepoints: AttachCandidate<RungValue> = {
    label: 'raw tracepoints sched_wakeup, sched_wakeup_new, sched_switch',
    unavailable: () => (!kernel.rawTracepoints() ? 'this kernel cannot attach raw tracepoints (before 4.17)'
      : events.some((e) => !sched(e)) ? 'this kernel lacks one of these tracepoints'
      : missingOffsets()),
    get value(): RungValue {
      return {
        rung: 'raw_tracepoint',
        probes: [
          { kind: 'raw_tracepoint', target: 'sched_switch', fnName: 'on_switch' },
          { kind: 'raw_tracepoint', target: 'sched_wakeup', fnName: 'on_wakeup' },
          { kind: 'raw_tracepoint', target: 'sched_wakeup_new', fnName: 'on_wakeup' },
        ],
        defines: offsetsOrThrow(taskReads()),
      };
    },
  };

  const kprobes = (wakeup: string, arg: number, finish: string): AttachCandidate<RungValue> => ({
    label: `kprobes ${wakeup}, wake_up_new_task, ${finish}`,
    unavailable: () => {
      if (!kernel.kprobes()) return 'this kernel has no kprobes';
      // Since 6.2 ttwu_do_wakeup takes the task alone and is inlined into its callers.
      if (wakeup === 'ttwu_do_wakeup' && releaseAtLeast(6, 2, kernel.release)) return 'ttwu_do_wakeup is inlined since Linux 6.2';
      const absent = [wakeup, 'wake_up_new_task', finish].filter((f) => !kernel.kernelFunction(f));
      if (absent.length) return `no such kernel function here: ${absent.join(', ')} (renamed or inlined)`;
      return missingOffsets();
    },
    get value(): RungValue {
      return {
        rung: 'kprobe',
        probes: [
          { kind: 'kprobe', target: finish, fnName: 'on_switch' },
          { kind: 'kprobe', target: wakeup, fnName: 'on_wakeup' },
          { kind: 'kprobe', target: 'wake_up_new_task', fnName: 'on_wakeup_new' },
        ],
        defines: { ...offsetsOrThrow(taskReads()), WAKEUP_KPROBE_ARG: arg },
      };
    },
  });

  const choice = chooseAttach('run queue waits', [
    tracepoints,
    rawTracepoints,
    // bcc's: ttwu_do_wakeup(rq, p, wake_flags, rf); then ttwu_do_activate(rq, p, …), which every
    // wakeup that enqueues goes through; finish_task_switch is often a GCC .isra clone.
    kprobes('ttwu_do_wakeup', 2, 'finish_task_switch'),
    kprobes('ttwu_do_wakeup', 2, 'finish_task_switch.isra.0'),
    kprobes('ttwu_do_activate', 2, 'finish_task_switch'),
    kprobes('ttwu_do_activate', 2, 'finish_task_switch.isra.0'),
  ]);
  const { rung, probes, defines: rungDefines } = choice.value;

  const defines: Record<string, DefineValue> = {
    RUNG_TRACEPOINT: rung === 'tracepoint',
    RUNG_RAW_TP: rung === 'raw_tracepoint',
    RUNG_KPROBE: rung === 'kprobe',
    NS_PER_UNIT: config.nsPerUnit,
    KEY_TGID: config.grouping === 'pid',
    KEY_TID: config.grouping === 'tid',
    KEY_PIDNS: config.grouping === 'pidns',
    FILTER_TGID: config.pid !== undefined,
    TARGET_TGID: config.pid ?? 0,
    TOTALS: config.totals || config.seriesLimit !== undefined,
    DEFER_TO_SWITCH_OUT: false,
    ...mapSizes(config),
    ...rungDefines,
  };
  return {
    file: 'runqlat.bpf.c',
    defines,
    attachments: [choice.choice],
    rung,
    probes,
    attach: (bpf: BPF) => attachProbes(bpf, probes),
  };
}

function attachProbes(bpf: BPF, probes: Probe[]): void {
  for (const probe of probes) {
    if (probe.kind === 'tracepoint') bpf.attachTracepoint({ tp: probe.target, fnName: probe.fnName });
    else if (probe.kind === 'raw_tracepoint') bpf.attachRawTracepoint({ tp: probe.target, fnName: probe.fnName });
    else bpf.attachKprobe({ event: probe.target, fnName: probe.fnName });
  }
}

/**
 * The classic sched_switch reports a preempted task as TASK_REPORT_MAX ("R+"), whatever its
 * state, and a runnable one as 0: runnable means no bit below TASK_REPORT_MAX. bpftrace's
 * runqlat.bt tests `prev_state == TASK_RUNNING` and so misses every preempted task. Before 4.14
 * the field was the raw state with TASK_STATE_MAX added for preemption (4096 from 4.11, 2048 before).
 */
export function runnableStateMask(release: string): number {
  if (releaseAtLeast(4, 14, release)) return 0xff;
  return releaseAtLeast(4, 11, release) ? 0xfff : 0x7ff;
}

/**
 * One entry per (group, slot) pair. Hash maps are allocated whole when loaded, so room for every
 * slot of every group (64 × 10240 entries: 60 MiB) would pin memory never used: a process's waits
 * fill about a dozen slots, so 16 entries per group, at least 16384; a full map is reported.
 */
function mapSizes(config: RunqlatConfig): Record<string, number> {
  const groups = config.grouping === 'none' ? 1 : config.seriesLimit ?? GROUP_ENTRIES;
  return {
    START_ENTRIES,
    HIST_ENTRIES: groups === 1 ? 64 : Math.min(MAX_ENTRIES, Math.max(16384, 16 * groups)),
    GROUP_ENTRIES: Math.min(MAX_ENTRIES, groups),
  };
}

type Reads = { defines: Record<string, number> } | { missing: string };

/** The task_struct fields the raw tracepoint and kprobe programs read (and the namespace walk). */
function fieldOffsets(kernel: KernelView, pidns: boolean): Reads {
  const fields: Array<[string, string, string | string[]]> = [
    ['TASK_PID_OFFSET', 'task_struct', 'pid'],
    ['TASK_TGID_OFFSET', 'task_struct', 'tgid'],
    // __state since 5.14; state before.
    ['TASK_STATE_OFFSET', 'task_struct', ['__state', 'state']],
  ];
  if (pidns) {
    fields.push(
      ['TASK_THREAD_PID_OFFSET', 'task_struct', 'thread_pid'],
      ['TASK_GROUP_LEADER_OFFSET', 'task_struct', 'group_leader'],
      ['PID_LEVEL_OFFSET', 'pid', 'level'],
      ['PID_NUMBERS_OFFSET', 'pid', 'numbers'],
      ['UPID_NS_OFFSET', 'upid', 'ns'],
      ['PIDNS_INUM_OFFSET', 'pid_namespace', 'ns.inum'],
    );
  }
  const defines: Record<string, number> = {};
  for (const [name, struct, field] of fields) {
    const names = Array.isArray(field) ? field : [field];
    const at = names.map((f) => kernel.offset(struct, f)).find((o) => o !== undefined);
    if (at === undefined) return { missing: `${struct}.${names.join(' or ')}` };
    defines[name] = at;
  }
  if (pidns) defines.UPID_SIZE = UPID_SIZE;
  return { defines };
}

function offsetsOrThrow(reads: Reads): Record<string, number> {
  if ('missing' in reads) throw new MissingPrerequisite(`needs ${reads.missing} from the kernel's BTF (/sys/kernel/btf/vmlinux), which this kernel lacks`);
  return reads.defines;
}
