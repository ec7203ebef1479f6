// How tcplife configures its program on kernels other than this one (each described by a
// stand-in KernelView): where each probe goes, in which order it is attached, and the #defines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError, type BPF } from 'bcc-node-bindings';
import type { KernelView } from '../../lib/kernel/view.ts';
import { ringBufferPages } from '../../lib/run/event-channel.ts';
import { EXPORTER_CONFIG, configureTcplife, type TcplifeConfig } from '../../tools/tcplife/program.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

const COUNTERS = {
  'tcp_sock.bytes_acked': 1824, 'tcp_sock.bytes_received': 1752, 'tcp_sock.snd_una': 1672, 'tcp_sock.write_seq': 1576,
  'sock.__sk_common.skc_flags': 96,
};
const FD_WALK = {
  'task_struct.files': 1800, 'files_struct.fdt': 32, 'fdtable.fd': 8, 'fdtable.max_fds': 0, 'file.private_data': 24, 'socket.sk': 24,
};
const SOCK = {
  'sock.__sk_common.skc_family': 16, 'sock.__sk_common.skc_num': 14, 'sock.__sk_common.skc_dport': 12,
  'sock.__sk_common.skc_rcv_saddr': 4, 'sock.__sk_common.skc_daddr': 0, 'sock.__sk_common.skc_v6_rcv_saddr': 72,
  'sock.__sk_common.skc_v6_daddr': 56, 'sock.__sk_common.skc_state': 18, 'sock.sk_protocol': 532, 'inet_sock.inet_sport': 782,
};
const COUNTER_DEFINES = {
  TCP_BYTES_ACKED_OFFSET: 1824, TCP_BYTES_RECEIVED_OFFSET: 1752, TCP_SND_UNA_OFFSET: 1672, TCP_WRITE_SEQ_OFFSET: 1576, SOCK_FLAGS_OFFSET: 96,
};
const FD_DEFINES = {
  TASK_FILES_OFFSET: 1800, FILES_FDT_OFFSET: 32, FDTABLE_FD_OFFSET: 8, FDTABLE_MAX_FDS_OFFSET: 0, FILE_PRIVATE_DATA_OFFSET: 24, SOCKET_SK_OFFSET: 24,
};
const SOCK_DEFINES = {
  SOCK_FAMILY_OFFSET: 16, SOCK_NUM_OFFSET: 14, SOCK_DPORT_OFFSET: 12, SOCK_RCV_SADDR_OFFSET: 4, SOCK_DADDR_OFFSET: 0,
  SOCK_V6_RCV_SADDR_OFFSET: 72, SOCK_V6_DADDR_OFFSET: 56, INET_SPORT_OFFSET: 782,
};

const kernel = (overrides: FakeKernel = {}, offsets: Record<string, number> = { ...COUNTERS, ...FD_WALK, ...SOCK }): KernelView =>
  fakeKernel({ offsets, ...overrides });
const without = (...fields: string[]) => Object.fromEntries(Object.entries({ ...COUNTERS, ...FD_WALK, ...SOCK }).filter(([f]) => !fields.includes(f)));

const NO_STATE_TP = ['sock:inet_sock_set_state'];
const NO_ACCEPT_TPS = ['syscalls:sys_exit_accept4', 'syscalls:sys_exit_accept'];

/** What attach() did, in order, on a stand-in BPF. */
function attached(config: TcplifeConfig, view: KernelView): string[] {
  const calls: string[] = [];
  const bpf = {
    attachTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`tracepoint ${tp} ${fnName}`); },
    attachRawTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => { calls.push(`raw_tracepoint ${tp} ${fnName}`); },
    attachKprobe: ({ event, fnName }: { event: string; fnName: string }) => { calls.push(`kprobe ${event} ${fnName}`); },
    attachKretprobe: ({ event, fnName }: { event: string; fnName: string }) => { calls.push(`kretprobe ${event} ${fnName}`); },
  };
  configureTcplife(config, view).attach(bpf as unknown as BPF);
  return calls;
}

const chosen = (config: TcplifeConfig, view: KernelView) => configureTcplife(config, view).attachments.map((a) => `${a.purpose}: ${a.chosen}`);

test('on this kind of kernel: the state tracepoint, accept()\'s exits and a ring buffer, with every filter off', () => {
  const program = configureTcplife(EXPORTER_CONFIG, kernel());
  assert.equal(program.file, 'tcplife.bpf.c');
  assert.equal(program.ringBuffer, true);
  assert.deepEqual(program.defines, {
    STATE_TP: true, STATE_RAW_TP: false, STATE_KPROBE: false, ...COUNTER_DEFINES, ACCEPT_TP: true, ACCEPT_KPROBE: false, ...FD_DEFINES,
    FILTER_PID: 0, FILTER_FAMILY: 0, FILTER_LPORTS: 0, FILTER_RPORTS: 0, MAX_SOCKETS: 16384, USE_RINGBUF: true, RINGBUF_PAGES: 8 * ringBufferPages(2),
  });
  assert.deepEqual(chosen({}, kernel()), [
    'TCP state changes: tracepoint sock:inet_sock_set_state',
    'owners of passive sockets: tracepoints syscalls:sys_exit_accept4 and sys_exit_accept (fd → socket at BTF offsets)',
    'event records: ring buffer',
  ]);
  // Owners first: a socket accepted while the state probe is attached still finds its owner.
  assert.deepEqual(attached({}, kernel()), [
    'tracepoint syscalls:sys_exit_accept4 tracepoint__syscalls__sys_exit_accept4',
    'tracepoint syscalls:sys_exit_accept tracepoint__syscalls__sys_exit_accept',
    'tracepoint sock:inet_sock_set_state tracepoint__sock__inet_sock_set_state',
  ]);
});

test('filters become numbers: the PID, the family, and the sizes of the port maps (ports themselves go in maps)', () => {
  const d = configureTcplife({ pid: 1234, family: 6, localPorts: [80, 443], remotePorts: [5432] }, kernel()).defines!;
  assert.deepEqual([d.FILTER_PID, d.FILTER_FAMILY, d.FILTER_LPORTS, d.FILTER_RPORTS], [1234, 10, 2, 1]);
  assert.equal(configureTcplife({ family: 4 }, kernel()).defines!.FILTER_FAMILY, 2);
});

test('without the tracepoint, the raw tracepoint reads the socket at BTF offsets (sk_protocol a whole field from 5.6)', () => {
  const view = kernel({ missing: NO_STATE_TP, tracepoint: (c, e) => !(c === 'sock' && e === 'inet_sock_set_state') });
  // The raw tracepoint of the same name exists wherever the tracepoint does: BPFKIT_AVOID picks it here.
  const avoid = process.env.BPFKIT_AVOID;
  process.env.BPFKIT_AVOID = 'tracepoint';
  try {
    const program = configureTcplife({}, kernel());
    assert.deepEqual([program.defines!.STATE_TP, program.defines!.STATE_RAW_TP, program.defines!.STATE_KPROBE], [false, true, false]);
    assert.equal(program.defines!.SOCK_PROTOCOL_OFFSET, 532);
    assert.deepEqual(Object.fromEntries(Object.keys(SOCK_DEFINES).map((k) => [k, program.defines![k]])), SOCK_DEFINES);
    assert.deepEqual(chosen({}, kernel()), [
      'TCP state changes: raw tracepoint inet_sock_set_state (socket fields at BTF offsets)',
      'owners of passive sockets: none: the task that closes or shuts down the socket',
      'event records: ring buffer',
    ]);
    assert.deepEqual(attached({}, kernel()), ['raw_tracepoint inet_sock_set_state raw_tracepoint__inet_sock_set_state']);
    assert.equal(configureTcplife({}, kernel()).defines!.ACCEPT_TP, false);
    assert.equal(configureTcplife({}, kernel()).defines!.TASK_FILES_OFFSET, undefined);
  } finally {
    if (avoid === undefined) delete process.env.BPFKIT_AVOID; else process.env.BPFKIT_AVOID = avoid;
  }
  // Before Linux 4.16 neither exists: bcc's kprobe on tcp_set_state, with the old state read from the socket.
  const old = configureTcplife({}, kernel({ ...view, kprobes: () => true, release: '4.15.0' }));
  assert.deepEqual([old.defines!.STATE_TP, old.defines!.STATE_RAW_TP, old.defines!.STATE_KPROBE, old.defines!.SOCK_STATE_OFFSET], [false, false, true, 18]);
  assert.deepEqual(attached({}, kernel({ ...view, kprobes: () => true, release: '4.15.0' })), [
    'tracepoint syscalls:sys_exit_accept4 tracepoint__syscalls__sys_exit_accept4',
    'tracepoint syscalls:sys_exit_accept tracepoint__syscalls__sys_exit_accept',
    'kprobe tcp_set_state kprobe__tcp_set_state',
  ]);
  assert.match(configureTcplife({}, kernel({ ...view, kprobes: () => true })).attachments[0].rejected[1].reason, /not in this kernel/);
});

test('a raw tracepoint before 5.6 is refused (sk_protocol was a bit field), and so is one without socket offsets', () => {
  const avoid = process.env.BPFKIT_AVOID;
  process.env.BPFKIT_AVOID = 'tracepoint';
  try {
    const before = configureTcplife({}, kernel({ kprobes: () => true, release: '5.4.0' }));
    assert.equal(before.defines!.STATE_KPROBE, true);
    assert.equal(before.attachments[0].rejected[1].reason, 'sk_protocol is a bit field before Linux 5.6');
    assert.throws(() => configureTcplife({}, kernel({}, without('sock.sk_protocol'))), (err: unknown) => isBpfError(err) && err.code === 'NOT_SUPPORTED');
  } finally {
    if (avoid === undefined) delete process.env.BPFKIT_AVOID; else process.env.BPFKIT_AVOID = avoid;
  }
});

test('without syscall tracepoints, kretprobes on the accept functions; without those either, the closing task owns passive sockets', () => {
  const kp = kernel({ missing: NO_ACCEPT_TPS, kprobes: () => true });
  const program = configureTcplife({}, kp);
  assert.deepEqual([program.defines!.ACCEPT_TP, program.defines!.ACCEPT_KPROBE, program.defines!.TASK_FILES_OFFSET], [false, true, 1800]);
  assert.equal(program.attachments[1].chosen, 'kretprobes on __x64_sys_accept4 and __x64_sys_accept (fd → socket at BTF offsets)');
  assert.deepEqual(attached({}, kp), [
    'kretprobe __x64_sys_accept4 accept_return',
    'kretprobe __x64_sys_accept accept_return',
    'tracepoint sock:inet_sock_set_state tracepoint__sock__inet_sock_set_state',
  ]);
  const none = configureTcplife({}, kernel({ missing: NO_ACCEPT_TPS }));
  assert.deepEqual([none.defines!.ACCEPT_TP, none.defines!.ACCEPT_KPROBE], [false, false]);
  assert.equal(none.attachments[1].chosen, 'none: the task that closes or shuts down the socket');
  assert.deepEqual(none.attachments[1].rejected.map((r) => r.reason), ['this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS is off)', 'this kernel has no kprobes']);
  // The tracepoints alone are not enough: the fd → socket walk needs its BTF offsets.
  const noWalk = configureTcplife({}, kernel({}, without('fdtable.max_fds')));
  assert.equal(noWalk.attachments[1].chosen, 'none: the task that closes or shuts down the socket');
  assert.match(noWalk.attachments[1].rejected[0].reason, /no BTF for the fd table's fields/);
});

test('older kernels keep sk_flags in struct sock itself; a perf buffer before 5.8', () => {
  const offsets = { ...without('sock.__sk_common.skc_flags'), 'sock.sk_flags': 600 };
  const program = configureTcplife({}, kernel({ ringBuffer: () => false }, offsets));
  assert.equal(program.defines!.SOCK_FLAGS_OFFSET, 600);
  assert.deepEqual([program.ringBuffer, program.defines!.USE_RINGBUF, program.defines!.RINGBUF_PAGES], [false, false, undefined]);
});

test('nothing usable: no byte counters in BTF, or no way to see state changes, is NOT_SUPPORTED', () => {
  const notSupported = (err: unknown) => isBpfError(err) && err.code === 'NOT_SUPPORTED';
  assert.throws(() => configureTcplife({}, kernel({}, without('tcp_sock.bytes_acked'))), (err: unknown) => notSupported(err) && /bytes_acked/.test((err as Error).message));
  assert.throws(() => configureTcplife({}, kernel({ missing: NO_STATE_TP, tracepoint: () => false })), notSupported);
});
