// The user-space end of bpf/include/bpfkit/events.h, for every tool that streams one record per
// event (execsnoop, opensnoop, killsnoop, …): records from the ring buffer, or the perf buffer
// where there is none, and the count of those the kernel could not deliver.
import type { BPF, PerCpuTable, PerfEventArray, RingBufTable } from 'bcc-node-bindings';

// After the first record of a burst, wait this long before reading the buffer. Each wake-up
// costs more than the records it reads at exec rates (2 ms: ~43 µs of CPU per exec in a
// 10,000-exec burst on a 2-vCPU VM; 50 ms: ~10 µs), and 50 ms is too short to see. The ring
// buffer holds thousands of records meanwhile (see ringBufferPages).
export const DRAIN_DELAY_MS = 50;

/** A perf buffer's size per CPU, in pages (libbpf-tools' execsnoop's). */
const PERF_PAGES = 64;

export interface EventChannel {
  /** For messages: "the ring buffer was full". */
  readonly kind: 'ring' | 'perf';
  /** Hands every record the kernel has finished to the handler now. */
  flush(): void;
  /** Records the kernel could not deliver so far. */
  lost(): bigint;
}

/** Opens `events`; call it before attaching, as a perf buffer drops what arrives before its readers exist. */
export function openEvents(bpf: BPF, ringBuffer: boolean, onRecord: (record: Buffer) => void): EventChannel {
  if (ringBuffer) {
    const events = bpf.table<RingBufTable<Buffer>>('events').open(onRecord, { raw: true, coalesceMs: DRAIN_DELAY_MS });
    const lost = bpf.table<PerCpuTable<number, bigint>>('lost');
    return { kind: 'ring', flush: () => events.flush(), lost: () => lost.sum(0) ?? 0n };
  }
  let lost = 0n;
  const events = bpf.table<PerfEventArray<Buffer>>('events').open(onRecord, {
    raw: true, coalesceMs: DRAIN_DELAY_MS, pageCount: PERF_PAGES, onLost: (n) => { lost += BigInt(n); },
  });
  return { kind: 'perf', flush: () => events.flush(), lost: () => lost };
}

/**
 * Ring buffer size in pages: the room libbpf-tools gives its perf buffers (64 pages per CPU), at
 * least 512 KiB, a power of two as the kernel requires. Every page is mapped into the process
 * twice (the kernel maps the data area back to back), so the size shows in RSS twice.
 */
export function ringBufferPages(cpus: number): number {
  const wanted = Math.max(128, 64 * cpus);
  return 2 ** Math.ceil(Math.log2(wanted));
}
