// execsnoop's one configuration: what to report (plain data from the options, or the exporter's
// fixed choice) and a KernelView → execsnoop.bpf.c's #defines, where each probe goes and why,
// and the attach. The tool and `bpfkit exporter` both load the program through configureExecsnoop.
import type { BPF } from 'bcc-node-bindings';
import { ringBufferPages } from '../../lib/run/event-channel.ts';
import { chooseAttach, type AttachCandidate } from '../../lib/run/attach-plan.ts';
import type { DefineValue, ToolProgram } from '../../lib/run/program.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { argAreaOffsets, mountNamespaceOffsets, taskCommOffset, taskParentOffsets } from '../../lib/kernel/offsets.ts';

export interface ExecsnoopConfig {
  /** -x: failed execs too, which needs a hook on each syscall. */
  fails: boolean;
  /** --max-args: arguments read for a failed exec (a success's are read in one piece). */
  maxArgs: number;
  /** -u */
  uid?: number;
  /** -P */
  ppid?: number;
  /** --cgroup: the tool puts the cgroup's descriptor in `cgroup_filter` before attaching. */
  cgroup?: boolean;
  /** --cgroupmap / --mntnsmap: the #defines containerFilters() made for the pinned maps. */
  containers?: Record<string, DefineValue>;
}

export interface ExecsnoopProgram extends ToolProgram {
  /** Records come through a ring buffer, else a perf buffer (bpfkit/events.h). */
  ringBuffer: boolean;
}

/** What the exporter counts: every exec and failed exec on the machine, by command name only. */
export const EXPORTER_CONFIG: ExecsnoopConfig = {
  fails: true,
  // The collector keeps the command name: one argument is read for a failure, not twenty.
  maxArgs: 1,
};

type Syscall = 'execve' | 'execveat';
type Hook = { kind: 'tracepoint' | 'kprobe' | 'none'; fn: string };

export function configureExecsnoop(config: ExecsnoopConfig, kernel: KernelView = liveKernel()): ExecsnoopProgram {
  // Successes need only sched_process_exec; failures need the syscalls themselves.
  const success = chooseAttach('successful exec()s', [
    {
      label: 'tracepoint sched:sched_process_exec',
      unavailable: () => (kernel.tracepoint('sched', 'sched_process_exec') ? null : 'no such tracepoint'),
      value: true,
    },
    { label: 'the exit of execve/execveat, hooked as below', unavailable: () => null, value: false },
  ]);
  const atExecTracepoint = success.value;
  const needSyscalls = config.fails || !atExecTracepoint;
  const purpose = config.fails ? 'failed' : 'every';
  const execve = needSyscalls ? chooseAttach(`${purpose} execve()`, syscallHooks('execve', kernel)) : null;
  const execveat = needSyscalls ? chooseAttach(`${purpose} execveat()`, syscallHooks('execveat', kernel)) : null;
  const stream = chooseAttach('event records', [
    { label: 'ring buffer', unavailable: () => (kernel.ringBuffer() ? null : 'needs Linux 5.8'), value: true },
    { label: 'perf buffer', unavailable: () => null, value: false },
  ]);
  const ringBuffer = stream.value;
  const hooks: Array<[Syscall, Hook]> = [['execve', execve?.value ?? NO_HOOK], ['execveat', execveat?.value ?? NO_HOOK]];
  const mountNs = config.containers?.FILTER_MNTNS_MAP === true;

  return {
    file: 'execsnoop.bpf.c',
    defines: {
      TRACE_FAILS: config.fails,
      SUCCESS_AT_EXEC_TP: atExecTracepoint,
      EXECVE_TRACEPOINT: hooks[0][1].kind === 'tracepoint',
      EXECVE_KPROBE: hooks[0][1].kind === 'kprobe',
      EXECVEAT_TRACEPOINT: hooks[1][1].kind === 'tracepoint',
      EXECVEAT_KPROBE: hooks[1][1].kind === 'kprobe',
      MAX_ARGS: config.maxArgs,
      FILTER_UID: config.uid !== undefined,
      TARGET_UID: config.uid ?? 0,
      FILTER_PPID: config.ppid !== undefined,
      TARGET_PPID: config.ppid ?? 0,
      FILTER_CGROUP: config.cgroup === true,
      FILTER_CGROUP_MAP: false,
      FILTER_MNTNS_MAP: false,
      ...config.containers,
      ...(mountNs ? mountNamespaceOffsets(kernel) : {}),
      USE_RINGBUF: ringBuffer,
      ...(ringBuffer ? { RINGBUF_PAGES: ringBufferPages(kernel.cpus()) } : {}),
      // Read at the running kernel's offsets: bpfkit/task.h says why headers cannot be trusted for them.
      ...taskParentOffsets(kernel),
      ...taskCommOffset(kernel),
      ...argAreaOffsets(kernel),
    },
    attachments: [success.choice, ...(execve ? [execve.choice] : []), ...(execveat ? [execveat.choice] : []), stream.choice],
    ringBuffer,
    attach(bpf: BPF) {
      if (atExecTracepoint) {
        bpf.attachTracepoint({ tp: 'sched:sched_process_exec', fnName: 'tracepoint__sched__sched_process_exec' });
      }
      // Each exit before its entry, so that no entry is noted whose exit could be missed.
      for (const [syscall, hook] of hooks) {
        if (hook.kind === 'tracepoint') {
          bpf.attachTracepoint({ tp: `syscalls:sys_exit_${syscall}`, fnName: `tracepoint__syscalls__sys_exit_${syscall}` });
          bpf.attachTracepoint({ tp: `syscalls:sys_enter_${syscall}`, fnName: `tracepoint__syscalls__sys_enter_${syscall}` });
        } else if (hook.kind === 'kprobe') {
          bpf.attachKretprobe({ event: hook.fn, fnName: 'exec_return' });
          bpf.attachKprobe({ event: hook.fn, fnName: `syscall__${syscall}` });
        }
      }
    },
  };
}

const NO_HOOK: Hook = { kind: 'none', fn: '' };

/** The syscall tracepoints, else kprobes on its kernel function (bcc's only way). */
function syscallHooks(syscall: Syscall, kernel: KernelView): AttachCandidate<Hook>[] {
  // Looked up only when the tracepoints are missing: reading /proc/kallsyms takes 100 ms.
  let fn: string | null | undefined;
  const kernelFunction = () => (fn === undefined ? (fn = kernel.syscallFunction(syscall)) : fn);
  return [
    {
      label: `tracepoints syscalls:sys_enter_${syscall} and sys_exit_${syscall}`,
      unavailable: () => (kernel.tracepoint('syscalls', `sys_enter_${syscall}`) && kernel.tracepoint('syscalls', `sys_exit_${syscall}`)
        ? null : 'this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS is off)'),
      value: { kind: 'tracepoint', fn: '' },
    },
    {
      get label() { return `kprobe and kretprobe on ${kernelFunction() ?? `the ${syscall} syscall function`}`; },
      unavailable: () => (!kernel.kprobes() ? 'this kernel has no kprobes'
        : kernelFunction() === null ? `no ${syscall} syscall function in /proc/kallsyms` : null),
      get value(): Hook { return { kind: 'kprobe', fn: kernelFunction() ?? '' }; },
    },
    // execveat() arrived in 3.19; a kernel without it has nothing more to trace.
    ...(syscall === 'execveat' ? [{ label: 'nothing (no execveat hook on this kernel)', unavailable: () => null, value: NO_HOOK }] : []),
  ];
}
