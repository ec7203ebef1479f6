// opensnoop's one configuration: what to report (plain data from the options, or the exporter's
// fixed choice) and a KernelView → opensnoop.bpf.c's #defines, where each probe goes and why,
// and the attach. The tool and `bpfkit exporter` both load the program through configureOpensnoop.
import type { BPF } from 'bcc-node-bindings';
import { busyRingBufferPages } from '../../lib/run/event-channel.ts';
import { chooseAttach, type AttachCandidate } from '../../lib/run/attach-plan.ts';
import type { DefineValue, ToolProgram } from '../../lib/run/program.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { mountNamespaceOffsets } from '../../lib/kernel/offsets.ts';

export interface OpensnoopConfig {
  /** Send one record per open (the printed rows, --json). */
  records: boolean;
  /** Count opens by (comm, errno) in the kernel (--metrics, the exporter). */
  count: boolean;
  /** -x: failed opens only. */
  failedOnly: boolean;
  /** -p */
  pid?: number;
  /** -t (wins over -p, as in bcc) */
  tid?: number;
  /** -u */
  uid?: number;
  /** -f: open flags of which at least one must be set; `rdonly` for O_RDONLY, which is no bit. */
  flags?: { mask: number; rdonly: boolean };
  /** -F: the base directory of relative paths, read in the kernel. */
  fullPath: boolean;
  /** -b: ring buffer pages (a power of two); the default is busyRingBufferPages(). */
  bufferPages?: number;
  /** --cgroupmap / --mntnsmap: the #defines containerFilters() made for the pinned maps. */
  containers?: Record<string, DefineValue>;
}

export interface OpensnoopProgram extends ToolProgram {
  /** Records come through a ring buffer, else a perf buffer (bpfkit/events.h). */
  ringBuffer: boolean;
}

/** What the exporter counts: every open on the machine, by command name and errno, in the kernel. */
export const EXPORTER_CONFIG: OpensnoopConfig = { records: false, count: true, failedOnly: false, fullPath: false };

export const SYSCALLS = ['open', 'openat', 'openat2'] as const;
type Syscall = typeof SYSCALLS[number];
type Hook = { kind: 'tracepoint' | 'kprobe' | 'none'; fn: string };
const NO_HOOK: Hook = { kind: 'none', fn: '' };

export function configureOpensnoop(config: OpensnoopConfig, kernel: KernelView = liveKernel()): OpensnoopProgram {
  const hooks = SYSCALLS.map((syscall) => {
    const choice = chooseAttach(`${syscall}()`, syscallHooks(syscall, kernel));
    return { syscall, hook: choice.value, choice: choice.choice };
  });
  const stream = config.records ? chooseAttach('event records', [
    { label: 'ring buffer', unavailable: () => (kernel.ringBuffer() ? null : 'needs Linux 5.8'), value: true },
    { label: 'perf buffer', unavailable: () => null, value: false },
  ]) : null;
  const ringBuffer = stream?.value ?? false;
  const mountNs = config.containers?.FILTER_MNTNS_MAP === true;
  const defines: Record<string, DefineValue> = {};
  for (const { syscall, hook } of hooks) {
    defines[`${syscall.toUpperCase()}_TRACEPOINT`] = hook.kind === 'tracepoint';
    defines[`${syscall.toUpperCase()}_KPROBE`] = hook.kind === 'kprobe';
  }
  // -t wins over -p, as bcc's does: one of them reaches the kernel.
  const pid = config.tid === undefined ? config.pid : undefined;
  Object.assign(defines, {
    EMIT_RECORDS: config.records,
    COUNT_OPENS: config.count,
    FAILED_ONLY: config.failedOnly,
    FILTER_PID: pid !== undefined,
    TARGET_PID: pid ?? 0,
    FILTER_TID: config.tid !== undefined,
    TARGET_TID: config.tid ?? 0,
    FILTER_UID: config.uid !== undefined,
    TARGET_UID: config.uid ?? 0,
    FILTER_FLAGS: config.flags !== undefined,
    FLAGS_MASK: config.flags?.mask ?? 0,
    FLAGS_RDONLY: config.flags?.rdonly ?? false,
    FULL_PATH: config.fullPath && config.records,
    FILTER_CGROUP_MAP: false,
    FILTER_MNTNS_MAP: false,
    ...config.containers,
    ...(mountNs ? mountNamespaceOffsets(kernel) : {}),
    ...(config.fullPath && config.records ? fullPathOffsets(kernel) : {}),
    USE_RINGBUF: ringBuffer,
    ...(ringBuffer ? { RINGBUF_PAGES: config.bufferPages ?? busyRingBufferPages(kernel.cpus()) } : {}),
  });
  // Counting alone (no -f) needs only the exits: bcc's per-open entry stash is skipped.
  const entries = config.records || config.flags !== undefined;

  return {
    file: 'opensnoop.bpf.c',
    defines,
    attachments: [...hooks.map((h) => h.choice), ...(stream ? [stream.choice] : [])],
    ringBuffer,
    attach(bpf: BPF) {
      // Each exit before its entry, so that no entry is stashed whose exit could be missed.
      for (const { syscall, hook } of hooks) {
        if (hook.kind === 'tracepoint') {
          bpf.attachTracepoint({ tp: `syscalls:sys_exit_${syscall}`, fnName: `tracepoint__syscalls__sys_exit_${syscall}` });
          if (entries) bpf.attachTracepoint({ tp: `syscalls:sys_enter_${syscall}`, fnName: `tracepoint__syscalls__sys_enter_${syscall}` });
        } else if (hook.kind === 'kprobe') {
          bpf.attachKretprobe({ event: hook.fn, fnName: 'open_return' });
          if (entries) bpf.attachKprobe({ event: hook.fn, fnName: `syscall__${syscall}` });
        }
      }
    },
  };
}

/** The syscall tracepoints, else kprobes on its kernel function (bcc's only way). */
function syscallHooks(syscall: Syscall, kernel: KernelView): AttachCandidate<Hook>[] {
  // Looked up only when the tracepoints are missing: reading /proc/kallsyms takes 100 ms.
  let fn: string | null | undefined;
  const kernelFunction = () => (fn === undefined ? (fn = kernel.syscallFunction(syscall)) : fn);
  return [
    {
      label: `tracepoints syscalls:sys_enter_${syscall} and sys_exit_${syscall}`,
      unavailable: () => (kernel.tracepoint('syscalls', `sys_enter_${syscall}`) && kernel.tracepoint('syscalls', `sys_exit_${syscall}`)
        ? null : `no syscalls:sys_enter_${syscall}/sys_exit_${syscall} tracepoints (no such syscall, or CONFIG_FTRACE_SYSCALLS is off)`),
      value: { kind: 'tracepoint', fn: '' },
    },
    {
      get label() { return `kprobe and kretprobe on ${kernelFunction() ?? `the ${syscall} syscall function`}`; },
      unavailable: () => (!kernel.kprobes() ? 'this kernel has no kprobes'
        : kernelFunction() === null ? `no ${syscall} syscall function in /proc/kallsyms` : null),
      get value(): Hook { return { kind: 'kprobe', fn: kernelFunction() ?? '' }; },
    },
    // arm64 and riscv have no open(); openat2() arrived in 5.6. openat() is the one every kernel has.
    ...(syscall === 'openat' ? [] : [{ label: `nothing (no ${syscall}() hook on this kernel)`, unavailable: () => null, value: NO_HOOK }]),
  ];
}

/** For -F: the struct fields opensnoop.bpf.c walks from a task to its cwd's (or a file's) names. */
export function fullPathOffsets(kernel: KernelView): Record<string, number> {
  const fields: Record<string, [string, string]> = {
    TASK_FS_OFFSET: ['task_struct', 'fs'],
    FS_PWD_MNT_OFFSET: ['fs_struct', 'pwd.mnt'],
    FS_PWD_DENTRY_OFFSET: ['fs_struct', 'pwd.dentry'],
    TASK_FILES_OFFSET: ['task_struct', 'files'],
    FILES_FDT_OFFSET: ['files_struct', 'fdt'],
    FDT_FD_OFFSET: ['fdtable', 'fd'],
    FDT_MAX_FDS_OFFSET: ['fdtable', 'max_fds'],
    FILE_PATH_MNT_OFFSET: ['file', 'f_path.mnt'],
    FILE_PATH_DENTRY_OFFSET: ['file', 'f_path.dentry'],
    DENTRY_PARENT_OFFSET: ['dentry', 'd_parent'],
    DENTRY_NAME_OFFSET: ['dentry', 'd_name.name'],
    VFSMOUNT_ROOT_OFFSET: ['vfsmount', 'mnt_root'],
    MOUNT_PARENT_OFFSET: ['mount', 'mnt_parent'],
    MOUNT_MOUNTPOINT_OFFSET: ['mount', 'mnt_mountpoint'],
    MOUNT_MNT_OFFSET: ['mount', 'mnt'],
  };
  const out: Record<string, number> = {};
  for (const [name, [struct, field]] of Object.entries(fields)) {
    const at = kernel.offset(struct, field);
    if (at === undefined) throw new MissingPrerequisite(`-F needs ${struct}.${field} from the kernel's BTF (/sys/kernel/btf/vmlinux), which this kernel lacks`);
    out[name] = at;
  }
  return out;
}
