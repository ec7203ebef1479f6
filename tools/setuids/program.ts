// setuids' one configuration: options and a KernelView → setuids.bpf.c's #defines, where the
// probes go and why, and the attach.
import type { BPF } from 'bcc-node-bindings';
import { burstRingBufferPages } from '../../lib/run/event-channel.ts';
import { chooseAttach } from '../../lib/run/attach-plan.ts';
import { syscallRungs, type SyscallHooks } from '../../lib/run/syscall-rungs.ts';
import type { DefineValue, ToolProgram } from '../../lib/run/program.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { SYSCALLS, type Syscall } from './events.ts';

export interface SetuidsConfig {
  /** -p: the caller's PID. */
  pid?: number;
}

export interface SetuidsProgram extends ToolProgram {
  /** Records come through a ring buffer, else a perf buffer (bpfkit/events.h). */
  ringBuffer: boolean;
}

/**
 * Syscall numbers for the raw tracepoint fallback, per Node's process.arch. They are ABI: they
 * never change on an architecture. (32-bit callers' calls, setuid32 and the 16-bit ids of
 * ia32, have other numbers and are not matched.)
 */
const SYSCALL_NUMBERS: Record<string, Record<Syscall, number>> = {
  x64: { setuid: 105, setgid: 106, setreuid: 113, setregid: 114, setresuid: 117, setresgid: 119, setfsuid: 122, setfsgid: 123 },
  arm64: { setuid: 146, setgid: 144, setreuid: 145, setregid: 143, setresuid: 147, setresgid: 149, setfsuid: 151, setfsgid: 152 },
  riscv64: { setuid: 146, setgid: 144, setreuid: 145, setregid: 143, setresuid: 147, setresgid: 149, setfsuid: 151, setfsgid: 152 },
};

type Hooks = SyscallHooks<Syscall>;

export function configureSetuids(config: SetuidsConfig, kernel: KernelView = liveKernel(), arch: string = process.arch): SetuidsProgram {
  const hooks = chooseAttach<Hooks>('setuid(), setgid(), setreuid(), setregid(), setresuid(), setresgid(), setfsuid(), setfsgid()',
    syscallRungs(kernel, { tool: 'setuids', syscalls: SYSCALLS.map((s) => s.name), always: 'setuid', countWord: 'the eight', numbers: SYSCALL_NUMBERS, arch }));
  const stream = chooseAttach('event records', [
    { label: 'ring buffer', unavailable: () => (kernel.ringBuffer() ? null : 'needs Linux 5.8'), value: true },
    { label: 'perf buffer', unavailable: () => null, value: false },
  ]);
  const ringBuffer = stream.value;
  const h = hooks.value;
  const traced = new Set<Syscall>(h.kind === 'tracepoint' ? h.syscalls : SYSCALLS.map((s) => s.name));
  const has = Object.fromEntries(SYSCALLS.map(({ name, define }) => [`HAS_${define}`, traced.has(name)]));
  const numbers: Record<string, number> = h.kind === 'raw'
    ? Object.fromEntries(SYSCALLS.map(({ name, define }) => [`NR_${define}`, h.numbers[name]])) : {};

  return {
    file: 'setuids.bpf.c',
    defines: {
      HOOK_TRACEPOINTS: h.kind === 'tracepoint',
      HOOK_RAW: h.kind === 'raw',
      ...has,
      ...numbers,
      FILTER_PID: config.pid !== undefined,
      TARGET_PID: config.pid ?? 0,
      ...credOffsets(kernel),
      USE_RINGBUF: ringBuffer,
      // Privilege changes are rare, but a loop of them (or one meant to hide another) makes
      // ~1,000,000 a second, more than any reader prints: a bigger ring only delays the loss.
      // This one holds a burst of ~20,000; what a flood drops is counted and reported.
      ...(ringBuffer ? { RINGBUF_PAGES: burstRingBufferPages(kernel.cpus()) } : {}),
    },
    attachments: [hooks.choice, stream.choice],
    ringBuffer,
    attach(bpf: BPF) {
      // Each exit before its entry, so that no entry is noted whose exit could be missed.
      if (h.kind === 'tracepoint') {
        for (const s of h.syscalls) {
          bpf.attachTracepoint({ tp: `syscalls:sys_exit_${s}`, fnName: `tracepoint__syscalls__sys_exit_${s}` });
          bpf.attachTracepoint({ tp: `syscalls:sys_enter_${s}`, fnName: `tracepoint__syscalls__sys_enter_${s}` });
        }
      } else {
        bpf.attachRawTracepoint({ tp: 'sys_exit', fnName: 'raw_tracepoint__sys_exit' });
        bpf.attachRawTracepoint({ tp: 'sys_enter', fnName: 'raw_tracepoint__sys_enter' });
      }
    },
  };
}

/** struct cred's ids, in the kernel's order: one read copies the eight when they lie side by side. */
const CRED_FIELDS = ['uid', 'gid', 'suid', 'sgid', 'euid', 'egid', 'fsuid', 'fsgid'];

/**
 * Where the caller's ids are, from the running kernel's BTF: task_struct.cred and the eight
 * kuid_t/kgid_t of struct cred (each one u32), laid out side by side since 2.6.29. Without BTF,
 * or with another layout, only the real uid and gid are reported (bpf_get_current_uid_gid).
 */
export function credOffsets(kernel: KernelView): Record<string, DefineValue> {
  const task = kernel.offset('task_struct', 'cred');
  const at = CRED_FIELDS.map((f) => kernel.offset('cred', f));
  if (task === undefined || at[0] === undefined || at.some((o, i) => o !== at[0]! + 4 * i)) return { READ_CRED: false };
  return { READ_CRED: true, TASK_CRED_OFFSET: task, CRED_IDS_OFFSET: at[0] };
}
