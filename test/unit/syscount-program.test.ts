// How syscount configures its program on kernels other than this one (each described by a
// stand-in KernelView): which probes it picks, in which order it attaches them, and the #defines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError, type BPF } from 'bcc-node-bindings';
import type { KernelView } from '../../lib/kernel/view.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { EXPORTER_CONFIG, configureSyscount, type SyscountConfig } from '../../tools/syscount/program.ts';
import { NR_SLOTS } from '../../tools/syscount/options.ts';
import { syscallByName } from '../../lib/kernel/syscalls.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

// Where this architecture keeps the syscall number in struct pt_regs (x64 and arm64 are known).
const REGS = ({ x64: { field: 'orig_ax', size: 8 }, arm64: { field: 'syscallno', size: 4 } } as Record<string, { field: string; size: number }>)[process.arch];
const OFFSETS: Record<string, number> = { 'task_struct.real_parent': 2456, 'task_struct.tgid': 2444, ...(REGS ? { [`pt_regs.${REGS.field}`]: 120 } : {}) };

const kernel = (overrides: FakeKernel = {}): KernelView => fakeKernel({ offsets: OFFSETS, ...overrides });

const plain: SyscountConfig = { failures: false, latency: false, byProcess: false, cgroup: false, metrics: false };

/** What attach() did, in order, on a stand-in BPF. */
function attached(config: SyscountConfig, view: KernelView): string[] {
  const calls: string[] = [];
  const bpf = {
    attachRawTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`raw_tracepoint ${tp} ${fnName}`); },
    attachTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`tracepoint ${tp} ${fnName}`); },
  };
  configureSyscount(config, view).attach(bpf as unknown as BPF);
  return calls;
}

const chosen = (config: SyscountConfig, view: KernelView) => configureSyscount(config, view).attachments.map((a) => `${a.purpose}: ${a.chosen}`);

test('plain counting attaches the raw tracepoint sys_enter only, with every filter off', () => {
  const program = configureSyscount(plain, kernel());
  assert.equal(program.file, 'syscount.bpf.c');
  assert.deepEqual(chosen(plain, kernel()), ['syscall enter: raw tracepoint sys_enter']);
  assert.deepEqual(attached(plain, kernel()), ['raw_tracepoint sys_enter raw_tracepoint__sys_enter']);
  // --explain's whole ladder: what would be taken on a kernel without raw tracepoints.
  assert.deepEqual(program.attachments[0].fallbacks?.(), [{ label: 'tracepoint raw_syscalls:sys_enter', reason: null }]);
  assert.deepEqual(configureSyscount(plain, kernel({ missing: ['raw_syscalls:sys_enter'] })).attachments[0].fallbacks?.(),
    [{ label: 'tracepoint raw_syscalls:sys_enter', reason: 'no such tracepoint in tracefs' }]);
  assert.deepEqual(program.defines, {
    ENTER_RAW: true, EXIT_RAW: false, THREAD_EXIT_RAW: false, LATENCY: false, BY_PROCESS: false,
    FILTER_FAILED: false, FILTER_ERRNO: 0, FILTER_PID: 0, FILTER_TID: 0, FILTER_PPID: 0, FILTER_CGROUP: false,
    FILTER_SYSCALL: -1, NR_SLOTS, MAX_PROCESSES: 16384, MAX_THREADS: 16384, NR_EXIT_GROUP: syscallByName('exit_group')?.nr ?? -2,
    METRICS_ERRNO: false, METRICS_LATENCY_HIST: false,
  });
});

test('without raw tracepoints (before 4.17) it falls back to raw_syscalls:sys_enter, and says why', () => {
  const view = kernel({ rawTracepoints: () => false });
  const program = configureSyscount(plain, view);
  assert.equal(program.defines!.ENTER_RAW, false);
  assert.deepEqual(program.attachments.map(({ purpose, chosen, rejected }) => ({ purpose, chosen, rejected })), [{
    purpose: 'syscall enter', chosen: 'tracepoint raw_syscalls:sys_enter',
    rejected: [{ label: 'raw tracepoint sys_enter', reason: 'this kernel has no raw tracepoints (4.17+)' }],
  }]);
  assert.deepEqual(attached(plain, view), ['tracepoint raw_syscalls:sys_enter tracepoint__raw_syscalls__sys_enter']);
});

test('-L attaches thread exit first, then sys_exit, then sys_enter, so no start entry outlives its thread', () => {
  const timed = { ...plain, latency: true };
  assert.deepEqual(attached(timed, kernel()), [
    'raw_tracepoint sched_process_exit raw_tracepoint__sched_process_exit',
    'raw_tracepoint sys_exit raw_tracepoint__sys_exit',
    'raw_tracepoint sys_enter raw_tracepoint__sys_enter',
  ]);
  assert.deepEqual(chosen(timed, kernel()), [
    'syscall enter: raw tracepoint sys_enter', 'syscall exit: raw tracepoint sys_exit',
    'thread exit (drops its -L start entry): raw tracepoint sched_process_exit',
  ]);
  const defines = configureSyscount(timed, kernel()).defines!;
  assert.equal(defines.LATENCY, true);
  assert.equal(defines.REGS_NR_OFFSET, undefined, '-L keeps the number from sys_enter');
  assert.deepEqual(attached(timed, kernel({ rawTracepoints: () => false })), [
    'tracepoint sched:sched_process_exit tracepoint__sched__sched_process_exit',
    'tracepoint raw_syscalls:sys_exit tracepoint__raw_syscalls__sys_exit',
    'tracepoint raw_syscalls:sys_enter tracepoint__raw_syscalls__sys_enter',
  ]);
});

test('-x and -e count at sys_exit only; a raw sys_exit reads the number at the BTF offset of pt_regs', (t) => {
  if (!REGS) { t.skip(`no pt_regs field known for ${process.arch}`); return; }
  for (const config of [{ ...plain, failures: true }, { ...plain, errno: 2 }]) {
    const program = configureSyscount(config, kernel());
    assert.deepEqual(attached(config, kernel()), ['raw_tracepoint sys_exit raw_tracepoint__sys_exit']);
    assert.equal(program.defines!.REGS_NR_OFFSET, 120);
    assert.equal(program.defines!.REGS_NR_SIZE, REGS.size);
    assert.equal(program.defines!.ENTER_RAW, false);
  }
  assert.equal(configureSyscount({ ...plain, errno: 2 }, kernel()).defines!.FILTER_ERRNO, 2);
  assert.equal(configureSyscount({ ...plain, failures: true }, kernel()).defines!.FILTER_FAILED, true);
});

test('-x without the pt_regs field in BTF takes the raw_syscalls:sys_exit tracepoint (which carries the number)', () => {
  const view = kernel({ offset: () => undefined });
  const program = configureSyscount({ ...plain, failures: true }, view);
  assert.equal(program.defines!.EXIT_RAW, false);
  assert.equal(program.defines!.REGS_NR_OFFSET, undefined);
  assert.deepEqual(program.attachments[0].rejected, [
    { label: 'raw tracepoint sys_exit', reason: 'the syscall number is at no known pt_regs field for this architecture' },
  ]);
});

test('a kernel with neither raw tracepoints nor raw_syscalls tracepoints (kprobes or not) is NOT_SUPPORTED', () => {
  for (const view of [
    kernel({ rawTracepoints: () => false, missing: ['raw_syscalls:sys_enter'] }),
    kernel({ rawTracepoints: () => false, kprobes: () => true, missing: ['raw_syscalls:sys_enter'] }),
  ]) {
    assert.throws(() => configureSyscount(plain, view), (err) => isBpfError(err) && err.code === 'NOT_SUPPORTED' &&
      /no way to trace syscall enter on this kernel: raw tracepoint sys_enter: this kernel has no raw tracepoints/.test(err.message));
  }
  assert.throws(() => configureSyscount({ ...plain, latency: true }, kernel({ rawTracepoints: () => false, missing: ['sched:sched_process_exit'] })),
    (err) => isBpfError(err) && err.code === 'NOT_SUPPORTED' && /thread exit/.test(err.message));
});

test('filters become #defines: -p (or --exec\'s PID), -t, -c with BTF offsets, --cgroup, --syscall, -P', () => {
  const d = configureSyscount({ ...plain, pid: 4242, tid: 17, cgroup: true, syscall: 39, byProcess: true }, kernel()).defines!;
  assert.deepEqual([d.FILTER_PID, d.FILTER_TID, d.FILTER_CGROUP, d.FILTER_SYSCALL, d.BY_PROCESS], [4242, 17, true, 39, true]);
  const c = configureSyscount({ ...plain, ppid: 1 }, kernel()).defines!;
  assert.deepEqual([c.FILTER_PPID, c.TASK_REAL_PARENT_OFFSET, c.TASK_TGID_OFFSET], [1, 2456, 2444]);
  assert.equal(configureSyscount(plain, kernel()).defines!.TASK_REAL_PARENT_OFFSET, undefined, 'no BTF read without -c');
  assert.throws(() => configureSyscount({ ...plain, ppid: 1 }, kernel({ offset: () => undefined })), MissingPrerequisite);
});

test('the maps only Prometheus reads exist only when serving metrics', () => {
  const d = (config: SyscountConfig) => configureSyscount(config, kernel()).defines!;
  assert.deepEqual([d({ ...plain, failures: true }).METRICS_ERRNO, d({ ...plain, latency: true }).METRICS_LATENCY_HIST], [false, false]);
  assert.deepEqual([d({ ...plain, failures: true, metrics: true }).METRICS_ERRNO, d({ ...plain, latency: true, metrics: true }).METRICS_LATENCY_HIST], [true, true]);
  assert.equal(d({ ...plain, metrics: true }).METRICS_ERRNO, false);
});

test('the exporter\'s configuration counts every call by syscall at sys_enter, with no filter', () => {
  const program = configureSyscount(EXPORTER_CONFIG, kernel());
  assert.deepEqual(attached(EXPORTER_CONFIG, kernel()), ['raw_tracepoint sys_enter raw_tracepoint__sys_enter']);
  assert.deepEqual(program.defines, { ...configureSyscount(plain, kernel()).defines });
});
