// What perf buffers and ring buffers share: turning a C record into the object a handler gets,
// and making sure one handler's exception neither loses the other events of a drain nor vanishes.
import koffi from 'koffi';
import { libc } from './ffi/libc.ts';
import { BpfError, errnoText } from './errors.ts';
import { Table, type TableInfo } from './table.ts';
import { EventPump } from './event-pump.ts';
import { makeDecoder, type Layout } from './types/index.ts';

export interface EventStreamOptions {
  /** Deliver each record as a Buffer copy instead of a decoded object. */
  raw?: boolean;
  /** Called with errors thrown by the handler (default: rethrown after the drain, as an uncaught exception). */
  onError?: (err: unknown) => void;
  /** Wait this long after a wake-up before draining, to batch bursts (default 2 ms). */
  coalesceMs?: number;
}

export type EventHandler<E> = (event: E, cpu: number) => void;

export class RecordDecoder<E> {
  private staging = Buffer.alloc(256);
  private readonly decode: ((buf: Buffer, offset?: number) => unknown) | null;
  private readonly errors: unknown[] = [];

  constructor(layout: Layout | null, private readonly handler: EventHandler<E>, private readonly opts: EventStreamOptions) {
    this.decode = layout && !opts.raw ? makeDecoder(layout) : null;
  }

  /** Copies the record out of the buffer (the pointer dies when the callback returns) and hands it over. */
  deliver(data: unknown, size: number, cpu: number): void {
    if (size > this.staging.length) this.staging = Buffer.alloc(Math.max(size, this.staging.length * 2));
    libc.memcpy(this.staging, data, size);
    try {
      const event = this.decode ? this.decode(this.staging, 0) : Buffer.from(this.staging.subarray(0, size));
      this.handler(event as E, cpu);
    } catch (err) {
      this.errors.push(err);
    }
  }

  /** After a drain: report what handlers threw. */
  settle(): void {
    if (this.errors.length === 0) return;
    const errors = this.errors.splice(0);
    if (this.opts.onError) {
      for (const err of errors) this.opts.onError(err);
    } else {
      setImmediate(() => { throw errors[0]; });
    }
  }
}

/**
 * What a perf buffer table and a ring buffer table share: the libbpf reader behind one epoll fd,
 * the pump that drains it on the event loop, the decoder, and an id that libbpf hands back to our
 * one registered callback per buffer kind (so a callback finds its table without a closure).
 */
export abstract class EventBufferTable<E> extends Table<number, number> {
  /** Records delivered since open(). */
  received = 0;
  protected decoder: RecordDecoder<E> | null = null;
  private reader: unknown = null;
  private pump: EventPump | null = null;
  readonly streamId = nextStreamId++;

  constructor(info: TableInfo, private readonly eventLayout: Layout | null) {
    super(info);
  }

  /** Creates libbpf's reader for this map; `ctx` comes back to the callbacks. */
  protected abstract createReader(ctx: bigint): unknown;
  protected abstract readerEpollFd(reader: unknown): number;
  /** Drains the reader once; true when it stopped early and more is waiting. */
  protected abstract consume(reader: unknown): boolean;
  protected abstract freeReader(reader: unknown): void;

  protected start(handler: EventHandler<E>, opts: EventStreamOptions): void {
    if (this.pump) throw new BpfError('INVALID_ARGUMENT', `${this.name} is already open`);
    this.decoder = new RecordDecoder(this.eventLayout, handler, opts);
    streams.set(this.streamId, this);
    this.reader = this.createReader(BigInt(this.streamId));
    if (!this.reader) {
      const errno = koffi.errno();
      streams.delete(this.streamId);
      throw new BpfError('LOAD', `cannot open ${this.name} for reading: ${errnoText(errno)}`, { errno });
    }
    this.pump = new EventPump([this.readerEpollFd(this.reader)], () => {
      const more = this.consume(this.reader);
      this.decoder?.settle();
      return more;
    }, opts);
  }

  /** Delivers everything buffered now, without waiting. */
  flush(): void {
    this.pump?.flush();
  }

  /** Stops delivering until resume(); the kernel keeps what fits in the buffer (see EventPump.pause). */
  pause(): void {
    this.pump?.pause();
  }

  resume(): void {
    this.pump?.resume();
  }

  /** Lets the process exit while no events arrive (for tools that end on a timer). */
  unref(): this {
    this.pump?.unref();
    return this;
  }

  override close(): void {
    this.pump?.close();
    this.pump = null;
    if (this.reader) this.freeReader(this.reader);
    this.reader = null;
    streams.delete(this.streamId);
  }
}

const streams = new Map<number, EventBufferTable<any>>();
let nextStreamId = 1;

/** The table a libbpf callback's ctx names. */
export function streamById<T extends EventBufferTable<any>>(ctx: bigint | number): T | undefined {
  return streams.get(Number(ctx)) as T | undefined;
}
