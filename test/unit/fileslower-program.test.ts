// How fileslower configures its program on kernels other than this one (each described by a
// stand-in KernelView): which rung times the calls, what is attached in which order, the #defines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError, type BPF } from 'bcc-node-bindings';
import type { KernelView } from '../../lib/kernel/view.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { EXPORTER_CONFIG, MAX_PENDING, SYSCALLS, configureFileslower, type FileslowerConfig } from '../../tools/fileslower/program.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

const OFFSETS: Record<string, number> = {
  'task_struct.files': 1824, 'files_struct.fdt': 32, 'fdtable.max_fds': 0, 'fdtable.fd': 8, 'file.f_path.dentry': 72, 'file.f_inode': 32,
  'inode.i_mode': 0, 'dentry.d_name.len': 36, 'dentry.d_name.name': 40, 'pt_regs.di': 112, 'pt_regs.regs': 0,
};
const kernel = (overrides: FakeKernel = {}): KernelView => fakeKernel({ offsets: OFFSETS, ...overrides });
const plain: FileslowerConfig = { minMs: 10, allFiles: false };
const syscallTracepoints = (...names: string[]) => names.flatMap((s) => [`syscalls:sys_enter_${s}`, `syscalls:sys_exit_${s}`]);

function attached(config: FileslowerConfig, view: KernelView): string[] {
  const calls: string[] = [];
  const bpf = {
    attachTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`tracepoint ${tp} ${fnName}`); },
    attachRawTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`raw ${tp} ${fnName}`); },
    attachKprobe: ({ event, fnName }: { event: string; fnName: string }) => { calls.push(`kprobe ${event} ${fnName}`); },
    attachKretprobe: ({ event, fnName }: { event: string; fnName: string }) => { calls.push(`kretprobe ${event} ${fnName}`); },
  };
  configureFileslower(config, view).attach(bpf as unknown as BPF);
  return calls;
}

test('on a kernel with syscall tracepoints: all ten calls there, exits attached before entries, the file found from the fd at BTF offsets', () => {
  const program = configureFileslower(plain, kernel());
  assert.deepEqual([program.file, program.hook, program.ringBuffer], ['fileslower.bpf.c', 'tracepoints', true]);
  assert.deepEqual(program.calls, [...SYSCALLS]);
  assert.deepEqual(program.defines, {
    HOOK_TRACEPOINTS: true, HOOK_RAW: false, HOOK_KPROBES: false, MIN_NS: 10_000_000, FILTER_PID: false, TARGET_PID: 0, ALL_FILES: false,
    MAX_PENDING, FILE_DENTRY_OFFSET: 72, FILE_INODE_OFFSET: 32, INODE_MODE_OFFSET: 0, DENTRY_NAME_LEN_OFFSET: 36, DENTRY_NAME_OFFSET: 40,
    TASK_FILES_OFFSET: 1824, FILES_FDT_OFFSET: 32, FDTABLE_MAX_FDS_OFFSET: 0, FDTABLE_FD_OFFSET: 8, USE_RINGBUF: true, RINGBUF_PAGES: 128,
    TP_READ: true, TP_WRITE: true, TP_PREAD64: true, TP_PWRITE64: true, TP_READV: true, TP_WRITEV: true, TP_PREADV: true, TP_PWRITEV: true,
    TP_PREADV2: true, TP_PWRITEV2: true,
  });
  assert.deepEqual(program.attachments.map((a) => `${a.purpose}: ${a.chosen}`), [
    `sync reads and writes: tracepoints syscalls:sys_enter_X and sys_exit_X for ${SYSCALLS.join(', ')} (the file of the fd, at BTF offsets)`,
    'event records: ring buffer',
  ]);
  assert.deepEqual(attached(plain, kernel()), [
    ...SYSCALLS.map((s) => `tracepoint syscalls:sys_exit_${s} tracepoint__syscalls__sys_exit_${s}`),
    ...SYSCALLS.map((s) => `tracepoint syscalls:sys_enter_${s} tracepoint__syscalls__sys_enter_${s}`),
  ]);
});

test('options reach the kernel as numbers: -p, -a, min_ms (0 gets the big ring: every call is a record)', () => {
  const d = configureFileslower({ minMs: 0, allFiles: true, pid: 1234 }, kernel()).defines!;
  assert.deepEqual([d.MIN_NS, d.FILTER_PID, d.TARGET_PID, d.ALL_FILES, d.RINGBUF_PAGES], [0, true, 1234, true, 4096]);
  assert.equal(configureFileslower({ minMs: 86_400_000, allFiles: false }, kernel()).defines!.MIN_NS, 86_400_000_000_000);
  assert.deepEqual(EXPORTER_CONFIG, { minMs: 10, allFiles: false });
});

test('a kernel without preadv2/pwritev2 (before 4.6) times the others; a perf buffer before 5.8', () => {
  const program = configureFileslower(plain, kernel({ missing: syscallTracepoints('preadv2', 'pwritev2'), ringBuffer: () => false }));
  assert.deepEqual(program.calls, SYSCALLS.slice(0, 8));
  assert.deepEqual([program.defines!.TP_PREADV2, program.defines!.TP_PWRITEV2, program.defines!.TP_PREADV], [false, false, true]);
  assert.deepEqual([program.ringBuffer, program.defines!.USE_RINGBUF, 'RINGBUF_PAGES' in program.defines!], [false, false, false]);
  assert.equal(attached(plain, kernel({ missing: syscallTracepoints('preadv2', 'pwritev2') })).length, 16);
});

test('without syscall tracepoints: raw sys_enter/sys_exit, the calls by this architecture\'s numbers', (t) => {
  if (process.arch !== 'x64') { t.skip('the numbers checked are x86_64\'s'); return; }
  const view = kernel({ missing: syscallTracepoints(...SYSCALLS) });
  const program = configureFileslower(plain, view);
  assert.equal(program.hook, 'raw');
  const d = program.defines!;
  assert.deepEqual(SYSCALLS.map((s) => d[`NR_${s.toUpperCase()}`]), [0, 1, 17, 18, 19, 20, 295, 296, 327, 328]);
  assert.deepEqual([d.REGS_ARG0_OFFSET, d.HOOK_RAW, d.HOOK_TRACEPOINTS, d.TASK_FILES_OFFSET], [112, true, false, 1824]);
  assert.deepEqual(program.attachments[0].rejected, [{
    label: `tracepoints syscalls:sys_enter_X and sys_exit_X for ${SYSCALLS.join(', ')} (the file of the fd, at BTF offsets)`,
    reason: 'no syscalls:sys_enter_read/sys_exit_read or write tracepoints (CONFIG_FTRACE_SYSCALLS is off)',
  }]);
  assert.deepEqual(attached(plain, view), ['raw sys_exit raw_tracepoint__sys_exit', 'raw sys_enter raw_tracepoint__sys_enter']);
});

test('neither: bcc\'s kprobes on vfs_read/vfs_write, which see the file itself (no fd walk needed)', () => {
  const view = kernel({ missing: syscallTracepoints(...SYSCALLS), rawTracepoints: () => false, kprobes: () => true });
  const program = configureFileslower(plain, view);
  assert.deepEqual([program.hook, program.calls], ['kprobes', ['vfs_read', 'vfs_write']]);
  assert.deepEqual([program.defines!.HOOK_KPROBES, 'TASK_FILES_OFFSET' in program.defines!], [true, false]);
  assert.deepEqual(attached(plain, view), [
    'kretprobe vfs_read vfs_rw_return', 'kretprobe vfs_write vfs_rw_return', 'kprobe vfs_read vfs_read_entry', 'kprobe vfs_write vfs_write_entry',
  ]);
  // No fd walk in the BTF: the syscall rungs lose, with the reason; the kprobes need none.
  const noWalk = { ...OFFSETS };
  delete noWalk['fdtable.fd'];
  const program2 = configureFileslower(plain, fakeKernel({ offsets: noWalk, kprobes: () => true }));
  assert.equal(program2.hook, 'kprobes');
  assert.deepEqual(program2.attachments[0].rejected.map((r) => r.reason), [
    'no fdtable.fd in the kernel\'s BTF (/sys/kernel/btf/vmlinux), to find the file of an fd',
    'no fdtable.fd in the kernel\'s BTF (/sys/kernel/btf/vmlinux), to find the file of an fd',
  ]);
});

test('nothing usable: one error naming each rung and why; a file field missing from BTF is a missing prerequisite', () => {
  const view = kernel({ missing: syscallTracepoints(...SYSCALLS), rawTracepoints: () => false });
  assert.throws(() => configureFileslower(plain, view), (err: unknown) => isBpfError(err, 'NOT_SUPPORTED')
    && /^no way to trace sync reads and writes on this kernel: tracepoints .*: no syscalls:sys_enter_read.*; raw tracepoints .*: this kernel has no raw tracepoints \(4\.17\+\); kprobes on vfs_read and vfs_write, and their kretprobes: this kernel has no kprobes$/
      .test((err as Error).message));
  const noInode = { ...OFFSETS };
  delete noInode['inode.i_mode'];
  assert.throws(() => configureFileslower(plain, fakeKernel({ offsets: noInode })), (err: unknown) => err instanceof MissingPrerequisite
    && /inode\.i_mode/.test((err as Error).message));
});
