// How capable configures its program on kernels other than this one (each a stand-in KernelView):
// where checks are seen, where the UID comes from, the #defines, and the attach order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BPF } from 'bcc-node-bindings';
import type { KernelView } from '../../lib/kernel/view.ts';
import { burstRingBufferPages } from '../../lib/run/event-channel.ts';
import { EXPORTER_CONFIG, configureCapable, type CapableConfig } from '../../tools/capable/program.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

const kernel = (overrides: FakeKernel = {}): KernelView => fakeKernel({ offsets: { 'cred.uid': 8 }, ...overrides });
const plain: CapableConfig = { verbose: false, events: true, count: false, self: 1234 };
const KPROBES: FakeKernel = { missing: ['capability:cap_capable'], kprobes: () => true, kernelFunction: (f) => f === 'cap_capable' };

function attached(config: CapableConfig, view: KernelView): string[] {
  const calls: string[] = [];
  const bpf = {
    table: (name: string) => ({ set: (key: number, value: number) => { calls.push(`${name}[${key}] = ${value}`); } }),
    attachTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`tracepoint ${tp} ${fnName}`); },
    attachKprobe: ({ event, fnName }: { event: string; fnName: string }) => { calls.push(`kprobe ${event} ${fnName}`); },
    attachKretprobe: ({ event, fnName }: { event: string; fnName: string }) => { calls.push(`kretprobe ${event} ${fnName}`); },
  };
  configureCapable(config, view).attach(bpf as unknown as BPF);
  return calls;
}

test('on a kernel like this one: the capability:cap_capable tracepoint, the checked credentials\' uid, a ring buffer', () => {
  const program = configureCapable(plain, kernel());
  assert.equal(program.file, 'capable.bpf.c');
  assert.deepEqual(program.defines, {
    HOOK_TP: true, HOOK_KPROBE: false, OPTS_BITMASK: false, CRED_UID_OFFSET: 8, FILTER_PID: false, TARGET_PID: 0,
    AUDIT_ONLY: false, UNIQUE: false, UNIQUE_BY_CGROUP: false, KERNEL_STACKS: false, USER_STACKS: false, STACK_ENTRIES: 2048,
    EMIT_EVENTS: true, COUNT_CHECKS: false, FILTER_CGROUP_MAP: false, FILTER_MNTNS_MAP: false,
    USE_RINGBUF: true, RINGBUF_PAGES: burstRingBufferPages(2),
  });
  assert.deepEqual([program.hook, program.hasOpts, program.ringBuffer], ['tracepoint', false, true]);
  assert.deepEqual(program.attachments.map((a) => a.chosen), [
    'tracepoint capability:cap_capable (no opts: AUDIT and INSETID unknown, every check shown)',
    "the checked credentials' (struct cred.uid at the running kernel's BTF offset)",
    'ring buffer',
  ]);
  // Our own process is left out before anything is attached.
  assert.deepEqual(attached(plain, kernel()), ['self_pid[0] = 1234', 'tracepoint capability:cap_capable tracepoint__capability__cap_capable']);
});

test('options become numbers: -p, -K, -U, --unique (by cgroup with --cgroupmap); -v changes nothing on the tracepoint', () => {
  const d = configureCapable({ ...plain, verbose: true, pid: 181, kernelStack: true, userStack: true, unique: true }, kernel()).defines!;
  assert.deepEqual([d.FILTER_PID, d.TARGET_PID, d.KERNEL_STACKS, d.USER_STACKS, d.UNIQUE, d.UNIQUE_BY_CGROUP, d.AUDIT_ONLY], [true, 181, true, true, true, false, false]);
  const byCgroup = configureCapable({ ...plain, unique: true, containers: { FILTER_CGROUP_MAP: true, FILTER_MNTNS_MAP: false, PIN_ID: 99 } }, kernel()).defines!;
  assert.deepEqual([byCgroup.UNIQUE_BY_CGROUP, byCgroup.FILTER_CGROUP_MAP, byCgroup.PIN_ID], [true, true, 99]);
});

test('before the tracepoint (Linux 6.14): kprobe and kretprobe on cap_capable, return first; AUDIT from opts, -v lifts the audit filter', () => {
  const view = kernel(KPROBES);
  const program = configureCapable(plain, view);
  assert.deepEqual([program.hook, program.hasOpts, program.defines!.HOOK_KPROBE, program.defines!.HOOK_TP], ['kprobe', true, true, false]);
  assert.deepEqual([program.defines!.OPTS_BITMASK, program.defines!.AUDIT_ONLY], [true, true]);
  assert.equal(configureCapable({ ...plain, verbose: true }, view).defines!.AUDIT_ONLY, false);
  assert.deepEqual(program.attachments[0].rejected.map((r) => r.reason), ['no such tracepoint (Linux 6.14+)']);
  assert.deepEqual(attached(plain, view), ['self_pid[0] = 1234', 'kretprobe cap_capable capable_return', 'kprobe cap_capable capable_entry']);
  // Before 5.1 the fourth argument was an int audit, not a bitmask.
  assert.equal(configureCapable(plain, kernel({ ...KPROBES, release: '4.19.0-27-amd64' })).defines!.OPTS_BITMASK, false);
});

test('without BTF for struct cred: the current task\'s uid, as bcc; without the tracepoint or kprobes: refused', () => {
  const program = configureCapable(plain, fakeKernel());
  assert.equal(program.defines!.CRED_UID_OFFSET, -1);
  assert.equal(program.attachments[1].chosen, "the current task's (bpf_get_current_uid_gid(), as bcc)");
  assert.throws(() => configureCapable(plain, kernel({ missing: ['capability:cap_capable'] })), /no kprobes/);
});

test('the exporter counts every check, audited or not, with no records; a perf buffer where there is no ring buffer', () => {
  const d = configureCapable({ ...EXPORTER_CONFIG, self: 1 }, kernel(KPROBES)).defines!;
  assert.deepEqual([d.EMIT_EVENTS, d.COUNT_CHECKS, d.AUDIT_ONLY, d.USE_RINGBUF, d.RINGBUF_PAGES], [false, true, false, false, undefined]);
  const perf = configureCapable(plain, kernel({ ringBuffer: () => false }));
  assert.deepEqual([perf.ringBuffer, perf.defines!.USE_RINGBUF, perf.attachments.at(-1)!.chosen], [false, false, 'perf buffer']);
});
