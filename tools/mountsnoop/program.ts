// mountsnoop's one configuration: options and a KernelView → mountsnoop.bpf.c's #defines, where
// each call is hooked and why, and the attach.
import type { BPF } from 'bcc-node-bindings';
import { ringBufferPages } from '../../lib/run/event-channel.ts';
import { chooseAttach, type AttachCandidate, type AttachChoice } from '../../lib/run/attach-plan.ts';
import type { DefineValue, ToolProgram } from '../../lib/run/program.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { mountNamespaceOffsets, taskCommOffset, taskParentOffsets } from '../../lib/kernel/offsets.ts';
import { ADDED_IN, MOUNT_CALLS, type MountCall } from './calls.ts';

export interface MountsnoopConfig {
  /** --cgroupmap / --mntnsmap: the #defines containerFilters() made for the pinned maps. */
  containers?: Record<string, DefineValue>;
}

export interface MountsnoopProgram extends ToolProgram {
  /** Records come through a ring buffer, else a perf buffer (bpfkit/events.h). */
  ringBuffer: boolean;
  /** How each call is hooked (calls with kind 'none' are not traced on this kernel). */
  hooks: Record<MountCall, Hook>;
}

export type Hook = { kind: 'tracepoint' | 'kprobe' | 'none'; fn: string };

const HOOK_VALUE = { none: 0, tracepoint: 1, kprobe: 2 } as const;

export function configureMountsnoop(config: MountsnoopConfig, kernel: KernelView = liveKernel()): MountsnoopProgram {
  const choices: AttachChoice[] = [];
  const hooks = {} as Record<MountCall, Hook>;
  for (const call of MOUNT_CALLS) {
    const chosen = chooseAttach(`${call}()`, syscallHooks(call, kernel));
    hooks[call] = chosen.value;
    choices.push(chosen.choice);
  }
  const stream = chooseAttach('event records', [
    { label: 'ring buffer', unavailable: () => (kernel.ringBuffer() ? null : 'needs Linux 5.8'), value: true },
    { label: 'perf buffer', unavailable: () => null, value: false },
  ]);
  const ringBuffer = stream.value;
  const hookDefines = Object.fromEntries(MOUNT_CALLS.map((call) => [`HOOK_${call.toUpperCase()}`, HOOK_VALUE[hooks[call].kind]]));

  return {
    file: 'mountsnoop.bpf.c',
    defines: {
      ...hookDefines,
      FILTER_CGROUP_MAP: false,
      FILTER_MNTNS_MAP: false,
      ...config.containers,
      USE_RINGBUF: ringBuffer,
      ...(ringBuffer ? { RINGBUF_PAGES: ringBufferPages(kernel.cpus()) } : {}),
      // Read at the running kernel's offsets: bpfkit/task.h says why headers cannot be trusted for them.
      ...taskParentOffsets(kernel),
      ...taskCommOffset(kernel),
      ...mountNamespaceOffsets(kernel),
    },
    attachments: [...choices, stream.choice],
    ringBuffer,
    hooks,
    attach(bpf: BPF) {
      // Each exit before its entry, so that no entry is noted whose exit could be missed.
      for (const call of MOUNT_CALLS) {
        const hook = hooks[call];
        if (hook.kind === 'tracepoint') {
          bpf.attachTracepoint({ tp: `syscalls:sys_exit_${call}`, fnName: 'mount_call_exit' });
          bpf.attachTracepoint({ tp: `syscalls:sys_enter_${call}`, fnName: `sys_enter_${call}` });
        } else if (hook.kind === 'kprobe') {
          bpf.attachKretprobe({ event: hook.fn, fnName: 'mount_call_return' });
          bpf.attachKprobe({ event: hook.fn, fnName: `syscall__${call}` });
        }
      }
    },
  };
}

/** The syscall tracepoints, else kprobes on its kernel function (bcc's only way); the new API may be absent. */
function syscallHooks(call: MountCall, kernel: KernelView): AttachCandidate<Hook>[] {
  // Looked up only when the tracepoints are missing: reading /proc/kallsyms takes 100 ms.
  let fn: string | null | undefined;
  const kernelFunction = () => (fn === undefined ? (fn = kernel.syscallFunction(call)) : fn);
  const added = ADDED_IN[call];
  return [
    {
      label: `tracepoints syscalls:sys_enter_${call} and sys_exit_${call}`,
      unavailable: () => (kernel.tracepoint('syscalls', `sys_enter_${call}`) && kernel.tracepoint('syscalls', `sys_exit_${call}`)
        ? null
        : added && kernel.tracepoint('syscalls', 'sys_enter_mount') ? `no such tracepoints (${call}() arrived in Linux ${added})`
          : 'this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS is off)'),
      value: { kind: 'tracepoint', fn: '' },
    },
    {
      get label() { return `kprobe and kretprobe on ${kernelFunction() ?? `the ${call} syscall function`}`; },
      unavailable: () => (!kernel.kprobes() ? 'this kernel has no kprobes'
        : kernelFunction() === null ? `no ${call} syscall function in /proc/kallsyms` : null),
      get value(): Hook { return { kind: 'kprobe', fn: kernelFunction() ?? '' }; },
    },
    ...(added ? [{ label: `nothing (no ${call} hook on this kernel)`, unavailable: () => null, value: NO_HOOK }] : []),
  ];
}

const NO_HOOK: Hook = { kind: 'none', fn: '' };
