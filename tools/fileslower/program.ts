// fileslower's one configuration: the options (plain data) and a KernelView → fileslower.bpf.c's
// #defines, where the probes go and why, and the attach. The tool and `bpfkit exporter` both
// load the program through configureFileslower.
import type { BPF } from 'bcc-node-bindings';
import { busyRingBufferPages, ringBufferPages } from '../../lib/run/event-channel.ts';
import { chooseAttach } from '../../lib/run/attach-plan.ts';
import type { DefineValue, ToolProgram } from '../../lib/run/program.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { fdFileOffsets } from '../../lib/kernel/offsets.ts';
import { syscallByName } from '../../lib/kernel/syscalls.ts';

export interface FileslowerConfig {
  /** min_ms: calls that took at least this many milliseconds. */
  minMs: number;
  /** -p: this process only. */
  pid?: number;
  /** -a: non-regular files too (sockets, FIFOs, devices). */
  allFiles: boolean;
}

export type Hook = 'tracepoints' | 'raw' | 'kprobes';

export interface FileslowerProgram extends ToolProgram {
  hook: Hook;
  /** The syscalls hooked (tracepoints, raw tracepoints), or the kernel functions (kprobes). */
  calls: string[];
  /** Records come through a ring buffer, else a perf buffer (bpfkit/events.h). */
  ringBuffer: boolean;
}

/** What the exporter reports: bcc's default, calls on regular files of 10 ms and more. */
export const EXPORTER_CONFIG: FileslowerConfig = { minMs: 10, allFiles: false };

/** bcc's default threshold. */
export const DEFAULT_MIN_MS = 10;

/**
 * The syscalls timed, in SYS_* order (fileslower.bpf.c: even ones read, odd ones write). read and
 * write are the ones every kernel has; the vectored and positioned ones each go where they exist
 * (preadv2/pwritev2 arrived in 4.6).
 */
export const SYSCALLS = ['read', 'write', 'pread64', 'pwrite64', 'readv', 'writev', 'preadv', 'pwritev', 'preadv2', 'pwritev2'] as const;
/** The kprobe rung's functions, after the syscalls in SYS_* order (bcc's hooks). */
export const VFS_FUNCTIONS = ['vfs_read', 'vfs_write'] as const;

// Threads followed at once, in an LRU hash (~1.5 MiB of kernel memory): each thread that made a
// traced call keeps its entry, and the least recently used give way to new ones. A thread blocked
// in read() on a socket keeps its entry busy until the call returns (whether a file is regular is
// known only at the exit, where slow calls alone pay for the look), so this is above bcc's 10,240:
// a call outlived by more than this many other threads' calls can lose its entry, and is missed.
export const MAX_PENDING = 16384;

/** Where struct pt_regs keeps a syscall's first argument at sys_enter: the architecture's ABI. */
const REGS_ARG0: Partial<Record<NodeJS.Architecture, string>> = { x64: 'di', arm64: 'regs' };

/** The fields of the file the slow call used, read at the exit at BTF offsets. */
const FILE_FIELDS: Record<string, [string, string]> = {
  FILE_DENTRY_OFFSET: ['file', 'f_path.dentry'],
  FILE_INODE_OFFSET: ['file', 'f_inode'],
  INODE_MODE_OFFSET: ['inode', 'i_mode'],
  DENTRY_NAME_LEN_OFFSET: ['dentry', 'd_name.len'],
  DENTRY_NAME_OFFSET: ['dentry', 'd_name.name'],
};

export function configureFileslower(config: FileslowerConfig, kernel: KernelView = liveKernel()): FileslowerProgram {
  const fileOffsets: Record<string, number> = {};
  for (const [name, [struct, field]] of Object.entries(FILE_FIELDS)) {
    const at = kernel.offset(struct, field);
    if (at === undefined) throw new MissingPrerequisite(`needs ${struct}.${field} from the kernel's BTF (/sys/kernel/btf/vmlinux), which this kernel lacks`);
    fileOffsets[name] = at;
  }
  const walk = fdFileOffsets(kernel);
  const noWalk = 'missing' in walk ? `no ${walk.missing} in the kernel's BTF (/sys/kernel/btf/vmlinux), to find the file of an fd` : null;
  const tracepointCalls = SYSCALLS.filter((s) => kernel.tracepoint('syscalls', `sys_enter_${s}`) && kernel.tracepoint('syscalls', `sys_exit_${s}`));
  const numbered = SYSCALLS.filter((s) => { const info = syscallByName(s); return info !== undefined && info.entry !== null; });
  const argField = REGS_ARG0[process.arch];
  const arg0 = argField === undefined ? undefined : kernel.offset('pt_regs', argField);

  const { value: hook, choice } = chooseAttach<Hook>('sync reads and writes', [
    {
      label: `tracepoints syscalls:sys_enter_X and sys_exit_X for ${(tracepointCalls.length ? tracepointCalls : SYSCALLS).join(', ')} (the file of the fd, at BTF offsets)`,
      unavailable: () => (!tracepointCalls.includes('read') || !tracepointCalls.includes('write')
        ? 'no syscalls:sys_enter_read/sys_exit_read or write tracepoints (CONFIG_FTRACE_SYSCALLS is off)' : noWalk),
      value: 'tracepoints',
    },
    {
      label: 'raw tracepoints sys_enter and sys_exit (the calls by number, the fd from pt_regs)',
      unavailable: () => (!kernel.rawTracepoints() ? 'this kernel has no raw tracepoints (4.17+)'
        : arg0 === undefined ? `no known pt_regs field for the first syscall argument on ${process.arch}`
          : !numbered.includes('read') || !numbered.includes('write') ? `no syscall numbers for ${process.arch}` : noWalk),
      value: 'raw',
    },
    {
      label: 'kprobes on vfs_read and vfs_write, and their kretprobes',
      unavailable: () => (!kernel.kprobes() ? 'this kernel has no kprobes'
        : VFS_FUNCTIONS.every((f) => kernel.kernelFunction(f)) ? null : 'no vfs_read or vfs_write in /proc/kallsyms'),
      value: 'kprobes',
    },
  ]);
  const records = chooseAttach('event records', [
    { label: 'ring buffer', unavailable: () => (kernel.ringBuffer() ? null : 'needs Linux 5.8'), value: true },
    { label: 'perf buffer', unavailable: () => null, value: false },
  ]);
  const ringBuffer = records.value;
  const calls: string[] = hook === 'tracepoints' ? tracepointCalls : hook === 'raw' ? numbered : [...VFS_FUNCTIONS];

  const defines: Record<string, DefineValue> = {
    HOOK_TRACEPOINTS: hook === 'tracepoints',
    HOOK_RAW: hook === 'raw',
    HOOK_KPROBES: hook === 'kprobes',
    MIN_NS: config.minMs * 1_000_000,
    FILTER_PID: config.pid !== undefined,
    TARGET_PID: config.pid ?? 0,
    ALL_FILES: config.allFiles,
    MAX_PENDING,
    ...fileOffsets,
    ...(hook !== 'kprobes' && 'defines' in walk ? walk.defines : {}),
    USE_RINGBUF: ringBuffer,
    // min_ms 0 makes every call a record (~350,000 a second in a read loop): the snoop tools' big ring.
    ...(ringBuffer ? { RINGBUF_PAGES: config.minMs === 0 ? busyRingBufferPages(kernel.cpus()) : ringBufferPages(kernel.cpus()) } : {}),
  };
  if (hook === 'tracepoints') for (const s of SYSCALLS) defines[`TP_${s.toUpperCase()}`] = calls.includes(s);
  if (hook === 'raw') {
    for (const s of SYSCALLS) defines[`NR_${s.toUpperCase()}`] = calls.includes(s) ? syscallByName(s)!.nr : -1;
    defines.REGS_ARG0_OFFSET = arg0!;
  }

  return {
    file: 'fileslower.bpf.c',
    defines,
    attachments: [choice, records.choice],
    hook,
    calls,
    ringBuffer,
    attach(bpf: BPF) {
      // The exits before the entries: no call is timed whose exit could be missed.
      if (hook === 'tracepoints') {
        for (const s of calls) bpf.attachTracepoint({ tp: `syscalls:sys_exit_${s}`, fnName: `tracepoint__syscalls__sys_exit_${s}` });
        for (const s of calls) bpf.attachTracepoint({ tp: `syscalls:sys_enter_${s}`, fnName: `tracepoint__syscalls__sys_enter_${s}` });
      } else if (hook === 'raw') {
        bpf.attachRawTracepoint({ tp: 'sys_exit', fnName: 'raw_tracepoint__sys_exit' });
        bpf.attachRawTracepoint({ tp: 'sys_enter', fnName: 'raw_tracepoint__sys_enter' });
      } else {
        for (const f of VFS_FUNCTIONS) bpf.attachKretprobe({ event: f, fnName: 'vfs_rw_return' });
        for (const f of VFS_FUNCTIONS) bpf.attachKprobe({ event: f, fnName: `${f}_entry` });
      }
    },
  };
}
