// tcpaccept's one configuration: the options (or the exporter's fixed choice) and a KernelView →
// tcpaccept.bpf.c's #defines, where each probe goes and why, and the attach. The tool and
// `bpfkit exporter` both load the program through configureTcpaccept.
import type { BPF } from 'bcc-node-bindings';
import { ringBufferPages } from '../../lib/run/event-channel.ts';
import { chooseAttach } from '../../lib/run/attach-plan.ts';
import type { DefineValue, ToolProgram } from '../../lib/run/program.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { chooseSockOffsets } from '../../lib/kernel/sock-offsets.ts';
import { fdSocketOffsets, mountNamespaceOffsets, taskParentOffsets } from '../../lib/kernel/offsets.ts';
import { AF_INET, AF_INET6 } from '../../lib/output/inet.ts';

export interface TcpacceptConfig {
  /** -p: accepts by this process only. */
  pid?: number;
  /** -4 / -6 */
  family?: 4 | 6;
  /** -P: these local ports only; the tool puts them in the `ports` map before attaching. */
  ports?: readonly number[];
  /** --cgroupmap / --mntnsmap: the #defines containerFilters() made for the pinned maps. */
  containers?: Record<string, DefineValue>;
}

export interface TcpacceptProgram extends ToolProgram {
  /** Records come through a ring buffer, else a perf buffer (bpfkit/events.h). */
  ringBuffer: boolean;
}

/** What the exporter counts: every accepted connection, by command and local port. */
export const EXPORTER_CONFIG: TcpacceptConfig = {};

/**
 * struct sock's sk_protocol, or nothing to check without BTF. Since 5.6 a u16 of its own (MPTCP's
 * number, 262, needs it), with sk_type 2 bytes later; before, 8 bits of a bitfield that start on
 * a byte, with sk_type the next byte: BTF's byte offset reads it as a u8.
 */
function protocolField(kernel: KernelView): Record<string, number> {
  const protocol = kernel.offset('sock', 'sk_protocol');
  if (protocol === undefined) return {};
  const type = kernel.offset('sock', 'sk_type');
  return { SK_PROTOCOL_OFFSET: protocol, SK_PROTOCOL_SIZE: type === protocol + 2 ? 2 : 1 };
}

export function configureTcpaccept(config: TcpacceptConfig, kernel: KernelView = liveKernel()): TcpacceptProgram {
  const hasAccept = kernel.tracepoint('syscalls', 'sys_exit_accept');
  const walk = fdSocketOffsets(kernel);
  // The syscall's exit runs in the task that accepted; the state changes of a passive open
  // (sock:inet_sock_set_state) run in softirq, where the current task is whoever was interrupted.
  const where = chooseAttach<'tracepoints' | 'kprobe'>('accepted connections', [
    {
      label: `${hasAccept ? 'tracepoints syscalls:sys_exit_accept4 and sys_exit_accept' : 'tracepoint syscalls:sys_exit_accept4'}`
        + ' (the socket of the returned fd, at BTF offsets)',
      unavailable: () => !kernel.tracepoint('syscalls', 'sys_exit_accept4') ? 'this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS is off)'
        : 'missing' in walk ? `no ${walk.missing} in the kernel's BTF (/sys/kernel/btf/vmlinux)` : null,
      value: 'tracepoints',
    },
    {
      label: 'kretprobe on inet_csk_accept',
      kind: 'kprobe',
      unavailable: () => !kernel.kprobes() ? 'this kernel has no kprobes'
        : !kernel.kernelFunction('inet_csk_accept') ? 'inet_csk_accept is not in this kernel' : null,
      value: 'kprobe',
    },
  ]);
  const atSyscalls = where.value === 'tracepoints';
  const sockOffsets = chooseSockOffsets(kernel);
  const stream = chooseAttach('event records', [
    { label: 'ring buffer', unavailable: () => (kernel.ringBuffer() ? null : 'needs Linux 5.8'), value: true },
    { label: 'perf buffer', unavailable: () => null, value: false },
  ]);
  const ringBuffer = stream.value;
  const containers = { FILTER_CGROUP_MAP: false, FILTER_MNTNS_MAP: false, ...config.containers };
  const ports = config.ports ?? [];

  return {
    file: 'tcpaccept.bpf.c',
    defines: {
      ACCEPT_TRACEPOINTS: atSyscalls,
      HAVE_ACCEPT: atSyscalls && hasAccept,
      ACCEPT_KPROBE: !atSyscalls,
      ...('defines' in walk && atSyscalls ? walk.defines : {}),
      ...protocolField(kernel),
      ...sockOffsets.value,
      FILTER_PID: config.pid ?? 0,
      FILTER_FAMILY: config.family === 4 ? AF_INET : config.family === 6 ? AF_INET6 : 0,
      FILTER_PORTS: ports.length > 0,
      MAX_PORTS: Math.max(1, ports.length),
      ...containers,
      // bpfkit/task.h's own pair, which the mount namespace filter includes it with.
      ...(containers.FILTER_MNTNS_MAP ? taskParentOffsets(kernel) : {}),
      ...(containers.FILTER_MNTNS_MAP ? mountNamespaceOffsets(kernel) : {}),
      USE_RINGBUF: ringBuffer,
      ...(ringBuffer ? { RINGBUF_PAGES: ringBufferPages(kernel.cpus()) } : {}),
    },
    attachments: [where.choice, sockOffsets.choice, stream.choice],
    ringBuffer,
    attach(bpf: BPF) {
      if (!atSyscalls) {
        bpf.attachKretprobe({ event: 'inet_csk_accept', fnName: 'accept_return' });
        return;
      }
      bpf.attachTracepoint({ tp: 'syscalls:sys_exit_accept4', fnName: 'tracepoint__syscalls__sys_exit_accept4' });
      if (hasAccept) bpf.attachTracepoint({ tp: 'syscalls:sys_exit_accept', fnName: 'tracepoint__syscalls__sys_exit_accept' });
    },
  };
}
