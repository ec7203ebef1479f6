// How tcpaccept configures its program on kernels other than this one (stand-in KernelViews):
// the syscall exits with the fd → socket walk at BTF offsets, the kretprobe fallback, the
// protocol check, the filters, the events channel, and the exporter's configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError, type BPF } from 'bcc-node-bindings';
import { configureTcpaccept, EXPORTER_CONFIG, type TcpacceptConfig } from '../../tools/tcpaccept/program.ts';
import { exporterMetrics } from '../../tools/tcpaccept/metrics.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import type { KernelView } from '../../lib/kernel/view.ts';
import type { ProgramConfig, ToolProgram } from '../../lib/run/program.ts';
import type { ToolContext } from '../../lib/run/tool.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

/** Offsets as 6.18's BTF gives them. */
const BTF: Record<string, number> = {
  'sock.__sk_common.skc_daddr': 0, 'sock.__sk_common.skc_rcv_saddr': 4, 'sock.__sk_common.skc_dport': 12, 'sock.__sk_common.skc_num': 14,
  'sock.__sk_common.skc_family': 16, 'sock.__sk_common.skc_v6_daddr': 56, 'sock.__sk_common.skc_v6_rcv_saddr': 72,
  'sock.sk_protocol': 532, 'sock.sk_type': 534,
  'task_struct.files': 1824, 'files_struct.fdt': 32, 'fdtable.max_fds': 0, 'fdtable.fd': 8, 'file.private_data': 24, 'socket.sk': 24,
  'task_struct.real_parent': 1280, 'task_struct.tgid': 1268,
  'task_struct.nsproxy': 1904, 'nsproxy.mnt_ns': 24, 'mnt_namespace.ns.inum': 16,
};
const SOCK_DEFINES = {
  SOCK_FAMILY_OFFSET: 16, SOCK_NUM_OFFSET: 14, SOCK_DPORT_OFFSET: 12, SOCK_RCV_SADDR_OFFSET: 4, SOCK_DADDR_OFFSET: 0,
  SOCK_V6_RCV_SADDR_OFFSET: 72, SOCK_V6_DADDR_OFFSET: 56,
};
const WALK_DEFINES = {
  TASK_FILES_OFFSET: 1824, FILES_FDT_OFFSET: 32, FDTABLE_MAX_FDS_OFFSET: 0, FDTABLE_FD_OFFSET: 8, FILE_PRIVATE_DATA_OFFSET: 24, SOCKET_SK_OFFSET: 24,
};
const TP_LABEL = 'tracepoints syscalls:sys_exit_accept4 and sys_exit_accept (the socket of the returned fd, at BTF offsets)';

/** A 6.18-like kernel: syscall tracepoints, BTF, ring buffers; no kprobes. `without` drops BTF fields. */
function kernel({ without = [], offsets = BTF, ...overrides }: FakeKernel & { without?: string[] } = {}): KernelView {
  const gone = new Set(without);
  return fakeKernel({ offset: (struct, field) => (gone.has(`${struct}.${field}`) ? undefined : offsets[`${struct}.${field}`]), ...overrides });
}
const NO_BTF = { offset: () => undefined };
const WITH_KPROBES = { kprobes: () => true };

function attached(program: ToolProgram): string[] {
  const calls: string[] = [];
  program.attach({
    attachTracepoint: (a: { tp: string; fnName: string }) => calls.push(`tracepoint ${a.tp} ${a.fnName}`),
    attachKretprobe: (a: { event: string; fnName: string }) => calls.push(`kretprobe ${a.event} ${a.fnName}`),
  } as unknown as BPF);
  return calls;
}

const config = (c: Partial<TcpacceptConfig> = {}): TcpacceptConfig => ({ ...c });

test('on a kernel with syscall tracepoints and BTF: the exits of accept4 and accept, the socket found from the fd', () => {
  const program = configureTcpaccept(config(), kernel());
  assert.equal(program.file, 'tcpaccept.bpf.c');
  assert.equal(program.ringBuffer, true);
  assert.deepEqual(program.defines, {
    ACCEPT_TRACEPOINTS: true, HAVE_ACCEPT: true, ACCEPT_KPROBE: false, ...WALK_DEFINES,
    SK_PROTOCOL_OFFSET: 532, SK_PROTOCOL_SIZE: 2, ...SOCK_DEFINES,
    FILTER_PID: 0, FILTER_FAMILY: 0, FILTER_PORTS: false, MAX_PORTS: 1, FILTER_CGROUP_MAP: false, FILTER_MNTNS_MAP: false,
    USE_RINGBUF: true, RINGBUF_PAGES: 128,
  });
  assert.deepEqual(attached(program), [
    'tracepoint syscalls:sys_exit_accept4 tracepoint__syscalls__sys_exit_accept4',
    'tracepoint syscalls:sys_exit_accept tracepoint__syscalls__sys_exit_accept',
  ]);
  assert.deepEqual(program.attachments.map((c) => [c.purpose, c.chosen, c.rejected.length]), [
    ['accepted connections', TP_LABEL, 0],
    ['struct sock field offsets', "the running kernel's BTF", 0],
    ['event records', 'ring buffer', 0],
  ]);
  assert.deepEqual(program.attachments[0].fallbacks!(), [{ label: 'kretprobe on inet_csk_accept', reason: 'this kernel has no kprobes' }]);
});

test('an architecture without accept() (only accept4) hooks accept4 alone', () => {
  const program = configureTcpaccept(config(), kernel({ missing: ['syscalls:sys_exit_accept'] }));
  assert.equal(program.defines!.HAVE_ACCEPT, false);
  assert.equal(program.attachments[0].chosen, 'tracepoint syscalls:sys_exit_accept4 (the socket of the returned fd, at BTF offsets)');
  assert.deepEqual(attached(program), ['tracepoint syscalls:sys_exit_accept4 tracepoint__syscalls__sys_exit_accept4']);
});

test('without syscall tracepoints, or without BTF for the fd walk: bcc\'s kretprobe on inet_csk_accept', () => {
  const noTp = configureTcpaccept(config(), kernel({ missing: ['sys_exit_accept4', 'sys_exit_accept'], ...WITH_KPROBES }));
  assert.deepEqual(noTp.attachments[0].rejected, [
    { label: 'tracepoint syscalls:sys_exit_accept4 (the socket of the returned fd, at BTF offsets)', reason: 'this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS is off)' },
  ]);
  assert.equal(noTp.attachments[0].chosen, 'kretprobe on inet_csk_accept');
  assert.deepEqual(attached(noTp), ['kretprobe inet_csk_accept accept_return']);
  const d = noTp.defines!;
  assert.deepEqual([d.ACCEPT_TRACEPOINTS, d.HAVE_ACCEPT, d.ACCEPT_KPROBE, d.TASK_FILES_OFFSET, d.TASK_REAL_PARENT_OFFSET], [false, false, true, undefined, undefined]);

  const noFiles = configureTcpaccept(config(), kernel({ without: ['fdtable.max_fds'], ...WITH_KPROBES }));
  assert.deepEqual(noFiles.attachments[0].rejected, [{ label: TP_LABEL, reason: "no fdtable.max_fds in the kernel's BTF (/sys/kernel/btf/vmlinux)" }]);
  assert.equal(noFiles.defines!.ACCEPT_KPROBE, true);

  // No BTF at all: the kretprobe, struct sock at the headers' offsets, and no protocol check
  // (inet_csk_accept is TCP's own; the header's sk_protocol may be a bitfield offsetof refuses).
  const bare = configureTcpaccept(config(), kernel({ ...NO_BTF, ...WITH_KPROBES }));
  assert.equal(bare.defines!.SOCK_OFFSETS_FROM_HEADERS, 1);
  assert.equal(bare.defines!.SK_PROTOCOL_OFFSET, undefined);
  assert.equal(bare.attachments[1].chosen, "the kernel headers libbcc compiles with (right only when they are the running kernel's)");
});

test('BPFKIT_AVOID=tracepoint takes the kretprobe rung where kprobes exist', () => {
  const before = process.env.BPFKIT_AVOID;
  process.env.BPFKIT_AVOID = 'tracepoint';
  try {
    const program = configureTcpaccept(config(), kernel(WITH_KPROBES));
    assert.equal(program.attachments[0].chosen, 'kretprobe on inet_csk_accept');
    assert.match(program.attachments[0].rejected[0].reason, /^excluded by BPFKIT_AVOID=tracepoint$/);
  } finally {
    if (before === undefined) delete process.env.BPFKIT_AVOID;
    else process.env.BPFKIT_AVOID = before;
  }
});

test('nothing usable (no syscall tracepoints, no kprobes): one error naming each rung and why', () => {
  assert.throws(() => configureTcpaccept(config(), kernel({ missing: ['sys_exit_accept4'] })), (err) => {
    assert.ok(isBpfError(err, 'NOT_SUPPORTED'));
    assert.equal(err.message, 'no way to trace accepted connections on this kernel: '
      + 'tracepoints syscalls:sys_exit_accept4 and sys_exit_accept (the socket of the returned fd, at BTF offsets): this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS is off); '
      + 'kretprobe on inet_csk_accept: this kernel has no kprobes');
    return true;
  });
  assert.throws(() => configureTcpaccept(config(), kernel({ ...WITH_KPROBES, kernelFunction: () => false, missing: ['sys_exit_accept4'] })),
    /kretprobe on inet_csk_accept: inet_csk_accept is not in this kernel$/);
});

test('sk_protocol before 5.6 is one byte of a bitfield, read as such', () => {
  // 5.4's layout: sk_protocol:8 at bit 8 of a word, sk_type:16 at bit 16.
  const old = configureTcpaccept(config(), kernel({ offsets: { ...BTF, 'sock.sk_protocol': 441, 'sock.sk_type': 442 } }));
  assert.deepEqual([old.defines!.SK_PROTOCOL_OFFSET, old.defines!.SK_PROTOCOL_SIZE], [441, 1]);
});

test('-p, -4/-6, -P and the container maps become defines; the ports go to a map sized for them', () => {
  const d = configureTcpaccept(config({ pid: 181, family: 6, ports: [80, 81, 443], containers: { FILTER_CGROUP_MAP: true, FILTER_MNTNS_MAP: true, PIN_ID: 4242 } }), kernel()).defines!;
  assert.deepEqual([d.FILTER_PID, d.FILTER_FAMILY, d.FILTER_PORTS, d.MAX_PORTS, d.FILTER_CGROUP_MAP, d.FILTER_MNTNS_MAP, d.PIN_ID],
    [181, 10, true, 3, true, true, 4242]);
  assert.deepEqual([d.TASK_NSPROXY_OFFSET, d.NSPROXY_MNT_NS_OFFSET, d.MNT_NS_INUM_OFFSET], [1904, 24, 16]);
  assert.equal(configureTcpaccept(config({ family: 4 }), kernel()).defines!.FILTER_FAMILY, 2);
  // The mount namespace filter on the kprobe rung still reads the task at BTF offsets.
  const k = configureTcpaccept(config({ containers: { FILTER_CGROUP_MAP: false, FILTER_MNTNS_MAP: true, PIN_ID: 1 } }),
    kernel({ missing: ['sys_exit_accept4'], ...WITH_KPROBES })).defines!;
  assert.deepEqual([k.ACCEPT_KPROBE, k.TASK_REAL_PARENT_OFFSET, k.TASK_NSPROXY_OFFSET], [true, 1280, 1904]);
  assert.throws(() => configureTcpaccept(config({ containers: { FILTER_CGROUP_MAP: false, FILTER_MNTNS_MAP: true, PIN_ID: 1 } }),
    kernel({ ...NO_BTF, ...WITH_KPROBES })), (err) => err instanceof MissingPrerequisite);
});

test('before 5.8 records go through a perf buffer', () => {
  const program = configureTcpaccept(config(), kernel({ ringBuffer: () => false }));
  assert.equal(program.ringBuffer, false);
  assert.deepEqual([program.defines!.USE_RINGBUF, program.defines!.RINGBUF_PAGES], [false, undefined]);
  assert.deepEqual(program.attachments[2].rejected, [{ label: 'ring buffer', reason: 'needs Linux 5.8' }]);
});

/** A ToolContext that records, in order, the tables the exporter opens and the probes it attaches. */
function exporterContext() {
  const seen: { loaded?: ProgramConfig & { autoAttach?: boolean }; log: string[] } = { log: [] };
  const bpf = {
    attachTracepoint: (a: { tp: string }) => seen.log.push(`attach ${a.tp}`),
    attachKretprobe: (a: { event: string }) => seen.log.push(`attach ${a.event}`),
    table: (name: string) => {
      seen.log.push(`table ${name}`);
      return { open: () => ({ flush() {}, pause() {}, resume() {} }), sum: () => 0n };
    },
  };
  const ctx = {
    load(cfg: ProgramConfig & { autoAttach?: boolean }) { seen.loaded = cfg; return bpf; },
    attach(b: BPF, program: ToolProgram) { program.attach(b); },
  } as unknown as ToolContext<unknown>;
  return { ctx, seen };
}

test('the exporter loads the tool\'s own program with no filters, and opens the events before attaching', async () => {
  const { ctx, seen } = exporterContext();
  const collector = await exporterMetrics(ctx, 500, kernel());
  assert.equal(collector.tool, 'tcpaccept');
  assert.equal(seen.loaded!.autoAttach, false);
  assert.deepEqual(EXPORTER_CONFIG, {});
  assert.deepEqual(seen.loaded!.defines, configureTcpaccept(EXPORTER_CONFIG, kernel()).defines);
  assert.deepEqual(seen.log, ['table events', 'table lost', 'attach syscalls:sys_exit_accept4', 'attach syscalls:sys_exit_accept']);
});

test('the exporter on a kernel with no way to see accepts: a missing prerequisite (exit 2), not a bare error', async () => {
  const { ctx } = exporterContext();
  await assert.rejects(exporterMetrics(ctx, 500, kernel({ missing: ['sys_exit_accept4'] })), (err) => {
    assert.ok(err instanceof MissingPrerequisite);
    assert.match(err.message, /^tcpaccept: no way to trace accepted connections on this kernel: /);
    return true;
  });
});
