// capable's one configuration: what to produce (records, counts, or both) and a KernelView →
// capable.bpf.c's #defines, where capability checks are seen and why, and the attach. The tool
// and `bpfkit exporter` both load capable through configureCapable.
import type { ArrayTable, BPF } from 'bcc-node-bindings';
import { burstRingBufferPages } from '../../lib/run/event-channel.ts';
import { chooseAttach } from '../../lib/run/attach-plan.ts';
import type { DefineValue, ToolProgram } from '../../lib/run/program.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { mountNamespaceOffsets } from '../../lib/kernel/offsets.ts';
import { releaseAtLeast } from '../../lib/kernel/release.ts';

export interface CapableConfig {
  /** -v: non-audit checks too (the kprobe can tell; the tracepoint shows every check anyway). */
  verbose: boolean;
  /** -p: one process. */
  pid?: number;
  /** -K, -U */
  kernelStack?: boolean;
  userStack?: boolean;
  /** --unique: one record per capability, process (or cgroup with --cgroupmap) and stacks. */
  unique?: boolean;
  /** One record per check: the printed output. */
  events: boolean;
  /** Counts per capability and verdict in the kernel: --metrics. */
  count: boolean;
  /** --cgroupmap / --mntnsmap: the #defines containerFilters() made for the pinned maps. */
  containers?: Record<string, DefineValue>;
  /** The process left out: the tool itself (its own bpf() and perf calls check capabilities). */
  self: number;
}

export type CapHook = 'tracepoint' | 'kprobe';

export interface CapableProgram extends ToolProgram {
  hook: CapHook;
  /** Records come through a ring buffer, else a perf buffer (bpfkit/events.h). */
  ringBuffer: boolean;
  /** The hook gives cap_capable()'s opts: AUDIT, INSETID, and -v's filter. */
  hasOpts: boolean;
}

/** The exporter's: every check counted, no records. */
export const EXPORTER_CONFIG: Omit<CapableConfig, 'self'> = { verbose: true, events: false, count: true };

/**
 * Distinct stacks the kernel keeps at once (bcc's capable: 2048). User space frees each one as it
 * reads it, so this bounds the stacks in flight, not those seen in a run.
 */
const STACK_ENTRIES = 2048;

export function configureCapable(config: CapableConfig, kernel: KernelView = liveKernel()): CapableProgram {
  const hook = chooseAttach<CapHook>('capability checks', [
    {
      label: 'tracepoint capability:cap_capable (no opts: AUDIT and INSETID unknown, every check shown)',
      unavailable: () => (kernel.tracepoint('capability', 'cap_capable') ? null : 'no such tracepoint (Linux 6.14+)'),
      value: 'tracepoint',
    },
    {
      label: "kprobe and kretprobe on cap_capable (bcc's: AUDIT and INSETID from its opts)",
      unavailable: () => (!kernel.kprobes() ? 'this kernel has no kprobes'
        : !kernel.kernelFunction('cap_capable') ? 'no cap_capable in /proc/kallsyms' : null),
      value: 'kprobe',
    },
  ]);
  const credUid = kernel.offset('cred', 'uid');
  const uid = chooseAttach('UID', [
    {
      label: "the checked credentials' (struct cred.uid at the running kernel's BTF offset)",
      unavailable: () => (credUid === undefined ? 'no struct cred in BTF (/sys/kernel/btf/vmlinux)' : null),
      value: credUid ?? -1,
    },
    { label: "the current task's (bpf_get_current_uid_gid(), as bcc)", unavailable: () => null, value: -1 },
  ]);
  const stream = config.events ? chooseAttach('event records', [
    { label: 'ring buffer', unavailable: () => (kernel.ringBuffer() ? null : 'needs Linux 5.8'), value: true },
    { label: 'perf buffer', unavailable: () => null, value: false },
  ]) : null;
  const ringBuffer = stream?.value ?? false;
  const kprobe = hook.value === 'kprobe';
  const mountNs = config.containers?.FILTER_MNTNS_MAP === true;

  return {
    file: 'capable.bpf.c',
    defines: {
      HOOK_TP: !kprobe,
      HOOK_KPROBE: kprobe,
      // Linux 5.1 turned cap_capable's int audit into a bitmask of CAP_OPT_* (commit c1a85a00ea66).
      OPTS_BITMASK: kprobe && releaseAtLeast(5, 1, kernel.release),
      CRED_UID_OFFSET: uid.value,
      FILTER_PID: config.pid !== undefined,
      TARGET_PID: config.pid ?? 0,
      AUDIT_ONLY: kprobe && !config.verbose,
      UNIQUE: config.unique === true,
      UNIQUE_BY_CGROUP: config.unique === true && config.containers?.FILTER_CGROUP_MAP === true,
      KERNEL_STACKS: config.kernelStack === true,
      USER_STACKS: config.userStack === true,
      STACK_ENTRIES,
      EMIT_EVENTS: config.events,
      COUNT_CHECKS: config.count,
      FILTER_CGROUP_MAP: false,
      FILTER_MNTNS_MAP: false,
      ...config.containers,
      ...(mountNs ? mountNamespaceOffsets(kernel) : {}),
      USE_RINGBUF: ringBuffer,
      // A loop of checks (setpriority, chown) makes hundreds of thousands a second: the default
      // ring (8,192 records of 64 bytes) fills while the reader sleeps between drains.
      ...(ringBuffer ? { RINGBUF_PAGES: burstRingBufferPages(kernel.cpus()) } : {}),
    },
    attachments: [hook.choice, uid.choice, ...(stream ? [stream.choice] : [])],
    hook: hook.value,
    ringBuffer,
    hasOpts: kprobe,
    attach(bpf: BPF) {
      bpf.table<ArrayTable<number>>('self_pid').set(0, config.self);
      if (kprobe) {
        // The return before the entry, so that no entry is noted whose return could be missed.
        bpf.attachKretprobe({ event: 'cap_capable', fnName: 'capable_return' });
        bpf.attachKprobe({ event: 'cap_capable', fnName: 'capable_entry' });
      } else {
        bpf.attachTracepoint({ tp: 'capability:cap_capable', fnName: 'tracepoint__capability__cap_capable' });
      }
    },
  };
}
