// How offcputime configures its program on kernels other than this one (stand-in KernelViews):
// each rung of the ladder, the #defines from the options, the attach, and no way at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError, type BPF } from 'bcc-node-bindings';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { configureOffcputime, type OffcputimeConfig } from '../../tools/offcputime/program.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

const OFFSETS = { 'task_struct.pid': 2464, 'task_struct.tgid': 2468, 'task_struct.flags': 44, 'task_struct.__state': 24 };
const BASE: OffcputimeConfig = { stacks: 'both', minBlockUs: 1, stackStorageSize: 1024 };
const U64_MAX = (1n << 64n) - 1n;

const kernel = (overrides: FakeKernel = {}) => fakeKernel({
  offsets: OFFSETS, rawArg: (tp, type) => (tp === 'sched_switch' && type === 'task_struct' ? 1 : undefined), ...overrides,
});

function attached(config: OffcputimeConfig, view = kernel()): string[] {
  const calls: string[] = [];
  const bpf = {
    attachTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`tracepoint ${tp} ${fnName}`); },
    attachRawTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`raw_tracepoint ${tp} ${fnName}`); },
    attachKprobe: ({ event, fnName }: { event: string; fnName: string }) => { calls.push(`kprobe ${event} ${fnName}`); },
  };
  configureOffcputime(config, view).attach(bpf as unknown as BPF);
  return calls;
}

test('sched:sched_switch is chosen first; every #define spelled for bcc\'s defaults', () => {
  const program = configureOffcputime(BASE, kernel());
  assert.equal(program.file, 'offcputime.bpf.c');
  assert.equal(program.hook, 'HOOK_TP');
  assert.deepEqual(program.defines, {
    HOOK_TP: true, HOOK_RAW_TP: false, HOOK_KPROBE: false, RAW_PREV_ARG: 1, RAW_NEXT_ARG: 2,
    FILTER_TGID: false, TARGET_TGID: 0, FILTER_TID: false, TARGET_TID: 0, USER_THREADS_ONLY: false, KERNEL_THREADS_ONLY: false,
    FILTER_STATE: false, TARGET_STATE: 0, MIN_BLOCK_US: 1n, MAX_BLOCK_US: U64_MAX, USER_STACKS: true, KERNEL_STACKS: true,
    STACK_STORAGE_SIZE: 1024, COUNTS_ENTRIES: 10240, START_ENTRIES: 16384, NEW_TGID_ENTRIES: 1024,
  });
  assert.deepEqual(program.attachments.map((a) => `${a.purpose}: ${a.chosen}`), ['context switches: tracepoint sched:sched_switch']);
  assert.deepEqual(attached(BASE), ['tracepoint sched:sched_switch tracepoint__sched__sched_switch']);
});

test('the options become numbers: -p, -t, -u, -k, -U, -K, -m, -M, --state, --stack-storage-size', () => {
  const d = (c: Partial<OffcputimeConfig>) => configureOffcputime({ ...BASE, ...c }, kernel()).defines!;
  assert.deepEqual([d({ tgid: 185 }).FILTER_TGID, d({ tgid: 185 }).TARGET_TGID], [true, 185]);
  assert.deepEqual([d({ tid: 188 }).FILTER_TID, d({ tid: 188 }).TARGET_TID], [true, 188]);
  assert.deepEqual([d({ threads: 'user' }).USER_THREADS_ONLY, d({ threads: 'user' }).TASK_FLAGS_OFFSET], [true, 44]);
  assert.deepEqual([d({ threads: 'kernel' }).KERNEL_THREADS_ONLY, d({ threads: 'kernel' }).USER_THREADS_ONLY], [true, false]);
  assert.deepEqual([d({ stacks: 'user' }).USER_STACKS, d({ stacks: 'user' }).KERNEL_STACKS], [true, false]);
  assert.deepEqual([d({ stacks: 'kernel' }).USER_STACKS, d({ stacks: 'kernel' }).KERNEL_STACKS], [false, true]);
  assert.deepEqual([d({ minBlockUs: 1000, maxBlockUs: 10000 }).MIN_BLOCK_US, d({ minBlockUs: 1000, maxBlockUs: 10000 }).MAX_BLOCK_US], [1000n, 10000n]);
  const state = d({ state: 2 });
  assert.deepEqual([state.FILTER_STATE, state.TARGET_STATE, state.TASK_STATE_OFFSET, state.TASK_STATE_LONG], [true, 2, 24, false]);
  assert.deepEqual([d({ state: 0 }).FILTER_STATE, d({ state: 0 }).TARGET_STATE], [true, 0]);
  assert.equal(d({ stackStorageSize: 4096 }).STACK_STORAGE_SIZE, 4096);
  // Without -u/-k/--state the tracepoint reads no task field at all.
  assert.equal(Object.keys(d({})).some((k) => k.startsWith('TASK_')), false);
});

test('--state before Linux 5.14 reads the long task_struct.state', () => {
  const old = kernel({ offsets: { ...OFFSETS, 'task_struct.__state': undefined as unknown as number, 'task_struct.state': 16 } });
  const d = configureOffcputime({ ...BASE, state: 1 }, old).defines!;
  assert.deepEqual([d.TASK_STATE_OFFSET, d.TASK_STATE_LONG], [16, true]);
});

test('without the tracepoint: the raw tracepoint, its task arguments from BTF and task_struct.pid', () => {
  const view = kernel({ missing: ['sched:sched_switch'], rawArg: (tp, type) => (tp === 'sched_switch' && type === 'task_struct' ? 1 : undefined) });
  const program = configureOffcputime(BASE, view);
  assert.equal(program.hook, 'HOOK_RAW_TP');
  assert.deepEqual([program.defines!.RAW_PREV_ARG, program.defines!.RAW_NEXT_ARG, program.defines!.TASK_PID_OFFSET], [1, 2, 2464]);
  assert.deepEqual(program.attachments[0].rejected, [{ label: 'tracepoint sched:sched_switch', reason: 'no such tracepoint' }]);
  assert.deepEqual(attached(BASE, view), ['raw_tracepoint sched_switch raw_tracepoint__sched_switch']);
});

test("then bcc's kprobe on finish_task_switch, under the name this kernel gives it", () => {
  const view = kernel({
    missing: ['sched:sched_switch'], rawTracepoints: () => false, kprobes: () => true,
    kernelFunction: (f) => f === 'finish_task_switch.isra.0',
  });
  const program = configureOffcputime(BASE, view);
  assert.equal(program.hook, 'HOOK_KPROBE');
  assert.equal(program.attachments[0].chosen, "kprobe finish_task_switch.isra.0 (bcc's)");
  assert.deepEqual([program.defines!.TASK_PID_OFFSET, program.defines!.TASK_TGID_OFFSET], [2464, 2468]);
  assert.deepEqual(attached(BASE, view), ['kprobe finish_task_switch.isra.0 oncpu']);
  assert.equal(configureOffcputime(BASE, kernel({ missing: ['sched:sched_switch'], rawTracepoints: () => false, kprobes: () => true, kernelFunction: (f) => f === 'finish_task_switch' })).attachments[0].chosen,
    "kprobe finish_task_switch (bcc's)");
});

test('raw tracepoint without its arguments in BTF, and no kprobes: no way, said as such', () => {
  const view = kernel({ missing: ['sched:sched_switch'], rawArg: () => undefined });
  assert.throws(() => configureOffcputime(BASE, view), (err: unknown) => isBpfError(err) && err.code === 'NOT_SUPPORTED' &&
    err.message === 'no way to trace context switches on this kernel: tracepoint sched:sched_switch: no such tracepoint; ' +
      'raw tracepoint sched_switch: its arguments are not in BTF; kprobe finish_task_switch (bcc\'s): this kernel has no kprobes');
});

test('a field the kernel\'s BTF lacks is a missing prerequisite, named', () => {
  assert.throws(() => configureOffcputime({ ...BASE, threads: 'user' }, kernel({ offsets: {} })),
    (err: unknown) => err instanceof MissingPrerequisite && /task_struct\.flags/.test(err.message));
  assert.throws(() => configureOffcputime({ ...BASE, state: 2 }, kernel({ offsets: {} })),
    (err: unknown) => err instanceof MissingPrerequisite && /task_struct\.__state/.test(err.message));
});
