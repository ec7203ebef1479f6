// syscount's one configuration: what is counted (plain data from the options, or the exporter's
// fixed choice) and a KernelView → the C program's #defines, where each probe goes, and the attach.
// The tool and `bpfkit exporter` both load syscount.bpf.c through configureSyscount.
import type { BPF } from 'bcc-node-bindings';
import { chooseAttach, type AttachChoice } from '../../lib/run/attach-plan.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import type { DefineValue, ToolProgram } from '../../lib/run/program.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { NR_SLOTS } from './options.ts';
import { syscallByName } from '../../lib/kernel/syscalls.ts';

export interface SyscountConfig {
  /** -x: only calls that return an error. */
  failures: boolean;
  /** -e: only calls that fail with this errno. */
  errno?: number;
  /** -L: time each call. */
  latency: boolean;
  /** -P: by process instead of by syscall. */
  byProcess: boolean;
  /** -p, or --exec's held command. */
  pid?: number;
  tid?: number;
  ppid?: number;
  /** --cgroup: the tool puts the cgroup's descriptor in the `cgroup` map before attaching. */
  cgroup: boolean;
  /** --syscall: only this number. */
  syscall?: number;
  /** Serving Prometheus: adds the maps only metrics read (failures by errno with -x, buckets with -L). */
  metrics: boolean;
}

/** Sizes of the per-process table (-P) and of the per-thread start table (-L). */
export const MAX_PROCESSES = 16384;
export const MAX_THREADS = 16384;

/** What the exporter counts: every call on the machine, by syscall, at sys_enter only. */
export const EXPORTER_CONFIG: SyscountConfig = {
  failures: false, latency: false, byProcess: false, cgroup: false, metrics: true,
};

/** Where struct pt_regs keeps the syscall number: the field and its size are the architecture's ABI. */
const REGS_NR: Partial<Record<NodeJS.Architecture, { field: string; size: number }>> = {
  x64: { field: 'orig_ax', size: 8 },
  arm64: { field: 'syscallno', size: 4 },
};

interface Hook {
  purpose: string;
  category: string;
  event: string;
  /** Why the raw tracepoint would not do in this mode, or null. */
  rawNeeds?: string | null;
}

interface PlannedHook extends Hook {
  raw: boolean;
  choice: AttachChoice;
}

export function configureSyscount(config: SyscountConfig, kernel: KernelView = liveKernel()): ToolProgram {
  // Plain counting needs sys_enter only; the result (-x, -e) needs sys_exit; -L needs both, and
  // thread exits to drop each thread's start entry.
  const countAtExit = config.failures || config.errno !== undefined || config.latency;
  const regsNr = countAtExit && !config.latency ? syscallNrInRegs(kernel) : null;

  /** Each event as a raw tracepoint (cheapest: no record built) or else as a tracepoint. */
  const plan = (hook: Hook): PlannedHook => {
    const { value, choice } = chooseAttach(hook.purpose, [
      {
        label: `raw tracepoint ${hook.event}`,
        unavailable: () => (!kernel.rawTracepoints() ? 'this kernel has no raw tracepoints (4.17+)' : hook.rawNeeds ?? null),
        value: true,
      },
      {
        label: `tracepoint ${hook.category}:${hook.event}`,
        unavailable: () => (kernel.tracepoint(hook.category, hook.event) ? null : 'no such tracepoint in tracefs'),
        value: false,
      },
    ]);
    return { ...hook, raw: value, choice };
  };
  const enter = !countAtExit || config.latency ? plan({ purpose: 'syscall enter', category: 'raw_syscalls', event: 'sys_enter' }) : null;
  const exit = countAtExit ? plan({
    purpose: 'syscall exit', category: 'raw_syscalls', event: 'sys_exit',
    rawNeeds: config.latency || regsNr ? null : 'the syscall number is at no known pt_regs field for this architecture',
  }) : null;
  const threadExit = config.latency ? plan({ purpose: 'thread exit (drops its -L start entry)', category: 'sched', event: 'sched_process_exit' }) : null;

  const defines: Record<string, DefineValue> = {
    ENTER_RAW: enter?.raw ?? false,
    EXIT_RAW: exit?.raw ?? false,
    THREAD_EXIT_RAW: threadExit?.raw ?? false,
    LATENCY: config.latency,
    BY_PROCESS: config.byProcess,
    FILTER_FAILED: config.failures,
    FILTER_ERRNO: config.errno ?? 0,
    FILTER_PID: config.pid ?? 0,
    FILTER_TID: config.tid ?? 0,
    FILTER_PPID: config.ppid ?? 0,
    FILTER_CGROUP: config.cgroup,
    FILTER_SYSCALL: config.syscall ?? -1,
    NR_SLOTS,
    MAX_PROCESSES,
    MAX_THREADS,
    NR_EXIT_GROUP: syscallByName('exit_group')?.nr ?? -2,
    ...(regsNr ? { REGS_NR_OFFSET: regsNr.offset, REGS_NR_SIZE: regsNr.size } : {}),
    ...(config.ppid !== undefined ? parentOffsets(kernel) : {}),
    METRICS_ERRNO: config.metrics && config.failures,
    METRICS_LATENCY_HIST: config.metrics && config.latency,
  };

  const hooks = [enter, exit, threadExit].filter((h) => h !== null);
  return {
    file: 'syscount.bpf.c',
    defines,
    attachments: hooks.map((h) => h.choice),
    attach(bpf: BPF) {
      // Thread exits first and sys_enter last, so no start entry is made that could not be dropped.
      for (const { raw, category, event } of [threadExit, exit, enter].filter((h) => h !== null)) {
        if (raw) bpf.attachRawTracepoint({ tp: event, fnName: `raw_tracepoint__${event}` });
        else bpf.attachTracepoint({ tp: `${category}:${event}`, fnName: `tracepoint__${category}__${event}` });
      }
    },
  };
}

/** For a raw sys_exit, which gets only the registers and the result. */
function syscallNrInRegs(kernel: KernelView): { offset: number; size: number } | null {
  const at = REGS_NR[process.arch];
  const offset = at ? kernel.offset('pt_regs', at.field) : undefined;
  return at && offset !== undefined ? { offset, size: at.size } : null;
}

/** For bpfkit_current_ppid() (bpfkit/task.h): from the running kernel's BTF, never from headers. */
function parentOffsets(kernel: KernelView): Record<string, number> {
  const realParent = kernel.offset('task_struct', 'real_parent');
  const tgid = kernel.offset('task_struct', 'tgid');
  if (realParent === undefined || tgid === undefined) {
    throw new MissingPrerequisite('-c reads the parent at offsets from the kernel\'s BTF, and this kernel has none (/sys/kernel/btf/vmlinux)');
  }
  return { TASK_REAL_PARENT_OFFSET: realParent, TASK_TGID_OFFSET: tgid };
}
