// How tcpconnect configures its program on kernels other than this one (each described by a
// stand-in KernelView): which rung sees connects, what completes them, the #defines, the attach order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError, type BPF } from 'bcc-node-bindings';
import type { KernelView } from '../../lib/kernel/view.ts';
import { ringBufferPages } from '../../lib/run/event-channel.ts';
import { EXPORTER_CONFIG, configureTcpconnect, type TcpconnectConfig } from '../../tools/tcpconnect/program.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

const SOCK: Record<string, number> = {
  'sock.__sk_common.skc_family': 16, 'sock.__sk_common.skc_num': 14, 'sock.__sk_common.skc_dport': 12,
  'sock.__sk_common.skc_rcv_saddr': 4, 'sock.__sk_common.skc_daddr': 0,
  'sock.__sk_common.skc_v6_rcv_saddr': 72, 'sock.__sk_common.skc_v6_daddr': 56,
  'sock.sk_protocol': 516, 'inet_sock.inet_sport': 782,
};
const SOCK_DEFINES = {
  SOCK_FAMILY_OFFSET: 16, SOCK_NUM_OFFSET: 14, SOCK_DPORT_OFFSET: 12, SOCK_RCV_SADDR_OFFSET: 4, SOCK_DADDR_OFFSET: 0,
  SOCK_V6_RCV_SADDR_OFFSET: 72, SOCK_V6_DADDR_OFFSET: 56,
};
const kernel = (overrides: FakeKernel = {}): KernelView => fakeKernel({ offsets: SOCK, ...overrides });
const NO_STATE_TP = { missing: ['sock:inet_sock_set_state'] };

function attached(config: TcpconnectConfig, view: KernelView): string[] {
  const calls: string[] = [];
  const bpf = {
    attachTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`tracepoint ${tp} ${fnName}`); },
    attachRawTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`raw_tracepoint ${tp} ${fnName}`); },
    attachKprobe: ({ event, fnName }: { event: string; fnName: string }) => { calls.push(`kprobe ${event} ${fnName}`); },
    attachKretprobe: ({ event, fnName }: { event: string; fnName: string }) => { calls.push(`kretprobe ${event} ${fnName}`); },
  };
  configureTcpconnect(config, view).attach(bpf as unknown as BPF);
  return calls;
}
const chosen = (config: TcpconnectConfig, view: KernelView) => configureTcpconnect(config, view).attachments.map((a) => `${a.purpose}: ${a.chosen}`);

test('this kind of kernel: the state tracepoint at SYN_SENT, completed by sys_exit_connect, every filter off', () => {
  const program = configureTcpconnect({}, kernel());
  assert.equal(program.file, 'tcpconnect.bpf.c');
  assert.equal(program.hook, 'tracepoint');
  assert.equal(program.ringBuffer, true);
  assert.deepEqual(program.defines, {
    CONNECT_TP: true, CONNECT_RAW_TP: false, CONNECT_KPROBES: false, RETURN_TP: true, COUNT_MODE: false,
    FILTER_PID: 0, FILTER_UID: false, TARGET_UID: 0, FILTER_FAMILY: 0, FILTER_PORT: false, MAX_PORTS: 1024, MAX_COUNTS: 65536,
    FILTER_CGROUP_MAP: false, FILTER_MNTNS_MAP: false, ...SOCK_DEFINES, USE_RINGBUF: true, RINGBUF_PAGES: ringBufferPages(2),
  });
  assert.deepEqual(chosen({}, kernel()), [
    'connect attempts: tracepoint sock:inet_sock_set_state (SYN_SENT, in the connecting task)',
    'non-blocking connects (the port, when connect() returns): tracepoint syscalls:sys_exit_connect',
    "struct sock field offsets: the running kernel's BTF",
    'event records: ring buffer',
  ]);
  // The completion first: a connect seen starting is then always seen ending.
  assert.deepEqual(attached({}, kernel()), [
    'tracepoint syscalls:sys_exit_connect tracepoint__syscalls__sys_exit_connect',
    'tracepoint sock:inet_sock_set_state tracepoint__sock__inet_sock_set_state',
  ]);
  assert.deepEqual(EXPORTER_CONFIG, {});
});

test('filters become numbers; -P only a flag (the ports go in a map); -c counts in the kernel and has no event buffer', () => {
  const d = configureTcpconnect({ pid: 42, uid: 0, family: 6, portFilter: true }, kernel()).defines!;
  assert.deepEqual([d.FILTER_PID, d.FILTER_UID, d.TARGET_UID, d.FILTER_FAMILY, d.FILTER_PORT], [42, true, 0, 10, true]);
  assert.equal(configureTcpconnect({ family: 4 }, kernel()).defines!.FILTER_FAMILY, 2);
  const counting = configureTcpconnect({ count: true }, kernel());
  assert.equal(counting.defines!.COUNT_MODE, true);
  assert.equal('USE_RINGBUF' in counting.defines!, false);
  assert.ok(!counting.attachments.some((a) => a.purpose === 'event records'));
});

test('with tracepoints avoided (BPFKIT_AVOID): the raw tracepoint, socket fields at BTF offsets, completed at the next state change', () => {
  const view = kernel();
  process.env.BPFKIT_AVOID = 'tracepoint';
  try {
    const raw = configureTcpconnect({}, view);
    assert.equal(raw.hook, 'raw_tracepoint');
    assert.deepEqual([raw.defines!.CONNECT_RAW_TP, raw.defines!.SOCK_PROTOCOL_OFFSET, raw.defines!.INET_SPORT_OFFSET, raw.defines!.RETURN_TP], [true, 516, 782, false]);
    assert.deepEqual(attached({}, view), ['raw_tracepoint inet_sock_set_state raw_tracepoint__inet_sock_set_state']);
    assert.deepEqual(raw.attachments[1].chosen, "none: reported at the socket's next state change (answered, refused or timed out)");
  } finally {
    delete process.env.BPFKIT_AVOID;
  }
});

test('without the event at all: bcc\'s kprobes on tcp_v4_connect/tcp_v6_connect, returns attached before entries', () => {
  const view = kernel({ ...NO_STATE_TP, kprobes: () => true });
  const program = configureTcpconnect({}, view);
  assert.equal(program.hook, 'kprobe');
  assert.deepEqual([program.defines!.CONNECT_KPROBES, program.defines!.RETURN_TP], [true, false]);
  assert.ok(!program.attachments.some((a) => a.purpose.startsWith('non-blocking')), 'the kprobe rung sees the port at once');
  assert.deepEqual(attached({}, view), [
    'kretprobe tcp_v4_connect trace_connect_return', 'kretprobe tcp_v6_connect trace_connect_return',
    'kprobe tcp_v4_connect trace_connect_entry', 'kprobe tcp_v6_connect trace_connect_entry',
  ]);
});

test('raw tracepoint refused before 5.6 (sk_protocol a bitfield) and without BTF offsets; nothing usable is one error naming each rung', () => {
  process.env.BPFKIT_AVOID = 'tracepoint';
  try {
    for (const [view, reason] of [
      [kernel({ release: '5.4.0' }), /sk_protocol is a bitfield before Linux 5\.6/],
      [kernel({ offsets: { ...SOCK, 'inet_sock.inet_sport': undefined as unknown as number } }), /no BTF offset for sock\.sk_protocol or inet_sock\.inet_sport/],
      [kernel({ rawTracepoints: () => false }), /no raw tracepoints/],
    ] as const) {
      assert.throws(() => configureTcpconnect({}, view), (err: unknown) => isBpfError(err) && err.code === 'NOT_SUPPORTED' && reason.test(err.message) &&
        /kprobes on entry and return of tcp_v4_connect \+ tcp_v6_connect: this kernel has no kprobes/.test(err.message));
    }
  } finally {
    delete process.env.BPFKIT_AVOID;
  }
  assert.throws(() => configureTcpconnect({}, kernel({ ...NO_STATE_TP, kprobes: () => true, kernelFunction: () => false })),
    /no way to trace connect attempts on this kernel: .*not in this kernel \(Linux 4\.16\+\).*tcp_v4_connect or tcp_v6_connect is not in this kernel/);
});

test('without syscall tracepoints non-blocking connects wait for the next state change; perf buffer before 5.8; headers without BTF', () => {
  const program = configureTcpconnect({}, kernel({ missing: ['sys_exit_connect'], ringBuffer: () => false, offsets: {} }));
  assert.deepEqual([program.defines!.RETURN_TP, program.defines!.USE_RINGBUF, program.defines!.SOCK_OFFSETS_FROM_HEADERS, program.ringBuffer], [false, false, 1, false]);
  assert.equal('RINGBUF_PAGES' in program.defines!, false);
});
