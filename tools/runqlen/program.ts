// runqlen's program from its configuration and the running kernel (a KernelView): the C file,
// its #defines (listed at the top of runqlen.bpf.c) and two decisions (README.md, "What it
// traces, and why"):
//
//   sampling: a software cpu-clock perf event at FREQUENCY Hz on every online CPU, as bcc's
//     runqlen (hardware counters may be missing, as in VMs; cpu-clock is a timer and always there).
//   run queue length: read through the current task, at offsets from the kernel's BTF:
//     task_struct.se → sched_entity.cfs_rq → cfs_rq.nr_queued (6.13 renamed nr_running so; the
//     old name is the fallback), or with -H → cfs_rq.rq → rq.nr_running.
import type { BPF } from 'bcc-node-bindings';
import { chooseAttach, type AttachCandidate } from '../../lib/run/attach-plan.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import type { DefineValue, ToolProgram } from '../../lib/run/program.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';

export interface RunqlenConfig {
  /** Samples per second on each CPU (bcc: 99, so as not to run in lockstep with 100 Hz timers). */
  frequency: number;
  /** -H: the CPU's whole run queue (rq.nr_running) instead of the current task's CFS queue. */
  host: boolean;
}

export interface RunqlenProgram extends ToolProgram {
  /** The counter read, as "cfs_rq.nr_queued": what the histogram's lengths are made of. */
  field: string;
}

/** Run queues longer than this are counted as MAX_SLOTS - 1 (the tool says how many were). */
export const MAX_SLOTS = 128;

// perf_event_attr.type and .config for the software cpu-clock (include/uapi/linux/perf_event.h).
const PERF_TYPE_SOFTWARE = 1;
const PERF_COUNT_SW_CPU_CLOCK = 0;

type Reads = Record<string, number>;

export function configureRunqlen(config: RunqlenConfig, kernel: KernelView = liveKernel()): RunqlenProgram {
  // task_struct.se has always existed: without it there is no BTF at all, and no other way to
  // find cfs_rq's fields (kernel/sched/sched.h is not among the headers libbcc compiles with).
  if (kernel.offset('task_struct', 'se') === undefined) {
    throw new MissingPrerequisite('needs the kernel\'s BTF (/sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF) to find the run queue; this kernel has none');
  }
  const sampling = chooseAttach('sampling', [{
    label: `perf event software cpu-clock at ${config.frequency} Hz on every CPU`,
    unavailable: () => null,
    value: null,
  }]);

  // Offsets, or why not: each candidate needs every link of its chain.
  const chain = (links: Array<[define: string, struct: string, field: string]>) => {
    const reads: Reads = {};
    for (const [define, struct, field] of links) {
      const offset = kernel.offset(struct, field);
      if (offset === undefined) return { reads, missing: `${struct}.${field} is not in the kernel's BTF` };
      reads[define] = offset;
    }
    return { reads, missing: null };
  };
  const toQueue: Array<[string, string, string]> = [['TASK_SE_OFFSET', 'task_struct', 'se'], ['SE_CFS_RQ_OFFSET', 'sched_entity', 'cfs_rq']];
  const candidate = (label: string, field: string, links: Array<[string, string, string]>): AttachCandidate<{ field: string; reads: Reads }> => {
    const found = chain([...toQueue, ...links]);
    return { label, unavailable: () => found.missing, value: { field, reads: found.reads } };
  };
  const length = chooseAttach('run queue length', config.host
    ? [candidate('rq.nr_running through task_struct.se.cfs_rq->rq (the whole CPU)', 'rq.nr_running',
      [['CFS_RQ_RQ_OFFSET', 'cfs_rq', 'rq'], ['RQ_NR_RUNNING_OFFSET', 'rq', 'nr_running']])]
    : [
      candidate('cfs_rq.nr_queued through task_struct.se.cfs_rq (6.13+)', 'cfs_rq.nr_queued', [['CFS_RQ_NR_OFFSET', 'cfs_rq', 'nr_queued']]),
      candidate('cfs_rq.nr_running through task_struct.se.cfs_rq (before 6.13)', 'cfs_rq.nr_running', [['CFS_RQ_NR_OFFSET', 'cfs_rq', 'nr_running']]),
    ]);

  const defines: Record<string, DefineValue> = {
    MAX_SLOTS,
    HOST: config.host,
    ...length.value.reads,
  };
  return {
    file: 'runqlen.bpf.c',
    defines,
    field: length.value.field,
    attachments: [sampling.choice, length.choice],
    attach: (bpf: BPF) => {
      bpf.attachPerfEvent({
        fnName: 'do_perf_event', evType: PERF_TYPE_SOFTWARE, evConfig: PERF_COUNT_SW_CPU_CLOCK, sampleFreq: config.frequency,
      });
    },
  };
}
