// How tcpconnlat configures its program on kernels other than this one (stand-in KernelViews):
// which hook sees the state changes, when the socket is read at BTF offsets, the filters as
// #defines, the attach, and the exporter's configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError, type BPF } from 'bcc-node-bindings';
import { EXPORTER_CONFIG, configureTcpconnlat, type TcpconnlatConfig } from '../../tools/tcpconnlat/program.ts';
import { ringBufferPages } from '../../lib/run/event-channel.ts';
import type { KernelView } from '../../lib/kernel/view.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

const SOCK: Record<string, number> = {
  'sock.__sk_common.skc_daddr': 0, 'sock.__sk_common.skc_rcv_saddr': 4, 'sock.__sk_common.skc_dport': 12, 'sock.__sk_common.skc_num': 14,
  'sock.__sk_common.skc_family': 16, 'sock.__sk_common.skc_v6_daddr': 56, 'sock.__sk_common.skc_v6_rcv_saddr': 72,
};
const SOCK_DEFINES = {
  SOCK_FAMILY_OFFSET: 16, SOCK_NUM_OFFSET: 14, SOCK_DPORT_OFFSET: 12, SOCK_RCV_SADDR_OFFSET: 4, SOCK_DADDR_OFFSET: 0,
  SOCK_V6_RCV_SADDR_OFFSET: 72, SOCK_V6_DADDR_OFFSET: 56,
};
const kernel = (o: FakeKernel = {}): KernelView => fakeKernel({ offsets: SOCK, ...o });
const all: TcpconnlatConfig = { minLatencyNs: 0 };

function attached(view: KernelView): string[] {
  const calls: string[] = [];
  const bpf = {
    attachTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`tracepoint ${tp} ${fnName}`); },
    attachRawTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`raw_tracepoint ${tp} ${fnName}`); },
    attachKprobe: ({ event, fnName }: { event: string; fnName: string }) => { calls.push(`kprobe ${event} ${fnName}`); },
  };
  configureTcpconnlat(all, view).attach(bpf as unknown as BPF);
  return calls;
}
const chosen = (view: KernelView) => configureTcpconnlat(all, view).attachments.map((a) => `${a.purpose}: ${a.chosen}`);

test('the tracepoint sock:inet_sock_set_state: addresses from its fields, no struct offsets, every filter off', () => {
  const p = configureTcpconnlat(all, kernel());
  assert.equal(p.file, 'tcpconnlat.bpf.c');
  assert.equal(p.ringBuffer, true);
  assert.deepEqual(p.defines, {
    STATE_FROM_TP: true, STATE_FROM_RAW_TP: false, STATE_FROM_KPROBE: false, FILTER_PID: 0, FILTER_FAMILY: 0,
    MIN_LATENCY_NS: 0, MAX_PENDING: 8192, USE_RINGBUF: true, RINGBUF_PAGES: ringBufferPages(2),
  });
  assert.deepEqual(chosen(kernel()), ['TCP state changes (SYN_SENT, ESTABLISHED, CLOSE): tracepoint sock:inet_sock_set_state', 'event records: ring buffer']);
  assert.deepEqual(attached(kernel()), ['tracepoint sock:inet_sock_set_state tracepoint__sock__inet_sock_set_state']);
});

test('-p, -4/-6 and duration_ms become #defines of numbers', () => {
  const d = (c: TcpconnlatConfig) => configureTcpconnlat(c, kernel()).defines!;
  assert.deepEqual([d({ minLatencyNs: 0, pid: 181 }).FILTER_PID, d({ minLatencyNs: 0, family: 4 }).FILTER_FAMILY, d({ minLatencyNs: 0, family: 6 }).FILTER_FAMILY],
    [181, 2, 10]);
  assert.equal(d({ minLatencyNs: 100_000 }).MIN_LATENCY_NS, 100_000);
});

test('the raw tracepoint, when the tracepoint is avoided: the socket read at BTF offsets', (t) => {
  process.env.BPFKIT_AVOID = 'tracepoint';
  t.after(() => { delete process.env.BPFKIT_AVOID; });
  const p = configureTcpconnlat(all, kernel());
  assert.deepEqual({ ...p.defines }, {
    STATE_FROM_TP: false, STATE_FROM_RAW_TP: true, STATE_FROM_KPROBE: false, ...SOCK_DEFINES, FILTER_PID: 0, FILTER_FAMILY: 0,
    MIN_LATENCY_NS: 0, MAX_PENDING: 8192, USE_RINGBUF: true, RINGBUF_PAGES: ringBufferPages(2),
  });
  assert.deepEqual(chosen(kernel()), [
    'TCP state changes (SYN_SENT, ESTABLISHED, CLOSE): raw tracepoint inet_sock_set_state',
    "struct sock field offsets: the running kernel's BTF", 'event records: ring buffer',
  ]);
  assert.deepEqual(attached(kernel()), ['raw_tracepoint inet_sock_set_state raw_tracepoint__inet_sock_set_state']);
});

test('a kernel without the tracepoint (before 4.16) and with kprobes: tcp_set_state; without BTF, the headers\' offsets; a perf buffer before 5.8', () => {
  const old = kernel({ missing: ['inet_sock_set_state'], kprobes: () => true, ringBuffer: () => false, offset: () => undefined });
  const p = configureTcpconnlat(all, old);
  assert.equal(p.defines!.STATE_FROM_KPROBE, true);
  assert.equal(p.defines!.SOCK_OFFSETS_FROM_HEADERS, 1);
  assert.equal(p.defines!.USE_RINGBUF, false);
  assert.equal(p.defines!.RINGBUF_PAGES, undefined);
  assert.deepEqual(chosen(old), [
    'TCP state changes (SYN_SENT, ESTABLISHED, CLOSE): kprobe tcp_set_state',
    "struct sock field offsets: the kernel headers libbcc compiles with (right only when they are the running kernel's)",
    'event records: perf buffer',
  ]);
  assert.deepEqual(p.attachments[0].rejected.map((r) => r.reason), ['not in this kernel (Linux 4.16+)', 'not in this kernel (Linux 4.16+)']);
  assert.deepEqual(attached(old), ['kprobe tcp_set_state kprobe_tcp_set_state']);
});

test('nothing usable: NOT_SUPPORTED naming each rung and why', () => {
  const none = kernel({ missing: ['inet_sock_set_state'], kprobes: () => true, kernelFunction: () => false });
  assert.throws(() => configureTcpconnlat(all, none), (err: unknown) => isBpfError(err, 'NOT_SUPPORTED') &&
    /tracepoint sock:inet_sock_set_state: not in this kernel .*raw tracepoint inet_sock_set_state: not in this kernel .*kprobe tcp_set_state: tcp_set_state is not in \/proc\/kallsyms/.test(err.message));
  assert.throws(() => configureTcpconnlat(all, kernel({ missing: ['inet_sock_set_state'], rawTracepoints: () => false })),
    /raw tracepoint inet_sock_set_state: this kernel has no raw tracepoints .*kprobe tcp_set_state: this kernel has no kprobes/);
});

test('the exporter times every connect', () => {
  assert.deepEqual(EXPORTER_CONFIG, { minLatencyNs: 0 });
  const d = configureTcpconnlat(EXPORTER_CONFIG, kernel()).defines!;
  assert.deepEqual([d.FILTER_PID, d.FILTER_FAMILY, d.MIN_LATENCY_NS], [0, 0, 0]);
});
