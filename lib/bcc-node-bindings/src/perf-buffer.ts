// BPF_PERF_OUTPUT tables: one perf ring per online CPU, read through libbcc's perf readers.
// Records arrive padded to 8 bytes (100 bytes for a 96-byte struct), so the decoder uses the
// event's own layout, never the record size. Order across CPUs is not guaranteed.
import koffi from 'koffi';
import { libbcc, PerfLostCallback, PerfRawCallback } from './ffi/libbcc.ts';
import { BpfError, errnoName } from './errors.ts';
import { onlineCpus } from './kernel.ts';
import { Table, type TableInfo } from './table.ts';
import { EventPump } from './event-pump.ts';
import { RecordDecoder, type EventHandler, type EventStreamOptions } from './event-stream.ts';
import type { Layout } from './types/index.ts';

export interface PerfBufferOptions extends EventStreamOptions {
  /** Pages per CPU, a power of two (default 64: bcc's 8 lose events in bursts). */
  pageCount?: number;
  /** Lost records, per CPU, as the kernel reports them (default: bcc's "Possibly lost N samples" on stderr). */
  onLost?: (lost: number, cpu: number) => void;
  /** Wake the reader after this many records (default 1). */
  wakeupEvents?: number;
}

// One registered trampoline of each kind serves every buffer: the cookie says which one and which CPU.
const streams = new Map<number, PerfEventArray<any>>();
let nextStreamId = 1;
let rawTrampoline: unknown = null;
let lostTrampoline: unknown = null;

function trampolines(): { raw: unknown; lost: unknown } {
  rawTrampoline ??= koffi.register((cookie: bigint, raw: unknown, size: number) => {
    streams.get(Number(BigInt(cookie) >> 16n))?.onRecord(Number(BigInt(cookie) & 0xffffn), raw, size);
  }, koffi.pointer(PerfRawCallback));
  lostTrampoline ??= koffi.register((cookie: bigint, lost: number | bigint) => {
    streams.get(Number(BigInt(cookie) >> 16n))?.onLost(Number(BigInt(cookie) & 0xffffn), Number(lost));
  }, koffi.pointer(PerfLostCallback));
  return { raw: rawTrampoline, lost: lostTrampoline };
}

export class PerfEventArray<E = unknown> extends Table<number, number> {
  /** Records the kernel reported lost since open(). */
  lost = 0;
  /** Records delivered since open(). */
  received = 0;
  private readers: unknown[] = [];
  private readerArray: unknown = null;
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
    const bcc = libbcc();
    const { raw, lost } = trampolines();
    this.id = nextStreamId++;
    streams.set(this.id, this);
    this.decoder = new RecordDecoder(this.eventLayout, handler, opts);
    this.onLostHandler = opts.onLost;
    const key = Buffer.alloc(4);
    const value = Buffer.alloc(4);
    for (const cpu of onlineCpus()) {
      const reader = bcc.open_perf_buffer(raw, lost, (BigInt(this.id) << 16n) | BigInt(cpu), cpu, pageCount, opts.wakeupEvents ?? 1);
      if (!reader) {
        const errno = koffi.errno();
        this.close();
        throw new BpfError('LOAD', `cannot open perf buffer ${this.name} on CPU ${cpu}: ${errnoName(errno)}`, { errno });
      }
      this.readers.push(reader);
      key.writeUInt32LE(cpu);
      value.writeInt32LE(bcc.perf_reader_fd(reader) as number);
      bcc.update_elem(this.fd, key, value, 0);
    }
    this.readerArray = koffi.alloc('void *', this.readers.length);
    koffi.encode(this.readerArray, koffi.array('void *', this.readers.length), this.readers);
    this.pump = new EventPump(this.readers.map((r) => bcc.perf_reader_fd(r) as number), () => this.drainOnce(), opts);
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
    libbcc().perf_reader_consume(this.readers.length, this.readerArray);
    this.decoder?.settle();
    return false; // a perf buffer's backlog is bounded by its pages
  }

  /** @internal called by the trampoline */
  onRecord(cpu: number, raw: unknown, size: number): void {
    this.received++;
    this.decoder?.deliver(raw, size, cpu);
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
    const bcc = libbcc();
    for (const reader of this.readers.splice(0)) bcc.perf_reader_free(reader);
    if (this.readerArray) koffi.free(this.readerArray);
    this.readerArray = null;
    streams.delete(this.id);
  }
}
