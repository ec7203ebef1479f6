// tcpconnect's configuration → program: what to report (plain data from the options, or the
// exporter's fixed choice) and a KernelView → tcpconnect.bpf.c's #defines, where each probe goes
// and why, and the attach. The tool and `bpfkit exporter` both load it through configureTcpconnect.
import type { BPF } from 'bcc-node-bindings';
import { chooseAttach } from '../../lib/run/attach-plan.ts';
import { ringBufferPages } from '../../lib/run/event-channel.ts';
import type { DefineValue, ToolProgram } from '../../lib/run/program.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { releaseAtLeast } from '../../lib/kernel/release.ts';
import { chooseSockOffsets } from '../../lib/kernel/sock-offsets.ts';
import { mountNamespaceOffsets, taskParentOffsets } from '../../lib/kernel/offsets.ts';
import { AF_INET, AF_INET6 } from '../../lib/output/inet.ts';
import { MAX_PORTS } from './options.ts';

export interface TcpconnectConfig {
  /** -p */
  pid?: number;
  /** -u */
  uid?: number;
  /** -4 / -6 */
  family?: 4 | 6;
  /** -P: the tool puts the ports in the `ports` map before attaching. */
  portFilter?: boolean;
  /** -c: counts in the kernel, no records. */
  count?: boolean;
  /** --cgroupmap / --mntnsmap: the #defines containerFilters() made for the pinned maps. */
  containers?: Record<string, DefineValue>;
}

export type ConnectHook = 'tracepoint' | 'raw_tracepoint' | 'kprobe';

export interface TcpconnectProgram extends ToolProgram {
  /** Records come through a ring buffer, else a perf buffer (bpfkit/events.h); none with -c. */
  ringBuffer: boolean;
  hook: ConnectHook;
}

/** Distinct (source, destination, port) rows -c keeps. */
export const MAX_COUNTS = 65536;

/** What the exporter counts: every connect on the machine. */
export const EXPORTER_CONFIG: TcpconnectConfig = {};

const TP_LABEL = 'tracepoint sock:inet_sock_set_state (SYN_SENT, in the connecting task)';
const RAW_LABEL = 'raw tracepoint inet_sock_set_state (socket fields at BTF offsets)';
const KPROBE_LABEL = 'kprobes on entry and return of tcp_v4_connect + tcp_v6_connect';

export function configureTcpconnect(config: TcpconnectConfig, kernel: KernelView = liveKernel()): TcpconnectProgram {
  const stateTracepoint = () => kernel.tracepoint('sock', 'inet_sock_set_state');
  const sockOffsets = chooseSockOffsets(kernel);
  const fromHeaders = sockOffsets.value.SOCK_OFFSETS_FROM_HEADERS === 1;
  const protocolAt = kernel.offset('sock', 'sk_protocol');
  const sportAt = kernel.offset('inet_sock', 'inet_sport');
  const hook = chooseAttach<ConnectHook>('connect attempts', [
    { label: TP_LABEL, unavailable: () => (stateTracepoint() ? null : 'not in this kernel (Linux 4.16+)'), value: 'tracepoint' },
    {
      label: RAW_LABEL,
      unavailable: () => !kernel.rawTracepoints() ? 'this kernel has no raw tracepoints (Linux 4.17+)'
        : !stateTracepoint() ? 'no inet_sock_set_state event in this kernel (Linux 4.16+)'
        // sk_protocol was a bitfield before 5.6: no byte offset to read it at.
        : !releaseAtLeast(5, 6, kernel.release) ? 'sock.sk_protocol is a bitfield before Linux 5.6'
        : !fromHeaders && (protocolAt === undefined || sportAt === undefined) ? 'no BTF offset for sock.sk_protocol or inet_sock.inet_sport'
        : null,
      value: 'raw_tracepoint',
    },
    {
      label: KPROBE_LABEL,
      unavailable: () => !kernel.kprobes() ? 'this kernel has no kprobes'
        : kernel.kernelFunction('tcp_v4_connect') && kernel.kernelFunction('tcp_v6_connect') ? null
        : 'tcp_v4_connect or tcp_v6_connect is not in this kernel',
      value: 'kprobe',
    },
  ]);
  // The state machine's rungs see the local port only later; the kprobe rung at once.
  const fromStates = hook.value !== 'kprobe';
  const ret = fromStates ? chooseAttach('non-blocking connects (the port, when connect() returns)', [
    {
      label: 'tracepoint syscalls:sys_exit_connect',
      unavailable: () => (kernel.tracepoint('syscalls', 'sys_exit_connect') ? null : 'this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS is off)'),
      value: true,
    },
    { label: "none: reported at the socket's next state change (answered, refused or timed out)", unavailable: () => null, value: false },
  ]) : null;
  const count = config.count === true;
  const stream = count ? null : chooseAttach('event records', [
    { label: 'ring buffer', unavailable: () => (kernel.ringBuffer() ? null : 'needs Linux 5.8'), value: true },
    { label: 'perf buffer', unavailable: () => null, value: false },
  ]);
  const ringBuffer = stream?.value ?? false;
  const containers: Record<string, DefineValue> = { FILTER_CGROUP_MAP: false, FILTER_MNTNS_MAP: false, ...config.containers };
  const records: Record<string, DefineValue> = !stream ? {}
    : ringBuffer ? { USE_RINGBUF: true, RINGBUF_PAGES: ringBufferPages(kernel.cpus()) } : { USE_RINGBUF: false };
  const rawOffsets: Record<string, DefineValue> = hook.value === 'raw_tracepoint' && !fromHeaders
    ? { SOCK_PROTOCOL_OFFSET: protocolAt!, INET_SPORT_OFFSET: sportAt! }
    : {};

  return {
    file: 'tcpconnect.bpf.c',
    defines: {
      CONNECT_TP: hook.value === 'tracepoint',
      CONNECT_RAW_TP: hook.value === 'raw_tracepoint',
      CONNECT_KPROBES: hook.value === 'kprobe',
      RETURN_TP: ret?.value ?? false,
      COUNT_MODE: count,
      FILTER_PID: config.pid ?? 0,
      FILTER_UID: config.uid !== undefined,
      TARGET_UID: config.uid ?? 0,
      FILTER_FAMILY: config.family === 4 ? AF_INET : config.family === 6 ? AF_INET6 : 0,
      FILTER_PORT: config.portFilter === true,
      MAX_PORTS,
      MAX_COUNTS,
      ...containers,
      ...(containers.FILTER_MNTNS_MAP ? { ...taskParentOffsets(kernel), ...mountNamespaceOffsets(kernel) } : {}),
      ...sockOffsets.value,
      ...rawOffsets,
      ...records,
    },
    attachments: [hook.choice, ...(ret ? [ret.choice] : []), sockOffsets.choice, ...(stream ? [stream.choice] : [])],
    ringBuffer,
    hook: hook.value,
    attach(bpf: BPF) {
      // Completions before starts: a connect seen starting is then always seen ending.
      if (ret?.value) bpf.attachTracepoint({ tp: 'syscalls:sys_exit_connect', fnName: 'tracepoint__syscalls__sys_exit_connect' });
      if (hook.value === 'tracepoint') {
        bpf.attachTracepoint({ tp: 'sock:inet_sock_set_state', fnName: 'tracepoint__sock__inet_sock_set_state' });
      } else if (hook.value === 'raw_tracepoint') {
        bpf.attachRawTracepoint({ tp: 'inet_sock_set_state', fnName: 'raw_tracepoint__inet_sock_set_state' });
      } else {
        for (const fn of ['tcp_v4_connect', 'tcp_v6_connect']) bpf.attachKretprobe({ event: fn, fnName: 'trace_connect_return' });
        for (const fn of ['tcp_v4_connect', 'tcp_v6_connect']) bpf.attachKprobe({ event: fn, fnName: 'trace_connect_entry' });
      }
    },
  };
}
