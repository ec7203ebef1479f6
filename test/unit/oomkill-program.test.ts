// How oomkill configures its program on kernels other than this one (each described by a
// stand-in KernelView with a tracepoint's fields): where the probe goes, the #defines, the attach.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError, type BPF } from 'bcc-node-bindings';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { MARK_VICTIM_FIELDS, OOM_RING_PAGES, configureOomkill } from '../../tools/oomkill/program.ts';
import type { KernelView } from '../../lib/kernel/view.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

const OFFSETS = { 'oom_control.chosen': 40, 'oom_control.totalpages': 48, 'task_struct.tgid': 1268, 'task_struct.comm': 1752 };

/** This VM by default: mark_victim with all its 6.9 fields, no kprobes. */
function kernel(fields: string[] | null = MARK_VICTIM_FIELDS, overrides: FakeKernel = {}): KernelView {
  return { ...fakeKernel({ offsets: OFFSETS, ...overrides }), tracepointFields: (c, e) => (c === 'oom' && e === 'mark_victim' ? fields : null) };
}

function attached(view: KernelView): string[] {
  const calls: string[] = [];
  const bpf = {
    attachTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`tracepoint ${tp} ${fnName}`); },
    attachKprobe: ({ event, fnName }: { event: string; fnName: string }) => { calls.push(`kprobe ${event} ${fnName}`); },
  };
  configureOomkill(view).attach(bpf as unknown as BPF);
  return calls;
}

const chosen = (view: KernelView) => configureOomkill(view).attachments.map((a) => `${a.purpose}: ${a.chosen}`);

test('mark_victim with the victim\'s fields is chosen first, into a small ring buffer', () => {
  const program = configureOomkill(kernel());
  assert.equal(program.file, 'oomkill.bpf.c');
  assert.equal(program.hook, 'tracepoint');
  assert.deepEqual(program.defines, {
    VICTIM_FIELDS_TP: true, KPROBE_OOM_KILL: false, VICTIM_PID_TP: false, USE_RINGBUF: true, RINGBUF_PAGES: OOM_RING_PAGES,
  });
  assert.deepEqual(chosen(kernel()), ['OOM kills: tracepoint oom:mark_victim (victim\'s name and memory)', 'event records: ring buffer']);
  assert.deepEqual(attached(kernel()), ['tracepoint oom:mark_victim tracepoint__oom__mark_victim']);
  // --explain shows the rest of the ladder, each with why it would or would not do here.
  assert.deepEqual(configureOomkill(kernel()).attachments[0].fallbacks!(), [
    { label: 'kprobe on oom_kill_process (bcc\'s)', reason: 'this kernel has no kprobes' },
    { label: 'tracepoint oom:mark_victim (victim\'s PID only)', reason: null },
  ]);
});

test('a pre-6.9 mark_victim (PID only) with kprobes: bcc\'s kprobe, at the BTF offsets of oom_control and the task', () => {
  const view = kernel(['pid'], { kprobes: () => true });
  const program = configureOomkill(view);
  assert.equal(program.hook, 'kprobe');
  assert.deepEqual(program.defines, {
    VICTIM_FIELDS_TP: false, KPROBE_OOM_KILL: true, VICTIM_PID_TP: false,
    OOM_CONTROL_CHOSEN_OFFSET: 40, OOM_CONTROL_TOTALPAGES_OFFSET: 48, TASK_TGID_OFFSET: 1268, TASK_COMM_OFFSET: 1752,
    USE_RINGBUF: true, RINGBUF_PAGES: OOM_RING_PAGES,
  });
  assert.deepEqual(program.attachments[0].rejected, [{
    label: 'tracepoint oom:mark_victim (victim\'s name and memory)',
    reason: 'it lacks comm, total_vm, anon_rss, file_rss, shmem_rss, uid, pgtables, oom_score_adj (Linux 6.9 added them)',
  }]);
  assert.deepEqual(attached(view), ['kprobe oom_kill_process oom_kill_entry']);
});

test('a pre-6.9 mark_victim without kprobes: the PID-only tracepoint; without ring buffers, a perf buffer', () => {
  const view = kernel(['pid'], { ringBuffer: () => false });
  const program = configureOomkill(view);
  assert.equal(program.hook, 'tracepoint-pid');
  assert.deepEqual(program.defines, { VICTIM_FIELDS_TP: false, KPROBE_OOM_KILL: false, VICTIM_PID_TP: true, USE_RINGBUF: false });
  assert.deepEqual(chosen(view), ['OOM kills: tracepoint oom:mark_victim (victim\'s PID only)', 'event records: perf buffer']);
  assert.deepEqual(attached(view), ['tracepoint oom:mark_victim tracepoint__oom__mark_victim']);
});

test('no mark_victim: the kprobe where oom_kill_process exists; nothing usable is a NOT_SUPPORTED error naming each reason', () => {
  assert.equal(configureOomkill(kernel(null, { kprobes: () => true })).hook, 'kprobe');
  assert.throws(() => configureOomkill(kernel(null, { kprobes: () => true, kernelFunction: () => false })), (err: unknown) =>
    isBpfError(err) && err.code === 'NOT_SUPPORTED' && err.message.includes('no oom_kill_process in /proc/kallsyms'));
  assert.throws(() => configureOomkill(kernel(null)), (err: unknown) =>
    isBpfError(err) && err.code === 'NOT_SUPPORTED' &&
    err.message === 'no way to trace OOM kills on this kernel: tracepoint oom:mark_victim (victim\'s name and memory): no such tracepoint; ' +
      'kprobe on oom_kill_process (bcc\'s): this kernel has no kprobes; tracepoint oom:mark_victim (victim\'s PID only): no such tracepoint');
});

test('the kprobe without BTF offsets is a missing prerequisite (exit 2), not a guess from headers', () => {
  const view: KernelView = { ...kernel(null, { kprobes: () => true }), offset: () => undefined };
  assert.throws(() => configureOomkill(view), MissingPrerequisite);
});
