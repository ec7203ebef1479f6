// How profile configures its program on machines other than this one (each a stand-in kernel view
// that has, or lacks, hardware counters): which perf event samples, the attach call, the #defines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError, type BPF, type PerfEventTarget } from 'bcc-node-bindings';
import { configureProfile, type ProfileConfig, type ProfileKernel } from '../../tools/profile/program.ts';
import type { PerfCounter } from '../../tools/profile/perf-probe.ts';
import { fakeKernel } from '../helpers/kernel-view.ts';

const HARDWARE = "perf event hardware cpu-cycles (the CPU's PMU)";
const SOFTWARE = "perf event software cpu-clock (bcc's)";
const NO_PMU = 'no such counter on this machine (no hardware PMU here: a VM without one passed through)';

function kernel(lacks: PerfCounter[] = [], offsets: Record<string, number> = {}): ProfileKernel {
  return { ...fakeKernel({ offsets }), perfEvent: (c) => (lacks.includes(c) ? (c === 'cpu-cycles' ? NO_PMU : 'perf_event_open failed: errno 95') : null) };
}

const plain: ProfileConfig = { kernelStacks: true, userStacks: true, includeIdle: false, frequency: 49, stackStorage: 16384, perThread: false };

function attachCall(config: ProfileConfig, view: ProfileKernel): PerfEventTarget & { fnName: string } {
  const calls: Array<PerfEventTarget & { fnName: string }> = [];
  configureProfile(config, view).attach({ attachPerfEvent: (a: PerfEventTarget & { fnName: string }) => { calls.push(a); } } as unknown as BPF);
  assert.equal(calls.length, 1);
  return calls[0];
}

test('hardware cycles where the PMU is there: PERF_TYPE_HARDWARE / CPU_CYCLES at the frequency, on every CPU', () => {
  const p = configureProfile(plain, kernel());
  assert.equal(p.counter, 'cpu-cycles');
  assert.deepEqual(p.attachments.map((a) => [a.purpose, a.chosen, a.rejected]), [['CPU samples', HARDWARE, []]]);
  assert.deepEqual(p.attachments[0].fallbacks!(), [{ label: SOFTWARE, reason: null }]);
  assert.deepEqual(attachCall(plain, kernel()), { fnName: 'do_perf_event', evType: 0, evConfig: 0, sampleFreq: 49 });
});

test('no PMU (this VM): software cpu-clock, and --explain says why not cycles', () => {
  const p = configureProfile(plain, kernel(['cpu-cycles']));
  assert.equal(p.counter, 'cpu-clock');
  assert.deepEqual(p.attachments[0].rejected, [{ label: HARDWARE, reason: NO_PMU }]);
  assert.deepEqual(attachCall({ ...plain, frequency: 99, cpu: 1 }, kernel(['cpu-cycles'])), { fnName: 'do_perf_event', evType: 1, evConfig: 0, sampleFreq: 99, cpu: 1 });
});

test("-c and -I keep bcc's cpu-clock even with a PMU, and say why", () => {
  const period = configureProfile({ ...plain, frequency: undefined, period: 1_000_000 }, kernel());
  assert.equal(period.counter, 'cpu-clock');
  assert.deepEqual(period.attachments[0].rejected, [{ label: HARDWARE, reason: "-c: bcc's period counts cpu-clock events (nanoseconds)" }]);
  assert.deepEqual(attachCall({ ...plain, frequency: undefined, period: 1_000_000 }, kernel()), { fnName: 'do_perf_event', evType: 1, evConfig: 0, samplePeriod: 1_000_000 });
  const idle = configureProfile({ ...plain, includeIdle: true }, kernel());
  assert.equal(idle.counter, 'cpu-clock');
  assert.match(idle.attachments[0].rejected[0].reason, /^-I: /);
});

test('no perf event opens at all: an error naming both rungs', () => {
  assert.throws(() => configureProfile(plain, kernel(['cpu-cycles', 'cpu-clock'])), (err: unknown) =>
    isBpfError(err) && err.code === 'NOT_SUPPORTED' && err.message.includes(HARDWARE) && err.message.includes(SOFTWARE));
});

test('#defines: filters, stacks, storage, idle, per-thread keys', () => {
  assert.deepEqual(configureProfile(plain, kernel()).defines, {
    FILTER_PID: false, FILTER_TID: false, MAX_TARGETS: 1, INCLUDE_IDLE: false, KERNEL_STACKS: true, USER_STACKS: true,
    PER_THREAD: false, STACK_STORAGE_SIZE: 16384, COUNT_ENTRIES: 16384, FILTER_CGROUP_MAP: false, FILTER_MNTNS_MAP: false,
  });
  const d = configureProfile({ ...plain, tids: [7, 8, 9], userStacks: false, includeIdle: true, stackStorage: 100, perThread: true }, kernel()).defines!;
  assert.deepEqual([d.FILTER_PID, d.FILTER_TID, d.MAX_TARGETS, d.USER_STACKS, d.INCLUDE_IDLE, d.STACK_STORAGE_SIZE, d.COUNT_ENTRIES, d.PER_THREAD],
    [false, true, 3, false, true, 100, 10240, true]);
  assert.equal(configureProfile({ ...plain, pids: [1, 2] }, kernel()).defines!.FILTER_PID, true);
});

test('--mntnsmap: the mount namespace walk at the running kernel\'s BTF offsets', () => {
  const offsets = { 'task_struct.real_parent': 1280, 'task_struct.tgid': 1268, 'task_struct.nsproxy': 1800, 'nsproxy.mnt_ns': 24, 'mnt_namespace.ns.inum': 16 };
  const d = configureProfile({ ...plain, containers: { FILTER_CGROUP_MAP: false, FILTER_MNTNS_MAP: true, PIN_ID: 42 } }, kernel([], offsets)).defines!;
  assert.deepEqual([d.FILTER_MNTNS_MAP, d.PIN_ID, d.TASK_NSPROXY_OFFSET, d.NSPROXY_MNT_NS_OFFSET, d.MNT_NS_INUM_OFFSET, d.TASK_TGID_OFFSET],
    [true, 42, 1800, 24, 16, 1268]);
});
