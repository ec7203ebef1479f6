// BPF_RINGBUF_OUTPUT tables: one buffer shared by all CPUs (kernel 5.8+), globally ordered, with
// exact record sizes. Reading goes through libbpf's ring_buffer, whose epoll fd we watch. A drain
// stops after a budget of records so a huge backlog never freezes the event loop; the rest
// follows on the next turn of the loop.
import koffi from 'koffi';
import { libbpf, RingSampleCallback } from './ffi/libbpf.ts';
import { EventBufferTable, streamById, type EventHandler, type EventStreamOptions } from './event-stream.ts';

export interface RingBufferOptions extends EventStreamOptions {
  /** Records per drain before yielding to the event loop (default 10,000). */
  budget?: number;
}

let sampleTrampoline: unknown = null;

function trampoline(): unknown {
  sampleTrampoline ??= koffi.register((ctx: bigint, data: unknown, size: number | bigint) =>
    streamById<RingBufTable>(ctx)?.onSample(data, Number(size)) ?? 0, koffi.pointer(RingSampleCallback));
  return sampleTrampoline;
}

export class RingBufTable<E = unknown> extends EventBufferTable<E> {
  private budget = 10_000;
  private inThisDrain = 0;
  private budgetHit = false;

  /** Starts delivering events to `handler` on the event loop (bcc's open_ring_buffer). */
  open(handler: EventHandler<E>, opts: RingBufferOptions = {}): this {
    this.budget = opts.budget ?? 10_000;
    this.start(handler, opts);
    return this;
  }

  protected createReader(ctx: bigint): unknown {
    return libbpf().ring_buffer_new(this.fd, trampoline(), ctx, null);
  }

  protected readerEpollFd(reader: unknown): number {
    return libbpf().ring_buffer_epoll_fd(reader) as number;
  }

  protected consume(reader: unknown): boolean {
    this.inThisDrain = 0;
    this.budgetHit = false;
    libbpf().ring_buffer_consume(reader);
    return this.budgetHit;
  }

  protected freeReader(reader: unknown): void {
    libbpf().ring_buffer_free(reader);
  }

  /** @internal called by the trampoline; a non-zero return stops libbpf after this record. */
  onSample(data: unknown, size: number): number {
    this.received++;
    this.decoder?.deliver(data, size, -1);
    if (++this.inThisDrain >= this.budget) {
      this.budgetHit = true;
      return -1;
    }
    return 0;
  }
}
