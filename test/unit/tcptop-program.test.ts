// How tcptop configures its program on kernels other than this one (stand-in KernelViews): where
// the byte counts come from, how addresses are found, the struct sock offsets, the filters, the
// order probes attach in, and the exporter's configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError, type BPF } from 'bcc-node-bindings';
import { configureTcptop, type TcptopConfig } from '../../tools/tcptop/program.ts';
import { exporterMetrics, metricsFlowEntries } from '../../tools/tcptop/metrics.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import type { KernelView } from '../../lib/kernel/view.ts';
import type { ProgramConfig, ToolProgram } from '../../lib/run/program.ts';
import type { ToolContext } from '../../lib/run/tool.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

/** Offsets in struct sock as 6.18's BTF gives them. */
const SOCK: Record<string, number> = {
  '__sk_common.skc_daddr': 0, '__sk_common.skc_rcv_saddr': 4, '__sk_common.skc_dport': 12, '__sk_common.skc_num': 14,
  '__sk_common.skc_family': 16, '__sk_common.skc_v6_daddr': 56, '__sk_common.skc_v6_rcv_saddr': 72,
};
const SOCK_DEFINES = {
  SOCK_FAMILY_OFFSET: 16, SOCK_NUM_OFFSET: 14, SOCK_DPORT_OFFSET: 12, SOCK_RCV_SADDR_OFFSET: 4, SOCK_DADDR_OFFSET: 0,
  SOCK_V6_RCV_SADDR_OFFSET: 72, SOCK_V6_DADDR_OFFSET: 56,
};

/** A 6.18-like kernel: every sock tracepoint, BTF, tcp_sendmsg/tcp_recvmsg; no kprobes, no fentry. */
function kernel({ missing = [], noBtf, noIpv6, ...overrides }: FakeKernel & { noBtf?: boolean; noIpv6?: boolean } = {}): KernelView {
  const lacks = new Set(missing);
  return fakeKernel({
    tracepoint: (category, event) => category === 'sock' && !lacks.has(event),
    kernelFunction: (name) => !lacks.has(name),
    syscallFunction: () => null,
    offset: (struct, field) => noBtf || struct !== 'sock' || (noIpv6 && field.includes('_v6_')) ? undefined : SOCK[field],
    rawArg: () => undefined,
    ...overrides,
  });
}

const NO_SOCK_TP = ['sock_send_length', 'sock_recv_length'];
const config = (c: Partial<TcptopConfig> = {}): TcptopConfig => ({ maxFlows: 65536, ...c });

/** Records what attach() does, in order; functionNames() as bcc names fexit programs. */
function recorder(functions: string[] = []): { bpf: BPF; calls: string[] } {
  const calls: string[] = [];
  const bpf = {
    functionNames: () => functions,
    attachTracepoint: (a: { tp: string; fnName: string }) => calls.push(`tracepoint ${a.tp} ${a.fnName}`),
    attachKprobe: (a: { event: string; fnName: string }) => calls.push(`kprobe ${a.event} ${a.fnName}`),
    attachKretprobe: (a: { event: string; fnName: string }) => calls.push(`kretprobe ${a.event} ${a.fnName}`),
    attachKretfunc: (a: { fnName: string }) => calls.push(`fexit ${a.fnName}`),
  } as unknown as BPF;
  return { bpf, calls };
}

const attached = (program: ToolProgram, functions?: string[]) => {
  const r = recorder(functions);
  program.attach(r.bpf);
  return r.calls;
};

test('on a 6.3+ kernel the socket tracepoints count the bytes, and state changes (attached first) give the addresses', () => {
  const program = configureTcptop(config(), kernel());
  assert.equal(program.file, 'tcptop.bpf.c');
  assert.deepEqual(program.defines, {
    BYTES_FROM_SOCK_TP: true, BYTES_FROM_FEXIT: false, BYTES_FROM_KPROBES: false, TRACK_STATE: true, ...SOCK_DEFINES,
    TCP_RECVMSG_NONBLOCK: false, FILTER_PID: 0, FILTER_FAMILY: 0, FILTER_CGROUP_MAP: false, FILTER_MNTNS_MAP: false,
    MAX_FLOWS: 65536, MAX_SOCKETS: 32768,
  });
  assert.deepEqual(attached(program), [
    'tracepoint sock:inet_sock_set_state tracepoint__sock__inet_sock_set_state',
    'tracepoint sock:sock_send_length tracepoint__sock__sock_send_length',
    'tracepoint sock:sock_recv_length tracepoint__sock__sock_recv_length',
  ]);
  assert.deepEqual(program.attachments.map((c) => [c.purpose, c.chosen, c.rejected.length]), [
    ['bytes sent and received', 'tracepoints sock:sock_send_length + sock:sock_recv_length', 0],
    ['connection addresses', 'tracepoint sock:inet_sock_set_state (cached per socket), struct sock for older sockets', 0],
    ['struct sock field offsets', "the running kernel's BTF", 0],
  ]);
});

test('before 6.3, with fentry: fexit on tcp_sendmsg/tcp_recvmsg, with the nonblock argument before 5.19', () => {
  const old = configureTcptop(config(), kernel({ missing: NO_SOCK_TP, fentry: () => true, release: '5.15.0-91-generic' }));
  assert.deepEqual([old.defines!.BYTES_FROM_SOCK_TP, old.defines!.BYTES_FROM_FEXIT, old.defines!.BYTES_FROM_KPROBES], [false, true, false]);
  assert.equal(old.defines!.TCP_RECVMSG_NONBLOCK, true);
  assert.deepEqual(old.attachments[0].rejected, [
    { label: 'tracepoints sock:sock_send_length + sock:sock_recv_length', reason: 'not in this kernel (Linux 6.3+)' },
  ]);
  assert.deepEqual(attached(old, ['kretfunc__vmlinux__tcp_recvmsg', 'kretfunc__vmlinux__tcp_sendmsg', 'tracepoint__sock__inet_sock_set_state']), [
    'tracepoint sock:inet_sock_set_state tracepoint__sock__inet_sock_set_state',
    'fexit kretfunc__vmlinux__tcp_recvmsg',
    'fexit kretfunc__vmlinux__tcp_sendmsg',
  ]);
  const newer = configureTcptop(config(), kernel({ missing: NO_SOCK_TP, fentry: () => true, release: '6.1.0-18-amd64' }));
  assert.equal(newer.defines!.TCP_RECVMSG_NONBLOCK, false);
});

test('with kprobes only (no sock tracepoints at all): kprobes, returns attached before entries; addresses from struct sock', () => {
  const program = configureTcptop(config(), kernel({ missing: [...NO_SOCK_TP, 'inet_sock_set_state'], kprobes: () => true }));
  assert.deepEqual([program.defines!.BYTES_FROM_SOCK_TP, program.defines!.BYTES_FROM_FEXIT, program.defines!.BYTES_FROM_KPROBES], [false, false, true]);
  assert.equal(program.defines!.TRACK_STATE, false);
  assert.deepEqual(program.attachments[0].rejected.map((r) => r.reason), ['not in this kernel (Linux 6.3+)', 'this kernel refuses fentry/fexit']);
  assert.deepEqual(program.attachments[1].rejected.map((r) => r.reason), ['not in this kernel (Linux 4.16+)']);
  assert.deepEqual(attached(program), [
    'kretprobe tcp_sendmsg kretprobe__tcp_sendmsg',
    'kretprobe tcp_recvmsg kretprobe__tcp_recvmsg',
    'kprobe tcp_sendmsg kprobe__tcp_sendmsg',
    'kprobe tcp_recvmsg kprobe__tcp_recvmsg',
  ]);
});

test('nothing to count bytes with is a NOT_SUPPORTED error that gives every reason', () => {
  assert.throws(() => configureTcptop(config(), kernel({ missing: [...NO_SOCK_TP, 'tcp_recvmsg'], kprobes: () => true, fentry: () => true })), (err) => {
    assert.ok(isBpfError(err, 'NOT_SUPPORTED'));
    assert.equal(err.message, 'no way to trace bytes sent and received on this kernel: '
      + 'tracepoints sock:sock_send_length + sock:sock_recv_length: not in this kernel (Linux 6.3+); '
      + 'fexit tcp_sendmsg + tcp_recvmsg: tcp_sendmsg or tcp_recvmsg is not in this kernel; '
      + 'kprobes on entry and return of tcp_sendmsg + tcp_recvmsg: tcp_sendmsg or tcp_recvmsg is not in this kernel');
    return true;
  });
});

test('without BTF the offsets come from the headers; without IPv6 the IPv6 offsets are 0', () => {
  const noBtf = configureTcptop(config(), kernel({ noBtf: true }));
  assert.equal(noBtf.defines!.SOCK_OFFSETS_FROM_HEADERS, 1);
  assert.deepEqual(Object.keys(noBtf.defines!).filter((d) => d.endsWith('_OFFSET')), []);
  assert.deepEqual(noBtf.attachments[2].rejected, [
    { label: "the running kernel's BTF", reason: 'no BTF for struct sock (/sys/kernel/btf/vmlinux)' },
  ]);
  const noIpv6 = configureTcptop(config(), kernel({ noIpv6: true }));
  assert.deepEqual([noIpv6.defines!.SOCK_V6_RCV_SADDR_OFFSET, noIpv6.defines!.SOCK_V6_DADDR_OFFSET, noIpv6.defines!.SOCK_DADDR_OFFSET], [0, 0, 0]);
  assert.equal(noIpv6.defines!.SOCK_RCV_SADDR_OFFSET, 4);
});

test('-p, -4/-6, a cgroup map and --max-flows become defines', () => {
  const d = configureTcptop(config({ pid: 181, family: 6, containers: { FILTER_CGROUP_MAP: true, FILTER_MNTNS_MAP: false, PIN_ID: 4242 }, maxFlows: 16 }), kernel()).defines!;
  assert.deepEqual([d.FILTER_PID, d.FILTER_FAMILY, d.FILTER_CGROUP_MAP, d.FILTER_MNTNS_MAP, d.PIN_ID, d.MAX_FLOWS], [181, 10, true, false, 4242, 16]);
  assert.equal(configureTcptop(config({ family: 4 }), kernel()).defines!.FILTER_FAMILY, 2);
});

/** A ToolContext that records what the exporter's loader loads and attaches. */
function exporterContext() {
  const seen: { loaded?: ProgramConfig & { autoAttach?: boolean }; calls: string[] } = { calls: [] };
  const r = recorder();
  const tables = { table: () => ({ get: () => 0n, entries: () => [] }) };
  const ctx = {
    load(cfg: ProgramConfig & { autoAttach?: boolean }) { seen.loaded = cfg; return Object.assign(r.bpf, tables); },
    attach(bpf: BPF, program: ToolProgram) { program.attach(bpf); seen.calls = r.calls; },
  } as unknown as ToolContext<unknown>;
  return { ctx, seen };
}

test('the exporter loads the tool\'s own program: every process, both families, the flow table sized to the series limit', async () => {
  const { ctx, seen } = exporterContext();
  const collector = await exporterMetrics(ctx, 500, kernel());
  assert.equal(collector.tool, 'tcptop');
  assert.equal(seen.loaded!.autoAttach, false);
  assert.deepEqual(seen.loaded!.defines, configureTcptop({ maxFlows: metricsFlowEntries(500) }, kernel()).defines);
  assert.deepEqual([seen.loaded!.defines!.FILTER_PID, seen.loaded!.defines!.FILTER_FAMILY, seen.loaded!.defines!.MAX_FLOWS], [0, 0, 1000]);
  assert.equal(seen.calls.length, 3);
});

test('the exporter on a kernel with nothing to count bytes with: a missing prerequisite (exit 2), not a bare error', async () => {
  const { ctx } = exporterContext();
  await assert.rejects(exporterMetrics(ctx, 500, kernel({ missing: NO_SOCK_TP })), (err) => {
    assert.ok(err instanceof MissingPrerequisite);
    assert.match(err.message, /^tcptop: no way to trace bytes sent and received on this kernel: /);
    return true;
  });
});
