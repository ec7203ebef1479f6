// What perf buffers and ring buffers share: turning a C record into the object a handler gets,
// and making sure one handler's exception neither loses the other events of a drain nor vanishes.
import { libc } from './ffi/libc.ts';
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
