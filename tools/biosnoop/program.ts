// biosnoop's program from its configuration and the running kernel (a KernelView): the C file,
// its #defines (listed at the top of biosnoop.bpf.c) and where each probe attaches. The block
// probes are the shared core's (lib/block/requests.ts: completion, issue, creation, requeue and
// merge, raw tracepoints first, then classic tracepoints, then kprobes, all keying requests the
// same way); biosnoop adds the record stream.
import type { BPF } from 'bcc-node-bindings';
import { chooseAttach } from '../../lib/run/attach-plan.ts';
import { burstRingBufferPages } from '../../lib/run/event-channel.ts';
import type { DefineValue, ToolProgram } from '../../lib/run/program.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { planBlockRequests } from '../../lib/block/requests.ts';

export interface BiosnoopConfig {
  /** -d: the kernel dev_t (major << 20 | minor) of the only disk traced. */
  disk?: number;
  /** -P: mark each request sequential or random. */
  pattern: boolean;
  /** -m: the least latency reported, in ms (0 or absent: all). */
  minMs?: number;
}

export interface BiosnoopProgram extends ToolProgram {
  /** Records come through a ring buffer, else a perf buffer (bpfkit/events.h). */
  ringBuffer: boolean;
  /** true: the probes read rq->cmd_flags; false: classic tracepoints and their rwbs. */
  matchByRequest: boolean;
}

export function configureBiosnoop(config: BiosnoopConfig, kernel: KernelView = liveKernel()): BiosnoopProgram {
  const block = planBlockRequests(kernel);
  const stream = chooseAttach('event records', [
    { label: 'ring buffer', unavailable: () => (kernel.ringBuffer() ? null : 'needs Linux 5.8'), value: true },
    { label: 'perf buffer', unavailable: () => null, value: false },
  ]);
  const ringBuffer = stream.value;
  const defines: Record<string, DefineValue> = {
    FILTER_DEV: config.disk !== undefined,
    TARGET_DEV: config.disk ?? 0,
    PATTERN: config.pattern,
    // Milliseconds as libbpf-tools takes them; the kernel compares nanoseconds.
    MIN_NS: (config.minMs ?? 0) * 1_000_000,
    USE_RINGBUF: ringBuffer,
    ...(ringBuffer ? { RINGBUF_PAGES: burstRingBufferPages(kernel.cpus()) } : {}),
    ...block.defines,
  };
  return {
    file: 'biosnoop.bpf.c',
    defines,
    attachments: [...block.attachments, stream.choice],
    ringBuffer,
    matchByRequest: block.matchByRequest,
    attach: (bpf: BPF) => block.attach(bpf),
  };
}
