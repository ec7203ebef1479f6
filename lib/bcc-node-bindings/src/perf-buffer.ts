// BPF_PERF_OUTPUT tables: one perf ring per online CPU, read through libbpf's perf_buffer, which
// creates the rings, stores their fds in the table, and gathers them behind one epoll fd.
// Records arrive padded to 8 bytes (100 bytes for a 96-byte struct), so the decoder uses the
// event's own layout, never the record size. Order across CPUs is not guaranteed.
import koffi from 'koffi';
import { libbpf, PerfLostCallback, PerfSampleCallback } from './ffi/libbpf.ts';
import { BpfError } from './errors.ts';
import { EventBufferTable, streamById, type EventHandler, type EventStreamOptions } from './event-stream.ts';

export interface PerfBufferOptions extends EventStreamOptions {
  /** Pages per CPU, a power of two (default 64: bcc's 8 lose events in bursts). */
  pageCount?: number;
  /** Lost records, per CPU, as the kernel reports them (default: bcc's "Possibly lost N samples" on stderr). */
  onLost?: (lost: number, cpu: number) => void;
}

let sampleTrampoline: unknown = null;
let lostTrampoline: unknown = null;

function trampolines(): { sample: unknown; lost: unknown } {
  sampleTrampoline ??= koffi.register((ctx: bigint, cpu: number, data: unknown, size: number) => {
    streamById<PerfEventArray>(ctx)?.onRecord(cpu, data, size);
  }, koffi.pointer(PerfSampleCallback));
  lostTrampoline ??= koffi.register((ctx: bigint, cpu: number, lost: number | bigint) => {
    streamById<PerfEventArray>(ctx)?.onLost(cpu, Number(lost));
  }, koffi.pointer(PerfLostCallback));
  return { sample: sampleTrampoline, lost: lostTrampoline };
}

export class PerfEventArray<E = unknown> extends EventBufferTable<E> {
  /** Records the kernel reported lost since open(). */
  lost = 0;
  private pageCount = 64;
  private onLostHandler: PerfBufferOptions['onLost'];

  /** Starts delivering events to `handler` on the event loop (bcc's open_perf_buffer). */
  open(handler: EventHandler<E>, opts: PerfBufferOptions = {}): this {
    this.pageCount = opts.pageCount ?? 64;
    if (this.pageCount < 1 || (this.pageCount & (this.pageCount - 1)) !== 0) {
      throw new BpfError('INVALID_ARGUMENT', `pageCount must be a power of two, got ${this.pageCount}`);
    }
    this.onLostHandler = opts.onLost;
    this.start(handler, opts);
    return this;
  }

  protected createReader(ctx: bigint): unknown {
    const { sample, lost } = trampolines();
    return libbpf().perf_buffer_new(this.fd, this.pageCount, sample, lost, ctx);
  }

  protected readerEpollFd(reader: unknown): number {
    return libbpf().perf_buffer_epoll_fd(reader) as number;
  }

  protected consume(reader: unknown): boolean {
    libbpf().perf_buffer_consume(reader);
    return false; // a perf buffer's backlog is bounded by its pages
  }

  protected freeReader(reader: unknown): void {
    libbpf().perf_buffer_free(reader);
  }

  /** @internal called by the trampoline */
  onRecord(cpu: number, data: unknown, size: number): void {
    this.received++;
    this.decoder?.deliver(data, size, cpu);
  }

  /** @internal called by the trampoline */
  onLost(cpu: number, count: number): void {
    this.lost += count;
    if (this.onLostHandler) {
      try { this.onLostHandler(count, cpu); } catch { /* a reporting failure must not stop the drain */ }
    } else {
      process.stderr.write(`Possibly lost ${count} samples\n`);
    }
  }
}
