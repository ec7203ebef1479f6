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

// Output not yet taken by stdout's reader (a pager, a slow terminal, a stalled pipe) beyond which
// the channel stops reading the buffer until stdout drains: records then wait in the kernel's
// buffer, and what no longer fits is counted as lost and reported, as bcc's tools do. Without
// this, a flood of opens printed into a stalled pipe grew a tool past 300 MB.
const OUTPUT_BACKLOG_BYTES = 4 << 20;

/**
 * Opens `events`; call it before attaching, as a perf buffer drops what arrives before its readers
 * exist. `coalesceMs`: the wait after a burst's first record (DRAIN_DELAY_MS unless a tool's
 * records are rare and each one urgent, as secwatch's alerts).
 */
export function openEvents(bpf: BPF, ringBuffer: boolean, onRecord: (record: Buffer) => void, coalesceMs = DRAIN_DELAY_MS): EventChannel {
  let stream: { pause(): void; resume(): void } | null = null;
  let waiting = false;
  const deliver = (record: Buffer) => {
    onRecord(record);
    if (!waiting && process.stdout.writableLength > OUTPUT_BACKLOG_BYTES && stream) {
      waiting = true;
      stream.pause();
      process.stdout.once('drain', () => { waiting = false; stream?.resume(); });
    }
  };
  if (ringBuffer) {
    const events = bpf.table<RingBufTable<Buffer>>('events').open(deliver, { raw: true, coalesceMs });
    stream = events;
    const lost = bpf.table<PerCpuTable<number, bigint>>('lost');
    return { kind: 'ring', flush: () => events.flush(), lost: () => lost.sum(0) ?? 0n };
  }
  let lost = 0n;
  const events = bpf.table<PerfEventArray<Buffer>>('events').open(deliver, {
    raw: true, coalesceMs, pageCount: PERF_PAGES, onLost: (n) => { lost += BigInt(n); },
  });
  stream = events;
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

/**
 * For tools whose events come far faster than execs (opens, stats: a tight loop makes ~350,000
 * opens a second traced on a 2-vCPU VM, while the reader prints ~170,000 and sleeps
 * DRAIN_DELAY_MS after each wake-up): 16 MiB at least, ~160,000 records of a typical path (a
 * record carries its path's bytes only), so a burst of 100,000 fits even when the reader gets no
 * CPU meanwhile (8 MiB lost 5% of one; the default 512 KiB lost 60-85% of a 50,000-stat loop).
 * Only the pages a burst touched count in RSS (twice, as above).
 */
export function busyRingBufferPages(cpus: number): number {
  return Math.max(4096, ringBufferPages(cpus));
}

/**
 * Between the two: four times the default (2 MiB on up to 8 CPUs, ~20,000 small records), for
 * tools whose events can come at a few hundred thousand a second but are not read in a loop
 * by the thing traced (block I/O completions, capability checks). The kernel maps a ring's
 * pages into the process whole when it is opened, twice: 16 MiB cost 32 MB of RSS from the
 * start whatever the load (biosnoop and capable sat at 85 MB idle), 2 MiB costs 4.
 */
export function burstRingBufferPages(cpus: number): number {
  return 4 * ringBufferPages(cpus);
}
