// tcptop's configuration → program: which C code counts the bytes and where it attaches, on the
// kernel a KernelView describes. The tool and `bpfkit exporter` both load tcptop through
// configureTcptop, so every #define is spelled here once.
import type { BPF } from 'bcc-node-bindings';
import { chooseAttach } from '../../lib/run/attach-plan.ts';
import type { ToolProgram } from '../../lib/run/program.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { releaseAtLeast } from '../../lib/kernel/release.ts';
import { chooseSockOffsets } from '../../lib/kernel/sock-offsets.ts';
import { mountNamespaceOffsets, taskParentOffsets } from '../../lib/kernel/offsets.ts';
import { AF_INET, AF_INET6 } from '../../lib/output/inet.ts';

export interface TcptopConfig {
  /** -p: count this process only. */
  pid?: number;
  /** -4 / -6: count this family only. */
  family?: 4 | 6;
  /** The container filters' #defines, from containerFilters() (lib/kernel/pinned-maps.ts). */
  containers?: Record<string, number | boolean>;
  /** Entries of the kernel's flow table. */
  maxFlows: number;
}

// A cache of addresses by socket: too small only costs struct reads again.
const MAX_SOCKETS = 32768;

type BytesFrom = 'BYTES_FROM_SOCK_TP' | 'BYTES_FROM_FEXIT' | 'BYTES_FROM_KPROBES';

export function configureTcptop(config: TcptopConfig, kernel: KernelView = liveKernel()): ToolProgram {
  const tcpFunctions = () => kernel.kernelFunction('tcp_sendmsg') && kernel.kernelFunction('tcp_recvmsg')
    ? null : 'tcp_sendmsg or tcp_recvmsg is not in this kernel';
  // Best first: the socket layer's own accounting is a stable interface; fexit and kprobes
  // depend on tcp_sendmsg/tcp_recvmsg's arguments, which changed in 5.19.
  const bytes = chooseAttach<BytesFrom>('bytes sent and received', [
    {
      label: 'tracepoints sock:sock_send_length + sock:sock_recv_length',
      unavailable: () => kernel.tracepoint('sock', 'sock_send_length') && kernel.tracepoint('sock', 'sock_recv_length')
        ? null : 'not in this kernel (Linux 6.3+)',
      value: 'BYTES_FROM_SOCK_TP',
    },
    {
      label: 'fexit tcp_sendmsg + tcp_recvmsg',
      unavailable: () => !kernel.fentry() ? 'this kernel refuses fentry/fexit' : tcpFunctions(),
      value: 'BYTES_FROM_FEXIT',
    },
    {
      label: 'kprobes on entry and return of tcp_sendmsg + tcp_recvmsg',
      unavailable: () => !kernel.kprobes() ? 'this kernel has no kprobes' : tcpFunctions(),
      value: 'BYTES_FROM_KPROBES',
    },
  ]);
  const trackState = chooseAttach('connection addresses', [
    {
      label: 'tracepoint sock:inet_sock_set_state (cached per socket), struct sock for older sockets',
      unavailable: () => kernel.tracepoint('sock', 'inet_sock_set_state') ? null : 'not in this kernel (Linux 4.16+)',
      value: true,
    },
    { label: 'struct sock fields, read at the first send or receive', unavailable: () => null, value: false },
  ]);
  const sockOffsets = chooseSockOffsets(kernel);

  const containers = { FILTER_CGROUP_MAP: false, FILTER_MNTNS_MAP: false, ...config.containers };
  return {
    file: 'tcptop.bpf.c',
    defines: {
      BYTES_FROM_SOCK_TP: bytes.value === 'BYTES_FROM_SOCK_TP',
      BYTES_FROM_FEXIT: bytes.value === 'BYTES_FROM_FEXIT',
      BYTES_FROM_KPROBES: bytes.value === 'BYTES_FROM_KPROBES',
      TRACK_STATE: trackState.value,
      ...sockOffsets.value,
      // tcp_recvmsg lost its `nonblock` argument in 5.19; only the fexit and kprobe code cares.
      TCP_RECVMSG_NONBLOCK: !releaseAtLeast(5, 19, kernel.release),
      FILTER_PID: config.pid ?? 0,
      FILTER_FAMILY: config.family === 4 ? AF_INET : config.family === 6 ? AF_INET6 : 0,
      ...containers,
      ...(containers.FILTER_MNTNS_MAP ? { ...taskParentOffsets(), ...mountNamespaceOffsets() } : {}),
      MAX_FLOWS: config.maxFlows,
      MAX_SOCKETS,
    },
    attachments: [bytes.choice, trackState.choice, sockOffsets.choice],
    attach(bpf: BPF) {
      // Addresses first, so that connections which change state meanwhile are already cached.
      if (trackState.value) bpf.attachTracepoint({ tp: 'sock:inet_sock_set_state', fnName: 'tracepoint__sock__inet_sock_set_state' });
      attachBytes(bpf, bytes.value);
    },
  };
}

function attachBytes(bpf: BPF, from: BytesFrom): void {
  switch (from) {
    case 'BYTES_FROM_SOCK_TP':
      for (const event of ['sock_send_length', 'sock_recv_length']) bpf.attachTracepoint({ tp: `sock:${event}`, fnName: `tracepoint__sock__${event}` });
      return;
    case 'BYTES_FROM_FEXIT':
      // bcc names them kretfunc__tcp_sendmsg, or kretfunc__vmlinux__tcp_sendmsg in newer releases.
      for (const fnName of bpf.functionNames().filter((n) => n.startsWith('kretfunc__'))) bpf.attachKretfunc({ fnName });
      return;
    case 'BYTES_FROM_KPROBES':
      // Returns before entries: a return whose entry was missed finds nothing and is skipped,
      // while an entry whose return is not attached yet would leave its thread's record behind.
      for (const fn of ['tcp_sendmsg', 'tcp_recvmsg']) bpf.attachKretprobe({ event: fn, fnName: `kretprobe__${fn}` });
      for (const fn of ['tcp_sendmsg', 'tcp_recvmsg']) bpf.attachKprobe({ event: fn, fnName: `kprobe__${fn}` });
  }
}
