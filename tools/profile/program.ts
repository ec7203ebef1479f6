// profile's one configuration: what to sample and keep (plain data from the options) and a kernel
// view → profile.bpf.c's #defines, which perf event drives the sampling and why, and the attach.
import type { BPF } from 'bcc-node-bindings';
import { chooseAttach } from '../../lib/run/attach-plan.ts';
import type { DefineValue, ToolProgram } from '../../lib/run/program.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { mountNamespaceOffsets, taskParentOffsets } from '../../lib/kernel/offsets.ts';
import { perfEventProbe, type PerfCounter } from './perf-probe.ts';

/** A kernel view that can also say whether a perf event opens here. */
export interface ProfileKernel extends KernelView {
  /** null when a sampling perf event of this counter opens on this machine, else why not. */
  perfEvent(counter: PerfCounter): string | null;
}

export function liveProfileKernel(): ProfileKernel {
  return { ...liveKernel(), perfEvent: perfEventProbe };
}

export interface ProfileConfig {
  /** -p: processes (tgids) to sample; -L: threads. At most one of them. */
  pids?: readonly number[];
  tids?: readonly number[];
  /** -U: no kernel stacks; -K: no user stacks. */
  kernelStacks: boolean;
  userStacks: boolean;
  /** -I */
  includeIdle: boolean;
  /** -F HZ or -c COUNT (exactly one). */
  frequency?: number;
  period?: number;
  /** -C, or undefined for every online CPU. */
  cpu?: number;
  /** --stack-storage-size */
  stackStorage: number;
  /** Counts kept per thread too (-L with --json): the JSON names the thread. */
  perThread: boolean;
  /** --cgroupmap / --mntnsmap: the #defines containerFilters() made for the pinned maps. */
  containers?: Record<string, DefineValue>;
}

export interface ProfileProgram extends ToolProgram {
  counter: PerfCounter;
  /** Entries of the counts map: distinct (process, command, stacks) keys it holds. */
  countEntries: number;
}

// PERF_TYPE_HARDWARE / PERF_COUNT_HW_CPU_CYCLES, PERF_TYPE_SOFTWARE / PERF_COUNT_SW_CPU_CLOCK.
export const PERF_EVENTS: Record<PerfCounter, { evType: number; evConfig: number }> = {
  'cpu-cycles': { evType: 0, evConfig: 0 },
  'cpu-clock': { evType: 1, evConfig: 0 },
};

/** bcc's BPF_HASH default; a larger stack store gets as many count slots as it has stacks. */
const MIN_COUNT_ENTRIES = 10240;

export function configureProfile(config: ProfileConfig, kernel: ProfileKernel = liveProfileKernel()): ProfileProgram {
  // Cycles are what perf samples by default: they follow the work, not the clock (a CPU waiting on
  // memory at a lower frequency is weighted as it costs). Two cases keep bcc's cpu-clock: -c,
  // whose period bcc defines in cpu-clock events (ns), and -I, since cycles stop while a CPU
  // idles in halt and idle would vanish from the profile it was asked for.
  const cyclesRuledOut = config.period !== undefined ? "-c: bcc's period counts cpu-clock events (nanoseconds)"
    : config.includeIdle ? '-I: cycles do not count while a CPU idles in halt; cpu-clock does' : null;
  const sampler = chooseAttach<PerfCounter>('CPU samples', [
    {
      label: 'perf event hardware cpu-cycles (the CPU\'s PMU)',
      unavailable: () => cyclesRuledOut ?? kernel.perfEvent('cpu-cycles'),
      value: 'cpu-cycles',
    },
    {
      label: "perf event software cpu-clock (bcc's)",
      unavailable: () => kernel.perfEvent('cpu-clock'),
      value: 'cpu-clock',
    },
  ]);
  const counter = sampler.value;
  const containers = config.containers ?? {};
  const mountNs = containers.FILTER_MNTNS_MAP === true;
  const targets = config.pids ?? config.tids ?? [];
  const countEntries = Math.max(MIN_COUNT_ENTRIES, config.stackStorage);

  return {
    file: 'profile.bpf.c',
    defines: {
      FILTER_PID: config.pids !== undefined,
      FILTER_TID: config.tids !== undefined,
      MAX_TARGETS: Math.max(1, targets.length),
      INCLUDE_IDLE: config.includeIdle,
      KERNEL_STACKS: config.kernelStacks,
      USER_STACKS: config.userStacks,
      PER_THREAD: config.perThread,
      STACK_STORAGE_SIZE: config.stackStorage,
      COUNT_ENTRIES: countEntries,
      FILTER_CGROUP_MAP: false,
      FILTER_MNTNS_MAP: false,
      ...containers,
      ...(mountNs ? { ...taskParentOffsets(kernel), ...mountNamespaceOffsets(kernel) } : {}),
    },
    attachments: [sampler.choice],
    counter,
    countEntries,
    attach(bpf: BPF) {
      bpf.attachPerfEvent({
        fnName: 'do_perf_event',
        ...PERF_EVENTS[counter],
        ...(config.period !== undefined ? { samplePeriod: config.period } : { sampleFreq: config.frequency ?? 49 }),
        ...(config.cpu !== undefined ? { cpu: config.cpu } : {}),
      });
    },
  };
}
