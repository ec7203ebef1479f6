// How mountsnoop configures its program on kernels other than this one (each described by a
// stand-in KernelView): how each call is hooked, in which order, and the #defines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError, type BPF } from 'bcc-node-bindings';
import type { KernelView } from '../../lib/kernel/view.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { ringBufferPages } from '../../lib/run/event-channel.ts';
import { configureMountsnoop } from '../../tools/mountsnoop/program.ts';
import { MOUNT_CALLS } from '../../tools/mountsnoop/calls.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

const OFFSETS: Record<string, number> = {
  'task_struct.real_parent': 1280, 'task_struct.tgid': 1268, 'task_struct.comm': 1752,
  'task_struct.nsproxy': 1840, 'nsproxy.mnt_ns': 24, 'mnt_namespace.ns.inum': 24,
};
const kernel = (overrides: FakeKernel = {}): KernelView => fakeKernel({ offsets: OFFSETS, ...overrides });
const tracepointsOf = (calls: readonly string[]) => calls.flatMap((c) => [`syscalls:sys_enter_${c}`, `syscalls:sys_exit_${c}`]);
const NEW_API = MOUNT_CALLS.filter((c) => c !== 'mount' && c !== 'umount');

function attached(view: KernelView): string[] {
  const calls: string[] = [];
  const bpf = {
    attachTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`tracepoint ${tp} ${fnName}`); },
    attachKprobe: ({ event, fnName }: { event: string; fnName: string }) => { calls.push(`kprobe ${event} ${fnName}`); },
    attachKretprobe: ({ event, fnName }: { event: string; fnName: string }) => { calls.push(`kretprobe ${event} ${fnName}`); },
  };
  configureMountsnoop({}, view).attach(bpf as unknown as BPF);
  return calls;
}

test('with syscall tracepoints, every call is hooked there, each exit before its entry, through a ring buffer', () => {
  const program = configureMountsnoop({}, kernel());
  assert.equal(program.file, 'mountsnoop.bpf.c');
  assert.deepEqual(program.defines, {
    HOOK_MOUNT: 1, HOOK_UMOUNT: 1, HOOK_FSOPEN: 1, HOOK_FSCONFIG: 1, HOOK_FSMOUNT: 1, HOOK_MOVE_MOUNT: 1, HOOK_FSPICK: 1,
    HOOK_OPEN_TREE: 1, HOOK_MOUNT_SETATTR: 1, HOOK_OPEN_TREE_ATTR: 1,
    FILTER_CGROUP_MAP: false, FILTER_MNTNS_MAP: false, USE_RINGBUF: true, RINGBUF_PAGES: ringBufferPages(2),
    TASK_REAL_PARENT_OFFSET: 1280, TASK_TGID_OFFSET: 1268, TASK_COMM_OFFSET: 1752,
    TASK_NSPROXY_OFFSET: 1840, NSPROXY_MNT_NS_OFFSET: 24, MNT_NS_INUM_OFFSET: 24,
  });
  assert.deepEqual(program.attachments.map((a) => `${a.purpose}: ${a.chosen}`).slice(0, 2), [
    'mount(): tracepoints syscalls:sys_enter_mount and sys_exit_mount',
    'umount(): tracepoints syscalls:sys_enter_umount and sys_exit_umount',
  ]);
  assert.equal(program.attachments.at(-1)!.chosen, 'ring buffer');
  assert.deepEqual(attached(kernel()).slice(0, 4), [
    'tracepoint syscalls:sys_exit_mount mount_call_exit',
    'tracepoint syscalls:sys_enter_mount sys_enter_mount',
    'tracepoint syscalls:sys_exit_umount mount_call_exit',
    'tracepoint syscalls:sys_enter_umount sys_enter_umount',
  ]);
  assert.equal(attached(kernel()).length, 2 * MOUNT_CALLS.length);
});

test('a kernel before the new mount API (or before open_tree_attr) traces what it has, and --explain says why', () => {
  const view = kernel({ missing: tracepointsOf(NEW_API) });
  const program = configureMountsnoop({}, view);
  assert.deepEqual(Object.entries(program.hooks).filter(([, h]) => h.kind !== 'none').map(([c]) => c), ['mount', 'umount']);
  const fsopen = program.attachments.find((a) => a.purpose === 'fsopen()')!;
  assert.equal(fsopen.chosen, 'nothing (no fsopen hook on this kernel)');
  assert.deepEqual(fsopen.rejected.map((r) => r.reason), ['no such tracepoints (fsopen() arrived in Linux 5.2)', 'this kernel has no kprobes']);
  assert.equal(attached(view).length, 4);
  const older = configureMountsnoop({}, kernel({ missing: tracepointsOf(['open_tree_attr']) }));
  assert.equal(older.defines!.HOOK_OPEN_TREE_ATTR, 0);
  assert.equal(older.attachments.find((a) => a.purpose === 'open_tree_attr()')!.rejected[0].reason, 'no such tracepoints (open_tree_attr() arrived in Linux 6.15)');
});

test('without syscall tracepoints but with kprobes, the syscall functions are probed (kretprobe first)', () => {
  const view = kernel({ missing: tracepointsOf(MOUNT_CALLS), kprobes: () => true });
  const program = configureMountsnoop({}, view);
  assert.equal(program.defines!.HOOK_MOUNT, 2);
  assert.equal(program.attachments[0].chosen, 'kprobe and kretprobe on __x64_sys_mount');
  assert.deepEqual(program.attachments[0].rejected, [{
    label: 'tracepoints syscalls:sys_enter_mount and sys_exit_mount', reason: 'this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS is off)',
  }]);
  assert.deepEqual(attached(view).slice(0, 2), ['kretprobe __x64_sys_mount mount_call_return', 'kprobe __x64_sys_mount syscall__mount']);
});

test('with neither syscall tracepoints nor kprobes, mount() cannot be traced: NOT_SUPPORTED with the reasons', () => {
  assert.throws(() => configureMountsnoop({}, kernel({ missing: tracepointsOf(MOUNT_CALLS) })), (err: unknown) => isBpfError(err)
    && err.code === 'NOT_SUPPORTED'
    && err.message === 'no way to trace mount() on this kernel: tracepoints syscalls:sys_enter_mount and sys_exit_mount: '
      + 'this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS is off); kprobe and kretprobe on __x64_sys_mount: this kernel has no kprobes');
});

test('before Linux 5.8, a perf buffer; --mntnsmap and --cgroupmap become defines; no BTF is a missing prerequisite', () => {
  const perf = configureMountsnoop({}, kernel({ ringBuffer: () => false }));
  assert.deepEqual([perf.ringBuffer, perf.defines!.USE_RINGBUF, 'RINGBUF_PAGES' in perf.defines!], [false, false, false]);
  const d = configureMountsnoop({ containers: { FILTER_CGROUP_MAP: true, FILTER_MNTNS_MAP: true, PIN_ID: 4242 } }, kernel()).defines!;
  assert.deepEqual([d.FILTER_CGROUP_MAP, d.FILTER_MNTNS_MAP, d.PIN_ID], [true, true, 4242]);
  assert.throws(() => configureMountsnoop({}, kernel({ offset: () => undefined })), (err: unknown) => err instanceof MissingPrerequisite
    && err.message === 'needs task_struct.real_parent from the kernel\'s BTF (/sys/kernel/btf/vmlinux), which this kernel lacks');
});
