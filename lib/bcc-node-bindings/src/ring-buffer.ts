// BPF_RINGBUF_OUTPUT tables: one buffer shared by all CPUs (kernel 5.8+), globally ordered, with
// exact record sizes. Reading goes through libbpf's ring_buffer, whose epoll fd we watch. A drain
// stops after a budget of records so a huge backlog never freezes the event loop; the rest
// follows on the next turn of the loop.
import koffi from 'koffi';
import { libbpf, RingSampleCallback } from './ffi/libbpf.ts';
import { BpfError, errnoName } from './errors.ts';
import { Table, type TableInfo } from './table.ts';
import { EventPump } from './event-pump.ts';
import { RecordDecoder, type EventHandler, type EventStreamOptions } from './event-stream.ts';
import type { Layout } from './types/index.ts';

export interface RingBufferOptions extends EventStreamOptions {
  /** Records per drain before yielding to the event loop (default 10,000). */
  budget?: number;
}

const streams = new Map<number, RingBufTable<any>>();
let nextStreamId = 1;
let sampleTrampoline: unknown = null;

function trampoline(): unknown {
  sampleTrampoline ??= koffi.register((ctx: bigint, data: unknown, size: number | bigint) => {
    return streams.get(Number(ctx))?.onSample(data, Number(size)) ?? 0;
  }, koffi.pointer(RingSampleCallback));
  return sampleTrampoline;
}

export class RingBufTable<E = unknown> extends Table<never, never> {
  received = 0;
  private ring: unknown = null;
  private pump: EventPump | null = null;
  private decoder: RecordDecoder<E> | null = null;
  private budget = 10_000;
  private inThisDrain = 0;
  private budgetHit = false;
  private id = 0;

  constructor(info: TableInfo, private readonly eventLayout: Layout | null) {
    super(info);
  }

  /** Starts delivering events to `handler` on the event loop (bcc's open_ring_buffer). */
  open(handler: EventHandler<E>, opts: RingBufferOptions = {}): this {
    if (this.pump) throw new BpfError('INVALID_ARGUMENT', `ring buffer ${this.name} is already open`);
    const bpf = libbpf();
    this.id = nextStreamId++;
    streams.set(this.id, this);
    this.decoder = new RecordDecoder(this.eventLayout, handler, opts);
    this.budget = opts.budget ?? 10_000;
    this.ring = bpf.ring_buffer_new(this.fd, trampoline(), BigInt(this.id), null);
    if (!this.ring) {
      const errno = koffi.errno();
      streams.delete(this.id);
      throw new BpfError('LOAD', `cannot open ring buffer ${this.name}: ${errnoName(errno)}`, { errno });
    }
    this.pump = new EventPump([bpf.ring_buffer_epoll_fd(this.ring) as number], () => this.drainOnce(), opts);
    return this;
  }

  flush(): void {
    this.pump?.flush();
  }

  unref(): this {
    this.pump?.unref();
    return this;
  }

  private drainOnce(): boolean {
    this.inThisDrain = 0;
    this.budgetHit = false;
    libbpf().ring_buffer_consume(this.ring);
    this.decoder?.settle();
    return this.budgetHit;
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

  override close(): void {
    this.pump?.close();
    this.pump = null;
    if (this.ring) libbpf().ring_buffer_free(this.ring);
    this.ring = null;
    streams.delete(this.id);
  }
}
