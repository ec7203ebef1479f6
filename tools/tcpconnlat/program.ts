// tcpconnlat's one configuration: what to time (plain data from the options, or the exporter's
// fixed choice) and a KernelView → tcpconnlat.bpf.c's #defines, where the state changes are
// hooked and why, and the attach. The tool and `bpfkit exporter` both load it through
// configureTcpconnlat.
import type { BPF } from 'bcc-node-bindings';
import { ringBufferPages } from '../../lib/run/event-channel.ts';
import { chooseAttach } from '../../lib/run/attach-plan.ts';
import type { DefineValue, ToolProgram } from '../../lib/run/program.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { chooseSockOffsets } from '../../lib/kernel/sock-offsets.ts';
import { AF_INET, AF_INET6 } from '../../lib/output/inet.ts';

export interface TcpconnlatConfig {
  /** -p: connects made by this process only. */
  pid?: number;
  /** -4 / -6 */
  family?: 4 | 6;
  /** duration_ms as nanoseconds: only connects at least this slow (0: every one). */
  minLatencyNs: number;
}

export interface TcpconnlatProgram extends ToolProgram {
  /** Records come through a ring buffer, else a perf buffer (bpfkit/events.h). */
  ringBuffer: boolean;
}

/** What the exporter times: every connect on the machine. */
export const EXPORTER_CONFIG: TcpconnlatConfig = { minLatencyNs: 0 };

// Connects between SYN_SENT and ESTABLISHED at one time; beyond it the oldest unanswered SYN is
// forgotten (an LRU table), not a new connect.
const MAX_PENDING = 8192;

type StateHook = 'STATE_FROM_TP' | 'STATE_FROM_RAW_TP' | 'STATE_FROM_KPROBE';

export function configureTcpconnlat(config: TcpconnlatConfig, kernel: KernelView = liveKernel()): TcpconnlatProgram {
  // One hook sees both ends of the handshake (and the failures that free the entry): the
  // tracepoint's fields need no struct reads; the raw tracepoint and tcp_set_state give only the
  // socket, read at BTF offsets. bcc's kprobes on tcp_v4/v6_connect + tcp_rcv_state_process
  // would also time a connect answered by a RST, and never free the entry of one timed out.
  const hook = chooseAttach<StateHook>('TCP state changes (SYN_SENT, ESTABLISHED, CLOSE)', [
    {
      label: 'tracepoint sock:inet_sock_set_state',
      unavailable: () => (kernel.tracepoint('sock', 'inet_sock_set_state') ? null : 'not in this kernel (Linux 4.16+)'),
      value: 'STATE_FROM_TP',
    },
    {
      label: 'raw tracepoint inet_sock_set_state',
      unavailable: () => (!kernel.rawTracepoints() ? 'this kernel has no raw tracepoints (Linux 4.17+)'
        : kernel.tracepoint('sock', 'inet_sock_set_state') ? null : 'not in this kernel (Linux 4.16+)'),
      value: 'STATE_FROM_RAW_TP',
    },
    {
      label: 'kprobe tcp_set_state',
      unavailable: () => (!kernel.kprobes() ? 'this kernel has no kprobes'
        : kernel.kernelFunction('tcp_set_state') ? null : 'tcp_set_state is not in /proc/kallsyms'),
      value: 'STATE_FROM_KPROBE',
    },
  ]);
  const readsSock = hook.value !== 'STATE_FROM_TP';
  const sockOffsets = readsSock ? chooseSockOffsets(kernel) : null;
  const stream = chooseAttach('event records', [
    { label: 'ring buffer', unavailable: () => (kernel.ringBuffer() ? null : 'needs Linux 5.8'), value: true },
    { label: 'perf buffer', unavailable: () => null, value: false },
  ]);
  const ringBuffer = stream.value;

  const defines: Record<string, DefineValue> = {
    STATE_FROM_TP: hook.value === 'STATE_FROM_TP',
    STATE_FROM_RAW_TP: hook.value === 'STATE_FROM_RAW_TP',
    STATE_FROM_KPROBE: hook.value === 'STATE_FROM_KPROBE',
    ...sockOffsets?.value,
    FILTER_PID: config.pid ?? 0,
    FILTER_FAMILY: config.family === 4 ? AF_INET : config.family === 6 ? AF_INET6 : 0,
    MIN_LATENCY_NS: config.minLatencyNs,
    MAX_PENDING,
    USE_RINGBUF: ringBuffer,
    ...(ringBuffer ? { RINGBUF_PAGES: ringBufferPages(kernel.cpus()) } : {}),
  };
  return {
    file: 'tcpconnlat.bpf.c',
    defines,
    attachments: [hook.choice, ...(sockOffsets ? [sockOffsets.choice] : []), stream.choice],
    ringBuffer,
    attach(bpf: BPF) {
      switch (hook.value) {
        case 'STATE_FROM_TP':
          bpf.attachTracepoint({ tp: 'sock:inet_sock_set_state', fnName: 'tracepoint__sock__inet_sock_set_state' });
          return;
        case 'STATE_FROM_RAW_TP':
          bpf.attachRawTracepoint({ tp: 'inet_sock_set_state', fnName: 'raw_tracepoint__inet_sock_set_state' });
          return;
        case 'STATE_FROM_KPROBE':
          bpf.attachKprobe({ event: 'tcp_set_state', fnName: 'kprobe_tcp_set_state' });
      }
    },
  };
}

/** duration_ms (bcc's positional, a float) as whole nanoseconds. */
export function minLatencyNs(durationMs: number | undefined): number {
  return durationMs ? Math.round(durationMs * 1e6) : 0;
}
