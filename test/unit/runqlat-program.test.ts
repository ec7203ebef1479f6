// How runqlat configures its program on kernels other than this one (stand-in KernelViews): the
// rung it picks for the three scheduler points, and the #defines it hands the C.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configureRunqlat, runnableStateMask, type RunqlatConfig } from '../../tools/runqlat/program.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

const OFFSETS: Record<string, number> = {
  'task_struct.pid': 1000, 'task_struct.tgid': 1004, 'task_struct.__state': 24, 'task_struct.thread_pid': 1200,
  'task_struct.group_leader': 1100, 'pid.level': 4, 'pid.numbers': 96, 'upid.ns': 8, 'pid_namespace.ns.inum': 176,
};
const kernel = (overrides: FakeKernel = {}) => fakeKernel({ offsets: OFFSETS, ...overrides });
const configure = (c: Partial<RunqlatConfig> = {}, k = kernel()) => configureRunqlat({ grouping: 'none', nsPerUnit: 1000, totals: false, ...c }, k);
/** BPFKIT_AVOID=tracepoint for one call: how a kernel without the classic ones is stood in for. */
function avoidingTracepoints<T>(f: () => T): T {
  const before = process.env.BPFKIT_AVOID;
  process.env.BPFKIT_AVOID = 'tracepoint';
  try {
    return f();
  } finally {
    if (before === undefined) delete process.env.BPFKIT_AVOID;
    else process.env.BPFKIT_AVOID = before;
  }
}
const targets = (c: ReturnType<typeof configure>) => c.probes.map((p) => `${p.kind} ${p.target} ${p.fnName}`);

test('the sched tracepoints come first, the switch attached before the wakeups', () => {
  const p = configure();
  assert.equal(p.file, 'runqlat.bpf.c');
  assert.equal(p.rung, 'tracepoint');
  assert.deepEqual(targets(p), [
    'tracepoint sched:sched_switch tracepoint__sched__sched_switch',
    'tracepoint sched:sched_wakeup tracepoint__sched__sched_wakeup',
    'tracepoint sched:sched_wakeup_new tracepoint__sched__sched_wakeup_new',
  ]);
  assert.deepEqual(p.defines, {
    RUNG_TRACEPOINT: true, RUNG_RAW_TP: false, RUNG_KPROBE: false, NS_PER_UNIT: 1000,
    KEY_TGID: false, KEY_TID: false, KEY_PIDNS: false, FILTER_TGID: false, TARGET_TGID: 0, TOTALS: false,
    DEFER_TO_SWITCH_OUT: false, START_ENTRIES: 32768, HIST_ENTRIES: 64, GROUP_ENTRIES: 1, RUNNABLE_STATE_MASK: 0xff,
  });
  assert.equal(p.attachments[0].chosen, 'tracepoints sched:sched_wakeup, sched:sched_wakeup_new, sched:sched_switch');
});

test('on tracepoints, -P, -p and --pidnss wait for the switch-out to learn the process; -L does not', () => {
  assert.equal(configure({ grouping: 'pid' }).defines!.DEFER_TO_SWITCH_OUT, true);
  assert.equal(configure({ pid: 42 }).defines!.DEFER_TO_SWITCH_OUT, true);
  assert.equal(configure({ grouping: 'tid' }).defines!.DEFER_TO_SWITCH_OUT, false);
  const ns = configure({ grouping: 'pidns' });
  assert.equal(ns.defines!.DEFER_TO_SWITCH_OUT, true);
  assert.equal(ns.defines!.PIDNS_INUM_OFFSET, 176);
  assert.equal(ns.defines!.UPID_SIZE, 16);
  const p = configure({ pid: 42, grouping: 'pid', totals: true, nsPerUnit: 1_000_000 });
  assert.deepEqual([p.defines!.FILTER_TGID, p.defines!.TARGET_TGID, p.defines!.KEY_TGID, p.defines!.TOTALS, p.defines!.NS_PER_UNIT], [true, 42, true, true, 1_000_000]);
  assert.equal(p.defines!.HIST_ENTRIES, 16 * 4096);
});

test('without the sched tracepoints, raw tracepoints read the tasks at BTF offsets', () => {
  const p = avoidingTracepoints(() => configure({ grouping: 'pid' }));
  assert.equal(p.rung, 'raw_tracepoint');
  assert.deepEqual(targets(p), ['raw_tracepoint sched_switch on_switch', 'raw_tracepoint sched_wakeup on_wakeup', 'raw_tracepoint sched_wakeup_new on_wakeup']);
  assert.deepEqual([p.defines!.TASK_PID_OFFSET, p.defines!.TASK_TGID_OFFSET, p.defines!.TASK_STATE_OFFSET, p.defines!.DEFER_TO_SWITCH_OUT], [1000, 1004, 24, false]);
  assert.match(p.attachments[0].rejected[0].reason, /excluded by BPFKIT_AVOID=tracepoint/);
  // Before 5.14 the field is `state`.
  const old: Record<string, number> = { ...OFFSETS, 'task_struct.state': 16 };
  delete old['task_struct.__state'];
  assert.equal(avoidingTracepoints(() => configure({}, fakeKernel({ offsets: old }))).defines!.TASK_STATE_OFFSET, 16);
});

test('kprobes last: bcc\'s ttwu_do_wakeup before 6.2, ttwu_do_activate after, finish_task_switch or its .isra clone', () => {
  const noTp = { missing: ['sched_switch'], rawTracepoints: () => false, kprobes: () => true };
  const old = configure({}, kernel({ ...noTp, release: '4.15.0' }));
  assert.equal(old.rung, 'kprobe');
  assert.deepEqual(targets(old), ['kprobe finish_task_switch on_switch', 'kprobe ttwu_do_wakeup on_wakeup', 'kprobe wake_up_new_task on_wakeup_new']);
  assert.equal(old.defines!.WAKEUP_KPROBE_ARG, 2);
  const recent = configure({}, kernel({ ...noTp, kernelFunction: (f) => f !== 'finish_task_switch' && f !== 'ttwu_do_wakeup' }));
  assert.deepEqual(targets(recent), ['kprobe finish_task_switch.isra.0 on_switch', 'kprobe ttwu_do_activate on_wakeup', 'kprobe wake_up_new_task on_wakeup_new']);
  assert.match(recent.attachments[0].rejected.map((r) => r.reason).join('\n'), /inlined since Linux 6\.2/);
});

test('a kernel with none of them: one error naming every reason', () => {
  assert.throws(() => configure({}, kernel({ missing: ['sched_switch'], rawTracepoints: () => false })),
    /no way to trace run queue waits on this kernel: tracepoints .*: this kernel has no sched:sched_switch; raw tracepoints .*: this kernel cannot attach raw tracepoints .*; kprobes .*: this kernel has no kprobes/);
});

test('without the task offsets in BTF, raw tracepoints are no choice and --pidnss cannot run on tracepoints', () => {
  assert.throws(() => avoidingTracepoints(() => configure({}, fakeKernel())), /raw tracepoints .*: needs task_struct\.pid from the kernel's BTF/);
  assert.throws(() => configure({ grouping: 'pidns' }, fakeKernel({ rawTracepoints: () => false })), /tracepoints .*: needs task_struct\.pid/);
});

test('the classic sched_switch state bits that mean "not runnable", by kernel', () => {
  assert.equal(runnableStateMask('6.18.0'), 0xff);
  assert.equal(runnableStateMask('4.14.0'), 0xff);
  assert.equal(runnableStateMask('4.12.0'), 0xfff);
  assert.equal(runnableStateMask('4.9.0'), 0x7ff);
});

test('metrics size the maps by the series limit, one histogram when not grouped', () => {
  assert.deepEqual([configure({ seriesLimit: 2000 }).defines!.HIST_ENTRIES, configure({ seriesLimit: 2000 }).defines!.TOTALS], [64, true]);
  assert.equal(configure({ grouping: 'tid', seriesLimit: 2000 }).defines!.HIST_ENTRIES, 32000);
});
