// How setuids configures its program on kernels other than this one (each a stand-in KernelView):
// where the probes go, in which order they are attached, and the #defines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError, type BPF } from 'bcc-node-bindings';
import type { KernelView } from '../../lib/kernel/view.ts';
import { burstRingBufferPages } from '../../lib/run/event-channel.ts';
import { configureSetuids, credOffsets, type SetuidsConfig } from '../../tools/setuids/program.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

const SYSCALLS = ['setuid', 'setgid', 'setreuid', 'setregid', 'setresuid', 'setresgid', 'setfsuid', 'setfsgid'];
const NO_SYSCALL_TRACEPOINTS = SYSCALLS.flatMap((s) => [`syscalls:sys_enter_${s}`, `syscalls:sys_exit_${s}`]);
/** 6.18's layout: cred.uid at 8, the other seven ids after it. */
const OFFSETS: Record<string, number> = {
  'task_struct.cred': 2408, 'cred.uid': 8, 'cred.gid': 12, 'cred.suid': 16, 'cred.sgid': 20, 'cred.euid': 24, 'cred.egid': 28, 'cred.fsuid': 32, 'cred.fsgid': 36,
};

const kernel = (overrides: FakeKernel = {}): KernelView => fakeKernel({ offsets: OFFSETS, ...overrides });
const plain: SetuidsConfig = {};

function attached(config: SetuidsConfig, view: KernelView, arch?: string): string[] {
  const calls: string[] = [];
  const bpf = {
    attachTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`tracepoint ${tp} ${fnName}`); },
    attachRawTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`raw ${tp} ${fnName}`); },
  };
  configureSetuids(config, view, arch).attach(bpf as unknown as BPF);
  return calls;
}

test('on a kernel like this one: the eight syscalls\' tracepoints, each exit before its entry, a ring buffer, cred read at its BTF offsets', () => {
  const program = configureSetuids(plain, kernel());
  assert.equal(program.file, 'setuids.bpf.c');
  assert.deepEqual(program.defines, {
    HOOK_TRACEPOINTS: true, HOOK_RAW: false,
    HAS_SETUID: true, HAS_SETGID: true, HAS_SETREUID: true, HAS_SETREGID: true, HAS_SETRESUID: true, HAS_SETRESGID: true, HAS_SETFSUID: true, HAS_SETFSGID: true,
    FILTER_PID: false, TARGET_PID: 0, READ_CRED: true, TASK_CRED_OFFSET: 2408, CRED_IDS_OFFSET: 8,
    USE_RINGBUF: true, RINGBUF_PAGES: burstRingBufferPages(2),
  });
  assert.deepEqual(program.attachments.map((a) => a.chosen), ['tracepoints syscalls:sys_enter_* and sys_exit_* of each', 'ring buffer']);
  assert.deepEqual(attached(plain, kernel()), SYSCALLS.flatMap((s) => [
    `tracepoint syscalls:sys_exit_${s} tracepoint__syscalls__sys_exit_${s}`,
    `tracepoint syscalls:sys_enter_${s} tracepoint__syscalls__sys_enter_${s}`,
  ]));
});

test('-p becomes a number; no BTF, or ids not side by side: the real uid and gid only', () => {
  const d = configureSetuids({ pid: 181 }, kernel()).defines!;
  assert.deepEqual([d.FILTER_PID, d.TARGET_PID], [true, 181]);
  assert.deepEqual(credOffsets(fakeKernel()), { READ_CRED: false });
  assert.deepEqual(credOffsets(kernel({ offset: (s, f) => (s === 'cred' && f === 'euid' ? 40 : OFFSETS[`${s}.${f}`]) })), { READ_CRED: false });
  assert.equal(configureSetuids(plain, fakeKernel()).defines!.TASK_CRED_OFFSET, undefined);
});

test('a tracepoint missing for one call leaves that call out; the rest are traced', () => {
  const view = kernel({ missing: ['sys_exit_setfsgid'] });
  const d = configureSetuids(plain, view).defines!;
  assert.deepEqual([d.HAS_SETFSGID, d.HAS_SETFSUID], [false, true]);
  assert.ok(!attached(plain, view).some((c) => c.includes('setfsgid')));
});

test('without syscall tracepoints: raw sys_enter/sys_exit with this architecture\'s syscall numbers, exit first, a perf buffer before 5.8', () => {
  const view = kernel({ missing: NO_SYSCALL_TRACEPOINTS, ringBuffer: () => false });
  const program = configureSetuids(plain, view, 'x64');
  const d = program.defines!;
  assert.deepEqual([d.HOOK_RAW, d.HOOK_TRACEPOINTS, d.USE_RINGBUF, d.RINGBUF_PAGES], [true, false, false, undefined]);
  assert.deepEqual(SYSCALLS.map((s) => d[`NR_${s.toUpperCase()}`]), [105, 106, 113, 114, 117, 119, 122, 123]);
  assert.deepEqual(SYSCALLS.map((s) => configureSetuids(plain, view, 'arm64').defines![`NR_${s.toUpperCase()}`]), [146, 144, 145, 143, 147, 149, 151, 152]);
  assert.deepEqual(program.attachments[0].rejected.map((r) => r.reason), ['this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS is off)']);
  assert.deepEqual(program.attachments.map((a) => a.chosen)[1], 'perf buffer');
  assert.deepEqual(attached(plain, view, 'x64'), ['raw sys_exit raw_tracepoint__sys_exit', 'raw sys_enter raw_tracepoint__sys_enter']);
});

test('nothing usable: one NOT_SUPPORTED error naming every reason', () => {
  assert.throws(() => configureSetuids(plain, kernel({ missing: NO_SYSCALL_TRACEPOINTS }), 's390x'), (err: unknown) => isBpfError(err) &&
    err.code === 'NOT_SUPPORTED' && /syscall tracepoints/.test(err.message) && /syscall numbers of s390x are not known/.test(err.message));
  assert.throws(() => configureSetuids(plain, kernel({ missing: NO_SYSCALL_TRACEPOINTS, rawTracepoints: () => false })), /needs Linux 4\.17/);
});

test('--explain lists the raw rung after the tracepoints with what this kernel has for it', () => {
  assert.deepEqual(configureSetuids(plain, kernel()).attachments[0].fallbacks!().map((f) => f.reason), [null]);
});
