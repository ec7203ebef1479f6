// How killsnoop configures its program on kernels other than this one (each a stand-in KernelView):
// where the probes go, in which order they are attached, and the #defines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError, type BPF } from 'bcc-node-bindings';
import type { KernelView } from '../../lib/kernel/view.ts';
import { configureKillsnoop, signalMasks, type KillsnoopConfig } from '../../tools/killsnoop/program.ts';
import { busyRingBufferPages } from '../../lib/run/event-channel.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

const OFFSETS: Record<string, number> = {
  'task_struct.files': 1824, 'files_struct.fdt': 32, 'fdtable.max_fds': 0, 'fdtable.fd': 8, 'file.f_inode': 32, 'file.private_data': 24,
  'inode.i_sb': 40, 'inode.i_private': 680, 'super_block.s_magic': 96, 'pid.numbers': 144, 'upid.nr': 0, 'proc_inode.pid': 0, 'proc_inode.vfs_inode': 72,
};
const PIDFD_DEFINES = {
  RESOLVE_PIDFD: true, TASK_FILES_OFFSET: 1824, FILES_FDT_OFFSET: 32, FDTABLE_MAX_FDS_OFFSET: 0, FDTABLE_FD_OFFSET: 8, FILE_F_INODE_OFFSET: 32,
  FILE_PRIVATE_DATA_OFFSET: 24, INODE_I_SB_OFFSET: 40, INODE_I_PRIVATE_OFFSET: 680, SB_S_MAGIC_OFFSET: 96, PROC_INODE_PID_OFFSET: 0,
  PROC_INODE_VFS_INODE_OFFSET: 72, PID_NR_OFFSET: 144,
};
const SYSCALLS = ['kill', 'tkill', 'tgkill', 'pidfd_send_signal', 'rt_sigqueueinfo', 'rt_tgsigqueueinfo'];
const NO_SYSCALL_TRACEPOINTS = SYSCALLS.flatMap((s) => [`syscalls:sys_enter_${s}`, `syscalls:sys_exit_${s}`]);

const kernel = (overrides: FakeKernel = {}): KernelView => fakeKernel({ offsets: OFFSETS, ...overrides });
const plain: KillsnoopConfig = { failedOnly: false };

function attached(config: KillsnoopConfig, view: KernelView, arch?: string): string[] {
  const calls: string[] = [];
  const bpf = {
    attachTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`tracepoint ${tp} ${fnName}`); },
    attachRawTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`raw ${tp} ${fnName}`); },
    attachKprobe: ({ event, fnName }: { event: string; fnName: string }) => { calls.push(`kprobe ${event} ${fnName}`); },
    attachKretprobe: ({ event, fnName }: { event: string; fnName: string }) => { calls.push(`kretprobe ${event} ${fnName}`); },
  };
  configureKillsnoop(config, view, arch).attach(bpf as unknown as BPF);
  return calls;
}

test('on a kernel like this one: the six syscalls\' tracepoints, each exit before its entry, a ring buffer, pidfds resolved, no filter', () => {
  const program = configureKillsnoop(plain, kernel());
  assert.equal(program.file, 'killsnoop.bpf.c');
  assert.deepEqual(program.defines, {
    HOOK_TRACEPOINTS: true, HOOK_RAW: false, HOOK_KPROBES: false,
    HAS_KILL: true, HAS_TKILL: true, HAS_TGKILL: true, HAS_PIDFD: true, HAS_SIGQUEUE: true, HAS_TGSIGQUEUE: true,
    FILTER_PID: false, TARGET_PID: 0, FILTER_TPID: false, TARGET_TPID: 0, FILTER_SIGNALS: false, SIGNAL_MASK_LO: 0n, SIGNAL_MASK_HI: 0n,
    FAILED_ONLY: false, USE_RINGBUF: true, RINGBUF_PAGES: busyRingBufferPages(2), ...PIDFD_DEFINES,
  });
  assert.deepEqual(program.attachments.map((a) => a.chosen), ['tracepoints syscalls:sys_enter_* and sys_exit_* of each', 'ring buffer']);
  assert.deepEqual(attached(plain, kernel()), SYSCALLS.flatMap((s) => [
    `tracepoint syscalls:sys_exit_${s} tracepoint__syscalls__sys_exit_${s}`,
    `tracepoint syscalls:sys_enter_${s} tracepoint__syscalls__sys_enter_${s}`,
  ]));
});

test('filters become numbers: -p, -T, -x, and -s as two 64-bit masks', () => {
  const d = configureKillsnoop({ failedOnly: true, pid: 181, tpid: 189, signals: [0, 9, 15, 63, 64] }, kernel()).defines!;
  assert.deepEqual([d.FILTER_PID, d.TARGET_PID, d.FILTER_TPID, d.TARGET_TPID, d.FAILED_ONLY, d.FILTER_SIGNALS], [true, 181, true, 189, true, true]);
  assert.equal(d.SIGNAL_MASK_LO, (1n << 0n) | (1n << 9n) | (1n << 15n) | (1n << 63n));
  assert.equal(d.SIGNAL_MASK_HI, 1n);
  assert.equal(signalMasks(undefined), null);
  assert.throws(() => signalMasks([65]));
});

test('a kernel without pidfd_send_signal (before 5.1) traces the others; without BTF a pidfd\'s target is left unknown', () => {
  const old = configureKillsnoop(plain, kernel({ missing: ['sys_enter_pidfd_send_signal', 'sys_exit_pidfd_send_signal'] }));
  assert.deepEqual([old.defines!.HAS_PIDFD, old.defines!.HAS_KILL, old.defines!.RESOLVE_PIDFD, old.defines!.TASK_FILES_OFFSET], [false, true, false, undefined]);
  assert.ok(!attached(plain, kernel({ missing: ['sys_enter_pidfd_send_signal'] })).some((c) => c.includes('pidfd')));
  const noBtf = configureKillsnoop(plain, fakeKernel());
  assert.deepEqual([noBtf.defines!.HAS_PIDFD, noBtf.defines!.RESOLVE_PIDFD, noBtf.defines!.TASK_FILES_OFFSET], [true, false, undefined]);
});

test('without syscall tracepoints: raw sys_enter/sys_exit with this architecture\'s syscall numbers, exit first', () => {
  const view = kernel({ missing: NO_SYSCALL_TRACEPOINTS });
  const program = configureKillsnoop(plain, view, 'x64');
  assert.deepEqual([program.defines!.HOOK_RAW, program.defines!.HOOK_TRACEPOINTS, program.defines!.NR_KILL, program.defines!.NR_TGKILL, program.defines!.NR_PIDFD],
    [true, false, 62, 234, 424]);
  assert.equal(configureKillsnoop(plain, view, 'arm64').defines!.NR_KILL, 129);
  assert.deepEqual(program.attachments[0].rejected.map((r) => r.reason), ['this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS is off)']);
  assert.deepEqual(attached(plain, view, 'x64'), ['raw sys_exit raw_tracepoint__sys_exit', 'raw sys_enter raw_tracepoint__sys_enter']);
});

test('neither tracepoints nor known syscall numbers: kprobes on the syscall functions, each kretprobe before its kprobe', () => {
  const view = kernel({ missing: NO_SYSCALL_TRACEPOINTS, kprobes: () => true });
  const program = configureKillsnoop(plain, view, 's390x');
  assert.equal(program.defines!.HOOK_KPROBES, true);
  assert.match(program.attachments[0].chosen, /^kprobes and kretprobes on __x64_sys_kill, __x64_sys_tkill/);
  assert.deepEqual(program.attachments[0].rejected.map((r) => r.reason)[1], 'the syscall numbers of s390x are not known to killsnoop');
  assert.deepEqual(attached(plain, view, 's390x').slice(0, 2), ['kretprobe __x64_sys_kill signal_return', 'kprobe __x64_sys_kill syscall__kill']);
});

test('nothing usable: one NOT_SUPPORTED error naming every reason', () => {
  const view = kernel({ missing: NO_SYSCALL_TRACEPOINTS, rawTracepoints: () => false });
  assert.throws(() => configureKillsnoop(plain, view), (err: unknown) => isBpfError(err) && err.code === 'NOT_SUPPORTED' &&
    /syscall tracepoints/.test(err.message) && /needs Linux 4\.17/.test(err.message) && /no kprobes/.test(err.message));
});

test('--explain lists the later rungs with what this kernel has for them', () => {
  const fallbacks = configureKillsnoop(plain, kernel()).attachments[0].fallbacks!();
  assert.deepEqual(fallbacks.map((f) => f.reason), [null, 'this kernel has no kprobes']);
});
