// BPF_PERF_OUTPUT tables: one perf ring per online CPU, read through libbpf's perf_buffer, which
// creates the rings, stores their fds in the table, and gathers them behind one epoll fd.
// Records arrive padded to 8 bytes (100 bytes for a 96-byte struct), so the decoder uses the
// event's own layout, never the record size. Order across CPUs is not guaranteed.
import koffi from 'koffi';
import { libbpf, PerfLostCallback, PerfSampleCallback } from './ffi/libbpf.ts';
import { BpfError, errnoName } from './errors.ts';
import { Table, type TableInfo } from './table.ts';
import { EventPump } from './event-pump.ts';
import { RecordDecoder, type EventHandler, type EventStreamOptions } from './event-stream.ts';
import type { Layout } from './types/index.ts';

export interface PerfBufferOptions extends EventStreamOptions {
  /** Pages per CPU, a power of two (default 64: bcc's 8 lose events in bursts). */
  pageCount?: number;
  /** Lost records, per CPU, as the kernel reports them (default: bcc's "Possibly lost N samples" on stderr). */
  onLost?: (lost: number, cpu: number) => void;
}

// One registered trampoline of each kind serves every buffer: the ctx cookie says which one.
const streams = new Map<number, PerfEventArray<any>>();
let nextStreamId = 1;
let sampleTrampoline: unknown = null;
let lostTrampoline: unknown = null;

function trampolines(): { sample: unknown; lost: unknown } {
  sampleTrampoline ??= koffi.register((ctx: bigint, cpu: number, data: unknown, size: number) => {
    streams.get(Number(ctx))?.onRecord(cpu, data, size);
  }, koffi.pointer(PerfSampleCallback));
  lostTrampoline ??= koffi.register((ctx: bigint, cpu: number, lost: number | bigint) => {
    streams.get(Number(ctx))?.onLost(cpu, Number(lost));
  }, koffi.pointer(PerfLostCallback));
  return { sample: sampleTrampoline, lost: lostTrampoline };
}

export class PerfEventArray<E = unknown> extends Table<number, number> {
  /** Records the kernel reported lost since open(). */
  lost = 0;
  /** Records delivered since open(). */
  received = 0;
  private buffer: unknown = null;
  private pump: EventPump | null = null;
  private decoder: RecordDecoder<E> | null = null;
  private onLostHandler: PerfBufferOptions['onLost'];
  private id = 0;

  constructor(info: TableInfo, private readonly eventLayout: Layout | null) {
    super(info);
  }

  /** Starts delivering events to `handler` on the event loop (bcc's open_perf_buffer). */
  open(handler: EventHandler<E>, opts: PerfBufferOptions = {}): this {
    if (this.pump) throw new BpfError('INVALID_ARGUMENT', `perf buffer ${this.name} is already open`);
    const pageCount = opts.pageCount ?? 64;
    if (pageCount < 1 || (pageCount & (pageCount - 1)) !== 0) {
      throw new BpfError('INVALID_ARGUMENT', `pageCount must be a power of two, got ${pageCount}`);
    }
    const bpf = libbpf();
    const { sample, lost } = trampolines();
    this.id = nextStreamId++;
    streams.set(this.id, this);
    this.decoder = new RecordDecoder(this.eventLayout, handler, opts);
    this.onLostHandler = opts.onLost;
    this.buffer = bpf.perf_buffer_new(this.fd, pageCount, sample, lost, BigInt(this.id));
    if (!this.buffer) {
      const errno = koffi.errno();
      streams.delete(this.id);
      throw new BpfError('LOAD', `cannot open perf buffer ${this.name}: ${errnoName(errno)}`, { errno });
    }
    this.pump = new EventPump([bpf.perf_buffer_epoll_fd(this.buffer) as number], () => this.drainOnce(), opts);
    return this;
  }

  /** Delivers everything buffered now, without waiting (bcc's perf_buffer_consume). */
  flush(): void {
    this.pump?.flush();
  }

  /** Lets the process exit while no events arrive. */
  unref(): this {
    this.pump?.unref();
    return this;
  }

  private drainOnce(): boolean {
    libbpf().perf_buffer_consume(this.buffer);
    this.decoder?.settle();
    return false; // a perf buffer's backlog is bounded by its pages
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

  override close(): void {
    this.pump?.close();
    this.pump = null;
    if (this.buffer) libbpf().perf_buffer_free(this.buffer);
    this.buffer = null;
    streams.delete(this.id);
  }
}
