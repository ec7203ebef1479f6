// How execsnoop configures its program on kernels other than this one (each described by a
// stand-in KernelView): where each probe goes, in which order it is attached, and the #defines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError, type BPF } from 'bcc-node-bindings';
import type { KernelView } from '../../lib/kernel/view.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { EXPORTER_CONFIG, configureExecsnoop, type ExecsnoopConfig } from '../../tools/execsnoop/program.ts';
import { ringBufferPages } from '../../lib/run/event-channel.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

const OFFSETS: Record<string, number> = {
  'task_struct.real_parent': 1280, 'task_struct.tgid': 1268, 'task_struct.comm': 1752, 'task_struct.mm': 1136,
  'mm_struct.arg_start': 488, 'mm_struct.arg_end': 496,
  'task_struct.nsproxy': 1800, 'nsproxy.mnt_ns': 24, 'mnt_namespace.ns.inum': 16,
};
const TASK_DEFINES = {
  TASK_REAL_PARENT_OFFSET: 1280, TASK_TGID_OFFSET: 1268, TASK_COMM_OFFSET: 1752, TASK_MM_OFFSET: 1136,
  MM_ARG_START_OFFSET: 488, MM_ARG_END_OFFSET: 496,
};

const kernel = (overrides: FakeKernel = {}): KernelView => fakeKernel({ offsets: OFFSETS, ...overrides });

const NO_SYSCALL_TRACEPOINTS = ['execve', 'execveat'].flatMap((s) => [`syscalls:sys_enter_${s}`, `syscalls:sys_exit_${s}`]);
const plain: ExecsnoopConfig = { fails: false, maxArgs: 20 };

/** What attach() did, in order, on a stand-in BPF. */
function attached(config: ExecsnoopConfig, view: KernelView): string[] {
  const calls: string[] = [];
  const bpf = {
    attachTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`tracepoint ${tp} ${fnName}`); },
    attachKprobe: ({ event, fnName }: { event: string; fnName: string }) => { calls.push(`kprobe ${event} ${fnName}`); },
    attachKretprobe: ({ event, fnName }: { event: string; fnName: string }) => { calls.push(`kretprobe ${event} ${fnName}`); },
  };
  configureExecsnoop(config, view).attach(bpf as unknown as BPF);
  return calls;
}

const chosen = (config: ExecsnoopConfig, view: KernelView) => configureExecsnoop(config, view).attachments.map((a) => `${a.purpose}: ${a.chosen}`);

test('successes alone attach sched_process_exec only, through a ring buffer, with every filter off', () => {
  const program = configureExecsnoop(plain, kernel());
  assert.equal(program.file, 'execsnoop.bpf.c');
  assert.equal(program.ringBuffer, true);
  assert.deepEqual(program.defines, {
    TRACE_FAILS: false, SUCCESS_AT_EXEC_TP: true,
    EXECVE_TRACEPOINT: false, EXECVE_KPROBE: false, EXECVEAT_TRACEPOINT: false, EXECVEAT_KPROBE: false,
    MAX_ARGS: 20, FILTER_UID: false, TARGET_UID: 0, FILTER_PPID: false, TARGET_PPID: 0, FILTER_CGROUP: false,
    FILTER_CGROUP_MAP: false, FILTER_MNTNS_MAP: false, USE_RINGBUF: true, RINGBUF_PAGES: ringBufferPages(2),
    ...TASK_DEFINES,
  });
  assert.deepEqual(chosen(plain, kernel()), ['successful exec()s: tracepoint sched:sched_process_exec', 'event records: ring buffer']);
  assert.deepEqual(attached(plain, kernel()), ['tracepoint sched:sched_process_exec tracepoint__sched__sched_process_exec']);
});

test('-x adds the syscall tracepoints, each exit attached before its entry', () => {
  const program = configureExecsnoop({ ...plain, fails: true }, kernel());
  assert.deepEqual(
    [program.defines!.TRACE_FAILS, program.defines!.EXECVE_TRACEPOINT, program.defines!.EXECVEAT_TRACEPOINT, program.defines!.EXECVE_KPROBE, program.defines!.EXECVEAT_KPROBE],
    [true, true, true, false, false]);
  assert.deepEqual(chosen({ ...plain, fails: true }, kernel()), [
    'successful exec()s: tracepoint sched:sched_process_exec',
    'failed execve(): tracepoints syscalls:sys_enter_execve and sys_exit_execve',
    'failed execveat(): tracepoints syscalls:sys_enter_execveat and sys_exit_execveat',
    'event records: ring buffer',
  ]);
  assert.deepEqual(attached({ ...plain, fails: true }, kernel()), [
    'tracepoint sched:sched_process_exec tracepoint__sched__sched_process_exec',
    'tracepoint syscalls:sys_exit_execve tracepoint__syscalls__sys_exit_execve',
    'tracepoint syscalls:sys_enter_execve tracepoint__syscalls__sys_enter_execve',
    'tracepoint syscalls:sys_exit_execveat tracepoint__syscalls__sys_exit_execveat',
    'tracepoint syscalls:sys_enter_execveat tracepoint__syscalls__sys_enter_execveat',
  ]);
});

test('without sched_process_exec, every exec is reported at the syscalls\' exit', () => {
  const view = kernel({ missing: ['sched:sched_process_exec'] });
  const program = configureExecsnoop(plain, view);
  assert.deepEqual([program.defines!.SUCCESS_AT_EXEC_TP, program.defines!.TRACE_FAILS, program.defines!.EXECVE_TRACEPOINT, program.defines!.EXECVEAT_TRACEPOINT],
    [false, false, true, true]);
  assert.deepEqual(chosen(plain, view), [
    'successful exec()s: the exit of execve/execveat, hooked as below',
    'every execve(): tracepoints syscalls:sys_enter_execve and sys_exit_execve',
    'every execveat(): tracepoints syscalls:sys_enter_execveat and sys_exit_execveat',
    'event records: ring buffer',
  ]);
  assert.equal(attached(plain, view).some((c) => c.includes('sched_process_exec')), false);
});

test('without syscall tracepoints but with kprobes, the syscall functions are probed (kretprobe first)', () => {
  const view = kernel({ missing: NO_SYSCALL_TRACEPOINTS, kprobes: () => true });
  const program = configureExecsnoop({ ...plain, fails: true }, view);
  assert.deepEqual(
    [program.defines!.EXECVE_TRACEPOINT, program.defines!.EXECVE_KPROBE, program.defines!.EXECVEAT_TRACEPOINT, program.defines!.EXECVEAT_KPROBE],
    [false, true, false, true]);
  const ladder = program.attachments[1];
  assert.equal(ladder.chosen, 'kprobe and kretprobe on __x64_sys_execve');
  assert.deepEqual(ladder.rejected, [{
    label: 'tracepoints syscalls:sys_enter_execve and sys_exit_execve',
    reason: 'this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS is off)',
  }]);
  assert.deepEqual(attached({ ...plain, fails: true }, view), [
    'tracepoint sched:sched_process_exec tracepoint__sched__sched_process_exec',
    'kretprobe __x64_sys_execve exec_return',
    'kprobe __x64_sys_execve syscall__execve',
    'kretprobe __x64_sys_execveat exec_return',
    'kprobe __x64_sys_execveat syscall__execveat',
  ]);
});

test('a kernel without execveat traces execve alone', () => {
  const view = kernel({ missing: NO_SYSCALL_TRACEPOINTS.slice(2), kprobes: () => true, syscallFunction: (s) => (s === 'execve' ? 'sys_execve' : null) });
  const program = configureExecsnoop({ ...plain, fails: true }, view);
  assert.deepEqual(
    [program.defines!.EXECVE_TRACEPOINT, program.defines!.EXECVE_KPROBE, program.defines!.EXECVEAT_TRACEPOINT, program.defines!.EXECVEAT_KPROBE],
    [true, false, false, false]);
  assert.equal(program.attachments[2].chosen, 'nothing (no execveat hook on this kernel)');
  assert.deepEqual(program.attachments[2].rejected.map((r) => r.reason), [
    'this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS is off)', 'no execveat syscall function in /proc/kallsyms',
  ]);
});

test('before Linux 5.8 records go through a perf buffer, which needs no size or lost counter', () => {
  const program = configureExecsnoop(plain, kernel({ ringBuffer: () => false }));
  assert.equal(program.ringBuffer, false);
  assert.equal(program.defines!.USE_RINGBUF, false);
  assert.equal('RINGBUF_PAGES' in program.defines!, false);
  assert.deepEqual(program.attachments.at(-1)!.rejected, [{ label: 'ring buffer', reason: 'needs Linux 5.8' }]);
});

test('with neither syscall tracepoints nor kprobes, -x cannot be traced: NOT_SUPPORTED with the reasons', () => {
  const view = kernel({ missing: NO_SYSCALL_TRACEPOINTS });
  assert.throws(() => configureExecsnoop({ ...plain, fails: true }, view), (err: unknown) => isBpfError(err) && err.code === 'NOT_SUPPORTED'
    && err.message === 'no way to trace failed execve() on this kernel: tracepoints syscalls:sys_enter_execve and sys_exit_execve: '
      + 'this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS is off); '
      + 'kprobe and kretprobe on __x64_sys_execve: this kernel has no kprobes');
  // Successes alone still work there: sched_process_exec is enough.
  assert.deepEqual(chosen(plain, view), ['successful exec()s: tracepoint sched:sched_process_exec', 'event records: ring buffer']);
});

test('the filters become defines; --mntnsmap adds the mount namespace offsets', () => {
  const config: ExecsnoopConfig = {
    fails: false, maxArgs: 3, uid: 0, ppid: 181, cgroup: true,
    containers: { FILTER_CGROUP_MAP: true, FILTER_MNTNS_MAP: true, PIN_ID: 4242 },
  };
  const d = configureExecsnoop(config, kernel()).defines!;
  assert.deepEqual(
    [d.MAX_ARGS, d.FILTER_UID, d.TARGET_UID, d.FILTER_PPID, d.TARGET_PPID, d.FILTER_CGROUP, d.FILTER_CGROUP_MAP, d.FILTER_MNTNS_MAP, d.PIN_ID],
    [3, true, 0, true, 181, true, true, true, 4242]);
  assert.deepEqual([d.TASK_NSPROXY_OFFSET, d.NSPROXY_MNT_NS_OFFSET, d.MNT_NS_INUM_OFFSET], [1800, 24, 16]);
  assert.equal('TASK_NSPROXY_OFFSET' in configureExecsnoop(plain, kernel()).defines!, false);
});

test('a kernel without BTF is a missing prerequisite (exit 2), named', () => {
  assert.throws(() => configureExecsnoop(plain, kernel({ offset: () => undefined })), (err: unknown) => err instanceof MissingPrerequisite
    && err.message === 'needs task_struct.real_parent from the kernel\'s BTF (/sys/kernel/btf/vmlinux), which this kernel lacks');
});

test('the exporter traces failures too, successes at sched_process_exec, one argument, the tool\'s ring buffer size', () => {
  const d = configureExecsnoop(EXPORTER_CONFIG, kernel()).defines!;
  assert.deepEqual(
    [d.TRACE_FAILS, d.SUCCESS_AT_EXEC_TP, d.EXECVE_TRACEPOINT, d.EXECVEAT_TRACEPOINT, d.MAX_ARGS, d.USE_RINGBUF, d.RINGBUF_PAGES],
    [true, true, true, true, 1, true, ringBufferPages(2)]);
  assert.deepEqual([d.FILTER_UID, d.FILTER_PPID, d.FILTER_CGROUP, d.FILTER_CGROUP_MAP, d.FILTER_MNTNS_MAP], [false, false, false, false, false]);
});

test('the ring buffer has 64 pages per CPU, at least 128, rounded up to a power of two', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 16, 96].map((cpus) => ringBufferPages(cpus)), [128, 128, 256, 256, 512, 1024, 8192]);
});
