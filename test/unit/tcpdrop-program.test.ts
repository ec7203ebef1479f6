// How tcpdrop configures its program on kernels other than this one (each a stand-in KernelView
// with skb:kfree_skb's fields and enum skb_drop_reason): the hook, the #defines, the attach.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError, type BPF } from 'bcc-node-bindings';
import { configureTcpdrop, dropReasonNames, EXPORTER_CONFIG, type TcpdropConfig, type TcpdropKernel } from '../../tools/tcpdrop/program.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

const OFFSETS = {
  'sk_buff.head': 192, 'sk_buff.network_header': 180, 'sk_buff.transport_header': 178, 'sk_buff.sk': 24, 'sock.__sk_common.skc_state': 18,
};
const FIELDS_6_18 = ['skbaddr', 'location', 'rx_sk', 'protocol', 'reason'];
const FIELDS_6_1 = ['skbaddr', 'location', 'protocol', 'reason'];
const FIELDS_5_10 = ['skbaddr', 'location', 'protocol'];
const ENUM = new Map<string, bigint>([
  ['SKB_NOT_DROPPED_YET', 0n], ['SKB_CONSUMED', 1n], ['SKB_DROP_REASON_NOT_SPECIFIED', 2n], ['SKB_DROP_REASON_NO_SOCKET', 3n],
  ['SKB_DROP_REASON_NETFILTER_DROP', 12n], ['SKB_DROP_REASON_QUEUE_PURGE', 105n], ['SKB_DROP_REASON_MAX', 130n],
]);

interface Stand { fields?: string[] | null; enumValues?: Map<string, bigint> | undefined; kernel?: FakeKernel }

/** This VM by default: kfree_skb with rx_sk and reason, the enum in BTF, raw tracepoints, no kprobes. */
function kernel(stand: Stand = {}): TcpdropKernel {
  const { fields = FIELDS_6_18, kernel: overrides = {} } = stand;
  // An explicit `enumValues: undefined` is a kernel without the enum.
  const enumValues = 'enumValues' in stand ? stand.enumValues : ENUM;
  return {
    ...fakeKernel({ offsets: OFFSETS, rawArg: (tp, type) => (tp === 'kfree_skb' ? (type === 'sk_buff' ? 0 : type === 'sock' ? 3 : undefined) : undefined), ...overrides }),
    tracepointFields: (c, e) => (c === 'skb' && e === 'kfree_skb' ? fields : null),
    enumValues: (name) => (name === 'skb_drop_reason' ? enumValues : undefined),
  };
}

const PRINT: TcpdropConfig = { events: true, count: false };

function attached(view: TcpdropKernel): string[] {
  const calls: string[] = [];
  const bpf = {
    attachTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`tracepoint ${tp} ${fnName}`); },
    attachRawTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`raw_tracepoint ${tp} ${fnName}`); },
    attachKprobe: ({ event, fnName }: { event: string; fnName: string }) => { calls.push(`kprobe ${event} ${fnName}`); },
  };
  configureTcpdrop(PRINT, view).attach(bpf as unknown as BPF);
  return calls;
}

const hooksOf = (defines: Record<string, unknown>) => Object.keys(defines).filter((k) => k.startsWith('HOOK_') && defines[k] === true);

test('skb:kfree_skb with its reason and rx_sk is chosen first; every #define spelled', () => {
  const program = configureTcpdrop(PRINT, kernel());
  assert.equal(program.file, 'tcpdrop.bpf.c');
  assert.equal(program.hook, 'HOOK_TP');
  assert.deepEqual(program.defines, {
    HOOK_TP: true, HOOK_RAW_TP: false, HOOK_KPROBE_SK_SKB_REASON_DROP: false, HOOK_KPROBE_KFREE_SKB_REASON: false, HOOK_KPROBE_TCP_DROP: false,
    HAS_REASON: true, MIN_REASON: 3, SKIP_REASON: 105, TP_HAS_RX_SK: true, RAW_SKB_ARG: 0, RAW_REASON_ARG: 2, RAW_SK_ARG: -1,
    SKB_OFFSETS_FROM_HEADERS: false,
    SKB_HEAD_OFFSET: 192, SKB_NETWORK_HEADER_OFFSET: 180, SKB_TRANSPORT_HEADER_OFFSET: 178, SKB_SK_OFFSET: 24, SOCK_STATE_OFFSET: 18,
    FILTER_IP_VERSION: 0, EMIT_EVENTS: true, COUNT_DROPS: false, USE_RINGBUF: true, RINGBUF_PAGES: 1024, STACK_ENTRIES: 1024,
  });
  assert.deepEqual(program.attachments.map((a) => `${a.purpose}: ${a.chosen}`), [
    'TCP drops: tracepoint skb:kfree_skb',
    "drop reason names: enum skb_drop_reason in the kernel's BTF",
    "struct sk_buff and sock field offsets: the running kernel's BTF",
    'event records: ring buffer',
  ]);
  assert.deepEqual(attached(kernel()), ['tracepoint skb:kfree_skb tracepoint__skb__kfree_skb']);
  assert.deepEqual(program.attachments[0].fallbacks!(), [
    { label: 'raw tracepoint kfree_skb', reason: null },
    { label: 'kprobe sk_skb_reason_drop', reason: 'this kernel has no kprobes' },
    { label: 'kprobe kfree_skb_reason', reason: 'this kernel has no kprobes' },
    { label: "kprobe tcp_drop (bcc's; no drop reason)", reason: 'this kernel has no kprobes' },
  ]);
  assert.equal(program.reasons.get(3), 'NO_SOCKET');
  assert.equal(program.reasons.get(12), 'NETFILTER_DROP');
});

test('-4 / -6 and the metrics modes reach the kernel as numbers; the exporter walks no stacks', () => {
  assert.equal(configureTcpdrop({ ...PRINT, ipVersion: 4 }, kernel()).defines!.FILTER_IP_VERSION, 4);
  assert.equal(configureTcpdrop({ ...PRINT, ipVersion: 6 }, kernel()).defines!.FILTER_IP_VERSION, 6);
  const exporter = configureTcpdrop(EXPORTER_CONFIG, kernel());
  assert.deepEqual([exporter.defines!.EMIT_EVENTS, exporter.defines!.COUNT_DROPS, exporter.defines!.USE_RINGBUF], [false, true, false]);
  assert.equal(exporter.defines!.RINGBUF_PAGES, undefined);
  assert.ok(!exporter.attachments.some((a) => a.purpose === 'event records'));
  const both = configureTcpdrop({ events: true, count: true }, kernel());
  assert.deepEqual([both.defines!.EMIT_EVENTS, both.defines!.COUNT_DROPS], [true, true]);
});

test("Debian 12's 6.1: kfree_skb has a reason but no rx_sk", () => {
  const program = configureTcpdrop(PRINT, kernel({ fields: FIELDS_6_1 }));
  assert.deepEqual([program.hook, program.defines!.HAS_REASON, program.defines!.TP_HAS_RX_SK], ['HOOK_TP', true, false]);
  // 6.1's enum has no QUEUE_PURGE: nothing to skip.
  const noPurge = new Map([...ENUM].filter(([k]) => k !== 'SKB_DROP_REASON_QUEUE_PURGE'));
  assert.equal(configureTcpdrop(PRINT, kernel({ fields: FIELDS_6_1, enumValues: noPurge })).defines!.SKIP_REASON, -1);
});

test('before 5.17 kfree_skb has no reason: every drop still shows, with reason "-"', () => {
  const program = configureTcpdrop(PRINT, kernel({ fields: FIELDS_5_10, enumValues: undefined }));
  assert.deepEqual([program.hook, program.hasReason, program.defines!.HAS_REASON, program.defines!.MIN_REASON, program.defines!.SKIP_REASON], ['HOOK_TP', false, false, 0, -1]);
  assert.equal(program.reasons.size, 0);
  assert.deepEqual(program.attachments[1], {
    ...program.attachments[1],
    chosen: 'none: every drop shows reason -',
    rejected: [{ label: "enum skb_drop_reason in the kernel's BTF", reason: 'the hook gives no reason (skb:kfree_skb has one from Linux 5.17)' }],
  });
});

test('a reason without its enum in BTF shows as a number', () => {
  const program = configureTcpdrop(PRINT, kernel({ enumValues: undefined }));
  assert.equal(program.hasReason, true);
  assert.equal(program.attachments[1].chosen, 'numbers only');
});

test('without the tracepoint: the raw tracepoint, with the arguments BTF gives', () => {
  const view = kernel({ kernel: { missing: ['skb:kfree_skb'] } });
  const program = configureTcpdrop(PRINT, view);
  assert.equal(program.hook, 'HOOK_RAW_TP');
  assert.deepEqual(hooksOf(program.defines!), ['HOOK_RAW_TP']);
  assert.deepEqual([program.defines!.RAW_SKB_ARG, program.defines!.RAW_REASON_ARG, program.defines!.RAW_SK_ARG, program.defines!.TP_HAS_RX_SK], [0, 2, 3, false]);
  assert.deepEqual(program.attachments[0].rejected, [{ label: 'tracepoint skb:kfree_skb', reason: 'no such tracepoint' }]);
  assert.deepEqual(attached(view), ['raw_tracepoint kfree_skb raw_tracepoint__kfree_skb']);
});

test('kprobes where neither tracepoint will do, newest function first, bcc\'s tcp_drop last', () => {
  const noTp = (fns: string[]) => kernel({
    kernel: { missing: ['skb:kfree_skb'], rawTracepoints: () => false, kprobes: () => true, kernelFunction: (f) => fns.includes(f) },
  });
  const cases: Array<[string[], string, string]> = [
    [['sk_skb_reason_drop', 'kfree_skb_reason'], 'HOOK_KPROBE_SK_SKB_REASON_DROP', 'kprobe sk_skb_reason_drop kprobe_sk_skb_reason_drop'],
    [['kfree_skb_reason', 'tcp_drop'], 'HOOK_KPROBE_KFREE_SKB_REASON', 'kprobe kfree_skb_reason kprobe_kfree_skb_reason'],
    [['tcp_drop'], 'HOOK_KPROBE_TCP_DROP', 'kprobe tcp_drop kprobe_tcp_drop'],
  ];
  for (const [fns, hook, attach] of cases) {
    const program = configureTcpdrop(PRINT, noTp(fns));
    assert.equal(program.hook, hook);
    assert.deepEqual(hooksOf(program.defines!), [hook]);
    assert.deepEqual(attached(noTp(fns)), [attach]);
    assert.equal(program.hasReason, hook !== 'HOOK_KPROBE_TCP_DROP');
  }
  assert.deepEqual(configureTcpdrop(PRINT, noTp(['tcp_drop'])).attachments[0].rejected.map((r) => r.reason), [
    'no such tracepoint', 'needs Linux 4.17', 'no sk_skb_reason_drop in this kernel (Linux 6.11+)', 'no kfree_skb_reason in this kernel (Linux 5.17 to 6.10)',
  ]);
});

test('BPFKIT_AVOID=tracepoint picks the raw tracepoint on this kernel', (t) => {
  const before = process.env.BPFKIT_AVOID;
  process.env.BPFKIT_AVOID = 'tracepoint';
  t.after(() => { if (before === undefined) delete process.env.BPFKIT_AVOID; else process.env.BPFKIT_AVOID = before; });
  assert.equal(configureTcpdrop(PRINT, kernel()).hook, 'HOOK_RAW_TP');
});

test('nothing usable: one NOT_SUPPORTED error naming every rung', () => {
  const view = kernel({ kernel: { missing: ['skb:kfree_skb'], rawTracepoints: () => false } });
  assert.throws(() => configureTcpdrop(PRINT, view), (err: unknown) => isBpfError(err) && err.code === 'NOT_SUPPORTED'
    && /^no way to trace TCP drops on this kernel: tracepoint skb:kfree_skb: no such tracepoint; raw tracepoint kfree_skb: needs Linux 4\.17; kprobe sk_skb_reason_drop: this kernel has no kprobes/.test(err.message));
});

test('without BTF for sk_buff, the offsets come from the kernel headers', () => {
  const program = configureTcpdrop(PRINT, kernel({ kernel: { offsets: {} } }));
  assert.equal(program.defines!.SKB_OFFSETS_FROM_HEADERS, 1);
  assert.equal(program.defines!.SKB_HEAD_OFFSET, undefined);
  assert.equal(program.attachments[2].chosen, "the kernel headers libbcc compiles with (right only when they are the running kernel's)");
});

test('a ring buffer where there is one, else a perf buffer', () => {
  const program = configureTcpdrop(PRINT, kernel({ kernel: { ringBuffer: () => false } }));
  assert.deepEqual([program.ringBuffer, program.defines!.USE_RINGBUF, program.defines!.RINGBUF_PAGES], [false, false, undefined]);
});

test('reason names lose their prefixes; the first name of a value wins', () => {
  assert.deepEqual([...dropReasonNames(ENUM)], [[0, 'NOT_DROPPED_YET'], [1, 'CONSUMED'], [2, 'NOT_SPECIFIED'], [3, 'NO_SOCKET'], [12, 'NETFILTER_DROP'], [105, 'QUEUE_PURGE'], [130, 'MAX']]);
  assert.deepEqual([...dropReasonNames(new Map([['SKB_DROP_REASON_A', 5n], ['SKB_DROP_REASON_B', 5n]]))], [[5, 'A']]);
  assert.equal(dropReasonNames(undefined).size, 0);
});
