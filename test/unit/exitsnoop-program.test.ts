// How exitsnoop configures its program on kernels other than this one (each described by a
// stand-in KernelView): where the probe goes, how it is attached, and the #defines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError, type BPF } from 'bcc-node-bindings';
import type { KernelView } from '../../lib/kernel/view.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { ringBufferPages } from '../../lib/run/event-channel.ts';
import { EXPORTER_CONFIG, configureExitsnoop, type ExitsnoopConfig } from '../../tools/exitsnoop/program.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

const OFFSETS: Record<string, number> = {
  'task_struct.real_parent': 1280, 'task_struct.tgid': 1268, 'task_struct.exit_code': 1164, 'task_struct.start_time': 1552,
};
const TASK_DEFINES = { TASK_REAL_PARENT_OFFSET: 1280, TASK_TGID_OFFSET: 1268, TASK_EXIT_CODE_OFFSET: 1164, TASK_START_TIME_OFFSET: 1552 };

const kernel = (overrides: FakeKernel = {}): KernelView => fakeKernel({ offsets: OFFSETS, ...overrides });
const plain: ExitsnoopConfig = { perThread: false, failedOnly: false };

/** What attach() did, on a stand-in BPF. */
function attached(config: ExitsnoopConfig, view: KernelView): string[] {
  const calls: string[] = [];
  const bpf = {
    attachTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`tracepoint ${tp} ${fnName}`); },
    attachRawTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`raw tracepoint ${tp} ${fnName}`); },
    attachKprobe: ({ event, fnName }: { event: string; fnName: string }) => { calls.push(`kprobe ${event} ${fnName}`); },
  };
  configureExitsnoop(config, view).attach(bpf as unknown as BPF);
  return calls;
}

const chosen = (config: ExitsnoopConfig, view: KernelView) => configureExitsnoop(config, view).attachments.map((a) => `${a.purpose}: ${a.chosen}`);

test('with every tracepoint: sched_process_exit, a ring buffer, filters off, offsets from BTF', () => {
  const program = configureExitsnoop(plain, kernel());
  assert.equal(program.file, 'exitsnoop.bpf.c');
  assert.equal(program.ringBuffer, true);
  assert.deepEqual(program.defines, {
    EXIT_TRACEPOINT: true, EXIT_RAW_TRACEPOINT: false, EXIT_KPROBE: false, PER_THREAD: false,
    FILTER_PID: false, TARGET_PID: 0, FILTER_FAILED: false, USE_RINGBUF: true, RINGBUF_PAGES: ringBufferPages(2), ...TASK_DEFINES,
  });
  assert.deepEqual(chosen(plain, kernel()), ['process exits: tracepoint sched:sched_process_exit', 'event records: ring buffer']);
  assert.deepEqual(attached(plain, kernel()), ['tracepoint sched:sched_process_exit tracepoint__sched__sched_process_exit']);
});

test('-p, -x and --per-thread become numbers in the program', () => {
  const config = { perThread: true, failedOnly: true, pid: 4321 };
  const d = configureExitsnoop(config, kernel()).defines!;
  assert.deepEqual([d.PER_THREAD, d.FILTER_FAILED, d.FILTER_PID, d.TARGET_PID], [true, true, true, 4321]);
  assert.deepEqual(chosen(config, kernel()), ['thread exits: tracepoint sched:sched_process_exit', 'event records: ring buffer']);
});

test('without the tracepoint, the raw tracepoint; without either, a kprobe on do_exit', () => {
  const raw = kernel({ missing: ['sched:sched_process_exit'] });
  assert.deepEqual(chosen(plain, raw), ['process exits: raw tracepoint sched_process_exit', 'event records: ring buffer']);
  assert.deepEqual(attached(plain, raw), ['raw tracepoint sched_process_exit raw_tracepoint__sched_process_exit']);
  const rawDefines = configureExitsnoop(plain, raw).defines!;
  assert.deepEqual([rawDefines.EXIT_TRACEPOINT, rawDefines.EXIT_RAW_TRACEPOINT, rawDefines.EXIT_KPROBE], [false, true, false]);

  const old = kernel({ missing: ['sched:sched_process_exit'], rawTracepoints: () => false, kprobes: () => true, ringBuffer: () => false });
  const program = configureExitsnoop(plain, old);
  assert.deepEqual(chosen(plain, old), ['process exits: kprobe on do_exit', 'event records: perf buffer']);
  assert.deepEqual(attached(plain, old), ['kprobe do_exit exit_kprobe']);
  assert.deepEqual([program.defines!.EXIT_KPROBE, program.defines!.USE_RINGBUF, 'RINGBUF_PAGES' in program.defines!], [true, false, false]);
  assert.equal(program.ringBuffer, false);
  const rejected = program.attachments[0].rejected.map((r) => `${r.label}: ${r.reason}`);
  assert.deepEqual(rejected, [
    'tracepoint sched:sched_process_exit: no such tracepoint in tracefs',
    'raw tracepoint sched_process_exit: this kernel has no raw tracepoints (4.17+)',
  ]);
});

test('nothing usable is NOT_SUPPORTED, naming every reason; a kernel without BTF offsets is a missing prerequisite', () => {
  const none = kernel({ missing: ['sched:sched_process_exit'], rawTracepoints: () => false, kprobes: () => false });
  assert.throws(() => configureExitsnoop(plain, none), (err: unknown) => isBpfError(err) && err.code === 'NOT_SUPPORTED' &&
    /no such tracepoint/.test(err.message) && /no raw tracepoints/.test(err.message) && /no kprobes/.test(err.message));
  const noDoExit = kernel({ missing: ['sched:sched_process_exit'], rawTracepoints: () => false, kprobes: () => true, kernelFunction: () => false });
  assert.throws(() => configureExitsnoop(plain, noDoExit), /no do_exit in \/proc\/kallsyms/);

  const { 'task_struct.start_time': _gone, ...noStart } = OFFSETS;
  assert.throws(() => configureExitsnoop(plain, fakeKernel({ offsets: noStart })),
    (err: unknown) => err instanceof MissingPrerequisite && /task_struct\.start_time/.test(err.message));
});

test('the exporter counts every process end: no filter, not per thread', () => {
  assert.deepEqual(EXPORTER_CONFIG, { perThread: false, failedOnly: false });
  const d = configureExitsnoop(EXPORTER_CONFIG, kernel()).defines!;
  assert.deepEqual([d.FILTER_PID, d.FILTER_FAILED, d.PER_THREAD], [false, false, false]);
});
