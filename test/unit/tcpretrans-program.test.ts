// How tcpretrans configures its program on kernels other than this one (stand-in kernel views):
// which hook gives the retransmits (raw tracepoint, tracepoint, bcc's kprobe), whether `err`
// exists, where the owning process comes from, -l's kprobe or its refusal, and what attaches in
// which order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BPF } from 'bcc-node-bindings';
import { configureTcpretrans, EXPORTER_CONFIG, MAX_FLOWS, type TcpretransConfig } from '../../tools/tcpretrans/program.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import type { ToolProgram } from '../../lib/run/program.ts';
import type { KernelView } from '../../lib/kernel/view.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

/** struct sock, sk_buff and tcp_skb_cb offsets as 6.18's BTF gives them. */
const OFFSETS: Record<string, number> = {
  'sock.__sk_common.skc_daddr': 0, 'sock.__sk_common.skc_rcv_saddr': 4, 'sock.__sk_common.skc_dport': 12,
  'sock.__sk_common.skc_num': 14, 'sock.__sk_common.skc_family': 16, 'sock.__sk_common.skc_state': 18,
  'sock.__sk_common.skc_v6_daddr': 56, 'sock.__sk_common.skc_v6_rcv_saddr': 72,
  'sk_buff.cb': 40, 'tcp_skb_cb.seq': 0, 'tcp_skb_cb.tcp_gso_segs': 8,
};
const SOCK_DEFINES = {
  SOCK_FAMILY_OFFSET: 16, SOCK_NUM_OFFSET: 14, SOCK_DPORT_OFFSET: 12, SOCK_RCV_SADDR_OFFSET: 4, SOCK_DADDR_OFFSET: 0,
  SOCK_V6_RCV_SADDR_OFFSET: 72, SOCK_V6_DADDR_OFFSET: 56, SOCK_STATE_OFFSET: 18,
};
const SKB_DEFINES = { SKB_CB_OFFSET: 40, TCB_SEQ_OFFSET: 0, TCB_SEGS_OFFSET: 8 };
const FIELDS_6_18 = ['skbaddr', 'skaddr', 'state', 'sport', 'dport', 'family', 'saddr', 'daddr', 'saddr_v6', 'daddr_v6', 'err'];

type Fake = Omit<FakeKernel, 'fields'> & { noBtf?: boolean; fields?: string[] | null };

/** A 6.18-like kernel: the tracepoints, raw tracepoints with BTF, ring buffers; no kprobes. */
function kernel({ noBtf, fields = FIELDS_6_18, ...overrides }: Fake = {}): KernelView {
  return {
    ...fakeKernel({
      offset: (struct, field) => (noBtf ? undefined : OFFSETS[`${struct}.${field}`]),
      rawArg: (tp, type) => (noBtf ? undefined : tp === 'tcp_retransmit_skb' ? (type === 'sock' ? 0 : type === 'sk_buff' ? 1 : undefined) : type === 'sock' ? 0 : undefined),
      ...overrides,
    }),
    tracepointFields: (category, event) => (category === 'tcp' && event === 'tcp_retransmit_skb' ? fields : null),
  };
}

const TRACE: TcpretransConfig = { events: true, count: false, lossprobe: false };

function attached(program: ToolProgram): string[] {
  const calls: string[] = [];
  const bpf = {
    attachTracepoint: (a: { tp: string; fnName: string }) => calls.push(`tracepoint ${a.tp} ${a.fnName}`),
    attachRawTracepoint: (a: { tp: string; fnName: string }) => calls.push(`raw ${a.tp} ${a.fnName}`),
    attachKprobe: (a: { event: string; fnName: string }) => calls.push(`kprobe ${a.event} ${a.fnName}`),
  } as unknown as BPF;
  program.attach(bpf);
  return calls;
}

const chosen = (program: ToolProgram) => program.attachments.map((c) => [c.purpose, c.chosen]);

test('with BTF: raw tracepoints for retransmits and owners (a classic tracepoint is skipped while other BPF programs run), err filtered on 6.10+', () => {
  const program = configureTcpretrans(TRACE, kernel());
  assert.equal(program.file, 'tcpretrans.bpf.c');
  assert.deepEqual(program.defines, {
    RETRANS_TRACEPOINT: false, RETRANS_RAW_TP: true, RETRANS_KPROBE: false, TP_HAS_ERR: false, RAW_HAS_ERR: true,
    RAW_SK_ARG: 0, RAW_SKB_ARG: 1, TLP_KPROBE: false, OWNER_TRACEPOINT: false, OWNER_RAW_TP: true,
    EMIT_EVENTS: true, COUNT_FLOWS: false, FILTER_FAMILY: 0, ...SOCK_DEFINES, ...SKB_DEFINES,
    USE_RINGBUF: true, RINGBUF_PAGES: 64, MAX_FLOWS, MAX_SOCKETS: 16384,
  });
  assert.deepEqual(attached(program), [
    'raw inet_sock_set_state raw_tracepoint__inet_sock_set_state',
    'raw tcp_retransmit_skb raw_tracepoint__tcp_retransmit_skb',
  ]);
  assert.deepEqual(chosen(program), [
    ['TCP retransmits', 'raw tracepoint tcp_retransmit_skb (sk, skb[, err]), the socket read at BTF offsets'],
    ['tail loss probes (-l)', 'not traced'],
    ['the process named in PID', "raw tracepoint inet_sock_set_state (the socket's owner, remembered at SYN_SENT inside connect())"],
    ['struct sock field offsets', "the running kernel's BTF"],
    ['struct sk_buff fields (SEQ, segments)', "the running kernel's BTF"],
    ['event records', 'ring buffer'],
  ]);
  // The -l decision shows without -l, with what this kernel lacks for it.
  assert.deepEqual(program.attachments[1].rejected, [{
    label: 'kprobe tcp_send_loss_probe',
    reason: 'not asked for (-l); this kernel has no kprobes, and no tracepoint marks a tail loss probe',
  }]);
});

test('before 6.10 the raw tracepoint has no err argument: told by the tracepoint format, else by the release', () => {
  const old = FIELDS_6_18.filter((f) => f !== 'err');
  assert.equal(configureTcpretrans(TRACE, kernel({ fields: old })).defines!.RAW_HAS_ERR, false);
  assert.equal(configureTcpretrans(TRACE, kernel({ fields: null, release: '6.1.0' })).defines!.RAW_HAS_ERR, false);
  assert.equal(configureTcpretrans(TRACE, kernel({ fields: null, release: '6.10.0' })).defines!.RAW_HAS_ERR, true);
});

test('without BTF: the tracepoints, which carry the flow themselves; sk_buff fields from the headers', () => {
  const program = configureTcpretrans(TRACE, kernel({ noBtf: true }));
  const d = program.defines!;
  assert.deepEqual([d.RETRANS_TRACEPOINT, d.TP_HAS_ERR, d.RAW_HAS_ERR, d.OWNER_TRACEPOINT, d.OWNER_RAW_TP, d.SKB_FIELDS_FROM_HEADERS],
    [true, true, false, true, false, 1]);
  assert.equal(d.SOCK_FAMILY_OFFSET, undefined, 'no socket read at offsets: nothing needs it');
  assert.deepEqual(attached(program), [
    'tracepoint sock:inet_sock_set_state tracepoint__sock__inet_sock_set_state',
    'tracepoint tcp:tcp_retransmit_skb tracepoint__tcp__tcp_retransmit_skb',
  ]);
  assert.deepEqual(program.attachments[0].rejected, [{
    label: 'raw tracepoint tcp_retransmit_skb (sk, skb[, err]), the socket read at BTF offsets',
    reason: 'no tcp_retransmit_skb(sk, skb) raw tracepoint in BTF',
  }]);
});

test("BPFKIT_AVOID=raw_tracepoint,tracepoint on a kernel with kprobes: bcc's kprobe, sock fields at BTF offsets, PID of the CPU", () => {
  const before = process.env.BPFKIT_AVOID;
  process.env.BPFKIT_AVOID = 'raw_tracepoint,tracepoint';
  try {
    const program = configureTcpretrans(TRACE, kernel({ kprobes: () => true }));
    const d = program.defines!;
    assert.deepEqual([d.RETRANS_KPROBE, d.OWNER_TRACEPOINT, d.OWNER_RAW_TP, d.SOCK_STATE_OFFSET], [true, false, false, 18]);
    assert.deepEqual(attached(program), ['kprobe tcp_retransmit_skb kprobe__tcp_retransmit_skb']);
    assert.equal(program.attachments.find((c) => c.purpose === 'the process named in PID')!.chosen, "the process on the CPU at the retransmit (bcc's PID)");
  } finally {
    if (before === undefined) delete process.env.BPFKIT_AVOID;
    else process.env.BPFKIT_AVOID = before;
  }
});

test('-l: a kprobe on tcp_send_loss_probe where kprobes exist; without them, a refusal that names why (exit 2)', () => {
  const program = configureTcpretrans({ ...TRACE, lossprobe: true }, kernel({ kprobes: () => true }));
  assert.equal(program.defines!.TLP_KPROBE, true);
  assert.deepEqual(attached(program).at(-1), 'kprobe tcp_send_loss_probe kprobe__tcp_send_loss_probe');
  assert.throws(() => configureTcpretrans({ ...TRACE, lossprobe: true }, kernel()), (err: unknown) => err instanceof MissingPrerequisite &&
    err.message === '-l needs a kprobe on tcp_send_loss_probe: this kernel has no kprobes, and no tracepoint marks a tail loss probe');
  assert.throws(() => configureTcpretrans({ ...TRACE, lossprobe: true }, kernel({ kprobes: () => true, kernelFunction: () => false })),
    /-l needs a kprobe on tcp_send_loss_probe: no tcp_send_loss_probe in \/proc\/kallsyms/);
});

test('no hook at all: the error names every rung and why', () => {
  assert.throws(() => configureTcpretrans(TRACE, kernel({ noBtf: true, missing: ['tcp_retransmit_skb'] })),
    /^BpfError: no way to trace TCP retransmits on this kernel: raw tracepoint .*: no tcp_retransmit_skb\(sk, skb\) raw tracepoint in BTF; tracepoint tcp:tcp_retransmit_skb .*: not in this kernel \(Linux 4\.15\+\); kprobe tcp_retransmit_skb .*: this kernel has no kprobes$/);
});

test('-c and the exporter count in the kernel only: no records, no owners, no ring buffer', () => {
  for (const config of [{ ...TRACE, events: false, count: true }, EXPORTER_CONFIG]) {
    const program = configureTcpretrans(config, kernel());
    const d = program.defines!;
    assert.deepEqual([d.EMIT_EVENTS, d.COUNT_FLOWS, d.OWNER_RAW_TP, d.OWNER_TRACEPOINT, d.USE_RINGBUF], [false, true, false, false, false]);
    assert.deepEqual(attached(program), ['raw tcp_retransmit_skb raw_tracepoint__tcp_retransmit_skb']);
    assert.deepEqual(program.attachments.map((c) => c.purpose), ['TCP retransmits', 'tail loss probes (-l)', 'struct sock field offsets']);
  }
});

test('-4 and -6 become FILTER_FAMILY (AF_INET 2, AF_INET6 10)', () => {
  assert.equal(configureTcpretrans({ ...TRACE, family: 4 }, kernel()).defines!.FILTER_FAMILY, 2);
  assert.equal(configureTcpretrans({ ...TRACE, family: 6 }, kernel()).defines!.FILTER_FAMILY, 10);
});
