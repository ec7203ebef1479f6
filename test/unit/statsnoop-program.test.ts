// How statsnoop configures its program on kernels other than this one (each described by a
// stand-in KernelView): which syscalls are traced, how they are hooked, in which order, and the #defines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError, type BPF } from 'bcc-node-bindings';
import type { KernelView } from '../../lib/kernel/view.ts';
import { configureStatsnoop, type StatsnoopConfig } from '../../tools/statsnoop/program.ts';
import { busyRingBufferPages } from '../../lib/run/event-channel.ts';
import { STAT_SYSCALLS } from '../../tools/statsnoop/syscalls.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

const X86 = ['newstat', 'newlstat', 'newfstatat', 'statx', 'statfs', 'access', 'faccessat', 'faccessat2'];
const OTHERS = STAT_SYSCALLS.map((s) => s.name).filter((n) => !X86.includes(n));
const bits = (names: string[]) => names.reduce((m, n) => m | (1 << STAT_SYSCALLS.find((s) => s.name === n)!.id), 0);
/** The syscall tracepoints a kernel has of the list (both ends), as fakeKernel's "missing". */
const withoutTracepoints = (names: string[]) => names.flatMap((n) => [`syscalls:sys_enter_${n}`, `syscalls:sys_exit_${n}`]);
const ALL_SYSCALL_TPS = withoutTracepoints(STAT_SYSCALLS.map((s) => s.name));

/** A kernel like x86_64's 6.18: the x86 syscalls' tracepoints, not the other architectures'. */
const kernel = (overrides: FakeKernel = {}): KernelView =>
  fakeKernel({ ...overrides, missing: [...withoutTracepoints(OTHERS), ...(overrides.missing ?? [])] });

const plain: StatsnoopConfig = { failedOnly: false };

function attached(config: StatsnoopConfig, view: KernelView): string[] {
  const calls: string[] = [];
  const bpf = {
    attachTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`tracepoint ${tp} ${fnName}`); },
    attachKprobe: ({ event, fnName }: { event: string; fnName: string }) => { calls.push(`kprobe ${event} ${fnName}`); },
    attachKretprobe: ({ event, fnName }: { event: string; fnName: string }) => { calls.push(`kretprobe ${event} ${fnName}`); },
  };
  configureStatsnoop(config, view).attach(bpf as unknown as BPF);
  return calls;
}

test('each syscall the kernel has is traced at its own tracepoints, exits attached before entries', () => {
  const program = configureStatsnoop(plain, kernel());
  assert.equal(program.file, 'statsnoop.bpf.c');
  assert.deepEqual(program.traced, X86);
  assert.deepEqual(program.defines, {
    TRACED: bits(X86), HOOK: 1, FILTER_PID: false, TARGET_PID: 0, FAILED_ONLY: false, USE_RINGBUF: true, RINGBUF_PAGES: 4096,
  });
  assert.deepEqual(program.attachments.map((a) => `${a.purpose}: ${a.chosen}`), [
    'stat and access syscalls: tracepoints syscalls:sys_enter_<syscall> and sys_exit_<syscall> of each',
    `syscalls traced: ${X86.join(', ')}`,
    'event records: ring buffer',
  ]);
  assert.deepEqual(program.attachments[1].rejected, [{ label: OTHERS.join(', '), reason: 'not syscalls of this kernel (other architectures have them)' }]);
  assert.deepEqual(attached(plain, kernel()), [
    ...X86.map((n) => `tracepoint syscalls:sys_exit_${n} stat_return`),
    ...X86.map((n) => `tracepoint syscalls:sys_enter_${n} enter_${n}`),
  ]);
});

test('-p and -x become #defines of numbers', () => {
  const d = configureStatsnoop({ pid: 181, failedOnly: true }, kernel()).defines!;
  assert.deepEqual([d.FILTER_PID, d.TARGET_PID, d.FAILED_ONLY], [true, 181, true]);
});

test('an arm64-like kernel (no newstat, newlstat or access) traces what it has', () => {
  const view = kernel({ missing: withoutTracepoints(['newstat', 'newlstat', 'access']) });
  const program = configureStatsnoop(plain, view);
  assert.deepEqual(program.traced, ['newfstatat', 'statx', 'statfs', 'faccessat', 'faccessat2']);
  assert.equal(program.defines!.TRACED, bits(program.traced));
});

test('without syscall tracepoints, raw_syscalls by number (this architecture\'s numbers as #defines)', () => {
  const view = kernel({ missing: ALL_SYSCALL_TPS });
  const program = configureStatsnoop(plain, view);
  assert.equal(program.defines!.HOOK, 2);
  assert.equal(program.attachments[0].chosen, 'tracepoints raw_syscalls:sys_enter and sys_exit, by syscall number (every syscall runs them)');
  assert.deepEqual(program.attachments[0].rejected.map((r) => r.reason), ['this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS is off)']);
  if (process.arch === 'x64') {
    assert.deepEqual(program.traced, X86);
    const d = program.defines!;
    assert.deepEqual([d.NR_NEWSTAT, d.NR_NEWLSTAT, d.NR_NEWFSTATAT, d.NR_STATX, d.NR_STATFS, d.NR_ACCESS, d.NR_FACCESSAT, d.NR_FACCESSAT2],
      [4, 6, 262, 332, 137, 21, 269, 439]);
  }
  assert.deepEqual(attached(plain, view), ['tracepoint raw_syscalls:sys_exit raw_exit', 'tracepoint raw_syscalls:sys_enter raw_enter']);
});

test('without any syscall tracepoint but with kprobes, the syscall functions are probed (kretprobes first)', () => {
  const view = kernel({
    missing: [...ALL_SYSCALL_TPS, 'raw_syscalls:sys_enter', 'raw_syscalls:sys_exit'],
    kprobes: () => true,
    syscallFunction: (name) => (X86.includes(name) ? `__x64_sys_${name}` : null),
  });
  const program = configureStatsnoop(plain, view);
  assert.equal(program.defines!.HOOK, 3);
  assert.deepEqual(program.traced, X86);
  assert.equal(program.attachments[0].chosen, 'kprobes and kretprobes on the syscall functions');
  assert.deepEqual(program.attachments[0].rejected.map((r) => r.reason), [
    'this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS is off)', 'no raw_syscalls tracepoints',
  ]);
  assert.deepEqual(attached(plain, view), [
    ...X86.map((n) => `kretprobe __x64_sys_${n} stat_return`),
    ...X86.map((n) => `kprobe __x64_sys_${n} syscall__${n}`),
  ]);
});

test('without a ring buffer, records go through a perf buffer', () => {
  const program = configureStatsnoop(plain, kernel({ ringBuffer: () => false }));
  assert.equal(program.ringBuffer, false);
  assert.equal(program.defines!.USE_RINGBUF, false);
  assert.equal('RINGBUF_PAGES' in program.defines!, false);
  assert.equal(program.attachments[2].chosen, 'perf buffer');
});

test('nothing usable: NOT_SUPPORTED, naming why each hook is out', () => {
  const view = kernel({ missing: [...ALL_SYSCALL_TPS, 'raw_syscalls:sys_enter', 'raw_syscalls:sys_exit'] });
  assert.throws(() => configureStatsnoop(plain, view), (err: unknown) => isBpfError(err) && err.code === 'NOT_SUPPORTED' &&
    /no way to trace stat and access syscalls on this kernel: .*CONFIG_FTRACE_SYSCALLS.*no raw_syscalls tracepoints.*this kernel has no kprobes/.test(err.message));
});

test('/proc/kallsyms is not read when the tracepoints do', () => {
  let looked = 0;
  configureStatsnoop(plain, kernel({ syscallFunction: () => { looked++; return null; } }));
  assert.equal(looked, 0);
});

test('the ring buffer holds a stat loop\'s burst: 16 MiB, more on machines whose per-CPU share is larger', () => {
  assert.equal(busyRingBufferPages(2), 4096);
  assert.equal(busyRingBufferPages(128), 8192);
});
