// How opensnoop configures its program on kernels other than this one (each described by a
// stand-in KernelView): where each probe goes, in which order it is attached, and the #defines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError, type BPF } from 'bcc-node-bindings';
import type { KernelView } from '../../lib/kernel/view.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { EXPORTER_CONFIG, configureOpensnoop, type OpensnoopConfig } from '../../tools/opensnoop/program.ts';
import { busyRingBufferPages } from '../../lib/run/event-channel.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

const OFFSETS: Record<string, number> = {
  'task_struct.fs': 1816, 'fs_struct.pwd.mnt': 40, 'fs_struct.pwd.dentry': 48, 'task_struct.files': 1824, 'files_struct.fdt': 32,
  'fdtable.fd': 8, 'fdtable.max_fds': 0, 'file.f_path.mnt': 64, 'file.f_path.dentry': 72, 'dentry.d_parent': 24,
  'dentry.d_name.name': 40, 'vfsmount.mnt_root': 0, 'mount.mnt_parent': 16, 'mount.mnt_mountpoint': 24, 'mount.mnt': 32,
  'task_struct.nsproxy': 1800, 'nsproxy.mnt_ns': 24, 'mnt_namespace.ns.inum': 16,
};

/** A 6.18-like kernel: every tracepoint, ring buffers, BTF, no kprobes. */
const kernel = (overrides: FakeKernel = {}): KernelView => fakeKernel({ offsets: OFFSETS, ...overrides });

const tracepointsOf = (...syscalls: string[]) => syscalls.flatMap((s) => [`syscalls:sys_enter_${s}`, `syscalls:sys_exit_${s}`]);
const ALL_SYSCALL_TRACEPOINTS = tracepointsOf('open', 'openat', 'openat2');
const plain: OpensnoopConfig = { records: true, count: false, failedOnly: false, fullPath: false };

function attached(config: OpensnoopConfig, view: KernelView): string[] {
  const calls: string[] = [];
  const bpf = {
    attachTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`tracepoint ${tp} ${fnName}`); },
    attachKprobe: ({ event, fnName }: { event: string; fnName: string }) => { calls.push(`kprobe ${event} ${fnName}`); },
    attachKretprobe: ({ event, fnName }: { event: string; fnName: string }) => { calls.push(`kretprobe ${event} ${fnName}`); },
  };
  configureOpensnoop(config, view).attach(bpf as unknown as BPF);
  return calls;
}

const chosen = (config: OpensnoopConfig, view: KernelView) => configureOpensnoop(config, view).attachments.map((a) => `${a.purpose}: ${a.chosen}`);

test('open, openat and openat2 at their syscall tracepoints, each exit attached before its entry, through a ring buffer', () => {
  const program = configureOpensnoop(plain, kernel());
  assert.equal(program.file, 'opensnoop.bpf.c');
  assert.equal(program.ringBuffer, true);
  assert.deepEqual(program.defines, {
    OPEN_TRACEPOINT: true, OPEN_KPROBE: false, OPENAT_TRACEPOINT: true, OPENAT_KPROBE: false, OPENAT2_TRACEPOINT: true, OPENAT2_KPROBE: false,
    EMIT_RECORDS: true, COUNT_OPENS: false, FAILED_ONLY: false, FILTER_PID: false, TARGET_PID: 0, FILTER_TID: false, TARGET_TID: 0,
    FILTER_UID: false, TARGET_UID: 0, FILTER_FLAGS: false, FLAGS_MASK: 0, FLAGS_RDONLY: false, FULL_PATH: false,
    FILTER_CGROUP_MAP: false, FILTER_MNTNS_MAP: false, USE_RINGBUF: true, RINGBUF_PAGES: 4096,
  });
  assert.deepEqual(chosen(plain, kernel()), [
    'open(): tracepoints syscalls:sys_enter_open and sys_exit_open',
    'openat(): tracepoints syscalls:sys_enter_openat and sys_exit_openat',
    'openat2(): tracepoints syscalls:sys_enter_openat2 and sys_exit_openat2',
    'event records: ring buffer',
  ]);
  assert.deepEqual(attached(plain, kernel()), ['open', 'openat', 'openat2'].flatMap((s) => [
    `tracepoint syscalls:sys_exit_${s} tracepoint__syscalls__sys_exit_${s}`,
    `tracepoint syscalls:sys_enter_${s} tracepoint__syscalls__sys_enter_${s}`,
  ]));
});

test('counting alone (the exporter, --metrics) attaches only the exits and sends no records', () => {
  const program = configureOpensnoop(EXPORTER_CONFIG, kernel());
  assert.deepEqual([program.defines!.EMIT_RECORDS, program.defines!.COUNT_OPENS, program.defines!.USE_RINGBUF, 'RINGBUF_PAGES' in program.defines!],
    [false, true, false, false]);
  assert.equal(program.attachments.some((a) => a.purpose === 'event records'), false);
  assert.deepEqual(attached(EXPORTER_CONFIG, kernel()), ['open', 'openat', 'openat2'].map((s) => `tracepoint syscalls:sys_exit_${s} tracepoint__syscalls__sys_exit_${s}`));
  // -f needs the flags, which only the entry sees.
  assert.equal(attached({ ...EXPORTER_CONFIG, flags: { mask: 1, rdonly: false } }, kernel()).length, 6);
});

test('without syscall tracepoints but with kprobes, the syscall functions are probed (kretprobe first)', () => {
  const view = kernel({ missing: ALL_SYSCALL_TRACEPOINTS, kprobes: () => true });
  const program = configureOpensnoop(plain, view);
  assert.deepEqual([program.defines!.OPEN_KPROBE, program.defines!.OPENAT_KPROBE, program.defines!.OPENAT2_KPROBE, program.defines!.OPENAT_TRACEPOINT],
    [true, true, true, false]);
  assert.equal(program.attachments[1].chosen, 'kprobe and kretprobe on __x64_sys_openat');
  assert.deepEqual(program.attachments[1].rejected, [{
    label: 'tracepoints syscalls:sys_enter_openat and sys_exit_openat',
    reason: 'no syscalls:sys_enter_openat/sys_exit_openat tracepoints (no such syscall, or CONFIG_FTRACE_SYSCALLS is off)',
  }]);
  assert.deepEqual(attached(plain, view), ['open', 'openat', 'openat2'].flatMap((s) => [
    `kretprobe __x64_sys_${s} open_return`, `kprobe __x64_sys_${s} syscall__${s}`,
  ]));
});

test('a kernel without open() (arm64) or openat2() (before 5.6) traces what it has', () => {
  const view = kernel({ missing: tracepointsOf('open', 'openat2') });
  const program = configureOpensnoop(plain, view);
  assert.deepEqual([program.defines!.OPEN_TRACEPOINT, program.defines!.OPEN_KPROBE, program.defines!.OPENAT_TRACEPOINT, program.defines!.OPENAT2_TRACEPOINT],
    [false, false, true, false]);
  assert.equal(program.attachments[0].chosen, 'nothing (no open() hook on this kernel)');
  assert.equal(program.attachments[2].chosen, 'nothing (no openat2() hook on this kernel)');
  assert.deepEqual(attached(plain, view), [
    'tracepoint syscalls:sys_exit_openat tracepoint__syscalls__sys_exit_openat',
    'tracepoint syscalls:sys_enter_openat tracepoint__syscalls__sys_enter_openat',
  ]);
});

test('with neither syscall tracepoints nor kprobes, openat() cannot be traced: NOT_SUPPORTED with the reasons', () => {
  assert.throws(() => configureOpensnoop(plain, kernel({ missing: ALL_SYSCALL_TRACEPOINTS })), (err: unknown) => isBpfError(err)
    && err.code === 'NOT_SUPPORTED'
    && err.message === 'no way to trace openat() on this kernel: tracepoints syscalls:sys_enter_openat and sys_exit_openat: '
      + 'no syscalls:sys_enter_openat/sys_exit_openat tracepoints (no such syscall, or CONFIG_FTRACE_SYSCALLS is off); '
      + 'kprobe and kretprobe on __x64_sys_openat: this kernel has no kprobes');
});

test('before Linux 5.8 records go through a perf buffer', () => {
  const program = configureOpensnoop(plain, kernel({ ringBuffer: () => false }));
  assert.deepEqual([program.ringBuffer, program.defines!.USE_RINGBUF, 'RINGBUF_PAGES' in program.defines!], [false, false, false]);
  assert.deepEqual(program.attachments.at(-1)!.rejected, [{ label: 'ring buffer', reason: 'needs Linux 5.8' }]);
});

test('the filters become defines: -t wins over -p, -f a mask, -b the ring size; --mntnsmap and -F add their offsets', () => {
  const config: OpensnoopConfig = {
    ...plain, failedOnly: true, pid: 181, tid: 123, uid: 1000, flags: { mask: 3, rdonly: true }, fullPath: true, bufferPages: 8,
    containers: { FILTER_CGROUP_MAP: true, FILTER_MNTNS_MAP: true, PIN_ID: 4242 },
  };
  const d = configureOpensnoop(config, kernel()).defines!;
  assert.deepEqual(
    [d.FAILED_ONLY, d.FILTER_PID, d.FILTER_TID, d.TARGET_TID, d.FILTER_UID, d.TARGET_UID, d.FILTER_FLAGS, d.FLAGS_MASK, d.FLAGS_RDONLY, d.FULL_PATH, d.RINGBUF_PAGES, d.PIN_ID],
    [true, false, true, 123, true, 1000, true, 3, true, true, 8, 4242]);
  assert.deepEqual([d.TASK_NSPROXY_OFFSET, d.MNT_NS_INUM_OFFSET, d.TASK_FS_OFFSET, d.FS_PWD_DENTRY_OFFSET, d.DENTRY_NAME_OFFSET, d.MOUNT_MNT_OFFSET],
    [1800, 16, 1816, 48, 40, 32]);
  const p = configureOpensnoop({ ...plain, pid: 181 }, kernel()).defines!;
  assert.deepEqual([p.FILTER_PID, p.TARGET_PID, 'TASK_FS_OFFSET' in p], [true, 181, false]);
});

test('-F on a kernel without BTF is a missing prerequisite (exit 2), named; without -F no offset is needed', () => {
  assert.throws(() => configureOpensnoop({ ...plain, fullPath: true }, kernel({ offset: () => undefined })), (err: unknown) => err instanceof MissingPrerequisite
    && err.message === '-F needs task_struct.fs from the kernel\'s BTF (/sys/kernel/btf/vmlinux), which this kernel lacks');
  assert.doesNotThrow(() => configureOpensnoop(plain, kernel({ offset: () => undefined })));
});

test('the ring buffer is 16 MiB at least: a burst of 100,000 opens fits', () => {
  assert.deepEqual([1, 2, 64, 128].map(busyRingBufferPages), [4096, 4096, 4096, 8192]);
});
