// offcputime's one configuration: the options as plain data, and a KernelView → offcputime.bpf.c's
// #defines, where context switches are seen and why, and the attach.
import type { BPF } from 'bcc-node-bindings';
import { chooseAttach } from '../../lib/run/attach-plan.ts';
import type { DefineValue, ToolProgram } from '../../lib/run/program.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';

export interface OffcputimeConfig {
  /** -p: this process only (its tgid). */
  tgid?: number;
  /** -t: this thread only. */
  tid?: number;
  /** -u / -k */
  threads?: 'user' | 'kernel';
  /** -U / -K: which stacks are walked (both by default). */
  stacks: 'both' | 'user' | 'kernel';
  /** -m / -M in microseconds; max undefined is bcc's U64_MAX. */
  minBlockUs: number;
  maxBlockUs?: number;
  /** --state */
  state?: number;
  /** --stack-storage-size */
  stackStorageSize: number;
}

export type SwitchHook = 'HOOK_TP' | 'HOOK_RAW_TP' | 'HOOK_KPROBE';
const HOOKS: SwitchHook[] = ['HOOK_TP', 'HOOK_RAW_TP', 'HOOK_KPROBE'];

export interface OffcputimeProgram extends ToolProgram {
  hook: SwitchHook;
}

/** bcc's BPF_HASH default: distinct (thread, stacks) pairs counted in one run. */
export const COUNTS_ENTRIES = 10240;
/** Threads off CPU at once that can be timed (an LRU map: the oldest are forgotten first). */
const START_ENTRIES = 16384;
/** New processes seen between two reads by user space (once a second). */
const NEW_TGID_ENTRIES = 1024;

const U64_MAX = (1n << 64n) - 1n;

/** The names gcc gives finish_task_switch when it specialises it (bcc's event_re). */
export const FINISH_TASK_SWITCH = ['finish_task_switch', ...Array.from({ length: 10 }, (_, i) => `finish_task_switch.isra.${i}`)];

function taskOffsets(kernel: KernelView, config: OffcputimeConfig, hook: SwitchHook): Record<string, DefineValue> {
  const need: Array<[string, string]> = [];
  if (hook !== 'HOOK_TP') need.push(['TASK_PID_OFFSET', 'pid']);
  if (hook === 'HOOK_KPROBE') need.push(['TASK_TGID_OFFSET', 'tgid']);
  if (config.threads) need.push(['TASK_FLAGS_OFFSET', 'flags']);
  const out: Record<string, DefineValue> = {};
  for (const [name, field] of need) {
    const at = kernel.offset('task_struct', field);
    if (at === undefined) throw new MissingPrerequisite(`needs task_struct.${field} from the kernel's BTF (/sys/kernel/btf/vmlinux), which this kernel lacks`);
    out[name] = at;
  }
  if (config.state !== undefined) {
    // Linux 5.14 renamed the long `state` to the unsigned int `__state`.
    const renamed = kernel.offset('task_struct', '__state');
    const old = renamed === undefined ? kernel.offset('task_struct', 'state') : undefined;
    if (renamed === undefined && old === undefined) {
      throw new MissingPrerequisite("--state needs task_struct.__state (or state) from the kernel's BTF (/sys/kernel/btf/vmlinux), which this kernel lacks");
    }
    out.TASK_STATE_OFFSET = renamed ?? old!;
    out.TASK_STATE_LONG = renamed === undefined;
  }
  return out;
}

export function configureOffcputime(config: OffcputimeConfig, kernel: KernelView = liveKernel()): OffcputimeProgram {
  // The raw tracepoint's task arguments: prev, then next (include/trace/events/sched.h).
  const prevArg = () => kernel.rawArg('sched_switch', 'task_struct');
  let finish: string | null | undefined;
  const finishTaskSwitch = () => (finish === undefined ? (finish = FINISH_TASK_SWITCH.find((f) => kernel.kernelFunction(f)) ?? null) : finish);

  const hook = chooseAttach<SwitchHook>('context switches', [
    {
      label: 'tracepoint sched:sched_switch',
      unavailable: () => (kernel.tracepoint('sched', 'sched_switch') ? null : 'no such tracepoint'),
      value: 'HOOK_TP',
    },
    {
      label: 'raw tracepoint sched_switch',
      unavailable: () => (!kernel.rawTracepoints() ? 'needs Linux 4.17'
        : prevArg() === undefined ? 'its arguments are not in BTF' : null),
      value: 'HOOK_RAW_TP',
    },
    {
      get label() { return `kprobe ${finishTaskSwitch() ?? 'finish_task_switch'} (bcc's)`; },
      kind: 'kprobe',
      unavailable: () => (!kernel.kprobes() ? 'this kernel has no kprobes'
        : finishTaskSwitch() === null ? 'no finish_task_switch in /proc/kallsyms' : null),
      value: 'HOOK_KPROBE',
    },
  ]);
  const rawPrev = hook.value === 'HOOK_RAW_TP' ? prevArg() ?? 1 : 1;
  const kprobeTarget = hook.value === 'HOOK_KPROBE' ? finishTaskSwitch()! : '';

  return {
    file: 'offcputime.bpf.c',
    defines: {
      ...Object.fromEntries(HOOKS.map((h) => [h, h === hook.value])),
      RAW_PREV_ARG: rawPrev,
      RAW_NEXT_ARG: rawPrev + 1,
      ...taskOffsets(kernel, config, hook.value),
      FILTER_TGID: config.tgid !== undefined,
      TARGET_TGID: config.tgid ?? 0,
      FILTER_TID: config.tid !== undefined,
      TARGET_TID: config.tid ?? 0,
      USER_THREADS_ONLY: config.threads === 'user',
      KERNEL_THREADS_ONLY: config.threads === 'kernel',
      FILTER_STATE: config.state !== undefined,
      TARGET_STATE: config.state ?? 0,
      MIN_BLOCK_US: BigInt(config.minBlockUs),
      MAX_BLOCK_US: config.maxBlockUs === undefined ? U64_MAX : BigInt(config.maxBlockUs),
      USER_STACKS: config.stacks !== 'kernel',
      KERNEL_STACKS: config.stacks !== 'user',
      STACK_STORAGE_SIZE: config.stackStorageSize,
      COUNTS_ENTRIES,
      START_ENTRIES,
      NEW_TGID_ENTRIES,
    },
    attachments: [hook.choice],
    hook: hook.value,
    attach(bpf: BPF) {
      switch (hook.value) {
        case 'HOOK_TP': bpf.attachTracepoint({ tp: 'sched:sched_switch', fnName: 'tracepoint__sched__sched_switch' }); return;
        case 'HOOK_RAW_TP': bpf.attachRawTracepoint({ tp: 'sched_switch', fnName: 'raw_tracepoint__sched_switch' }); return;
        case 'HOOK_KPROBE': bpf.attachKprobe({ event: kprobeTarget, fnName: 'oncpu' }); return;
      }
    },
  };
}
