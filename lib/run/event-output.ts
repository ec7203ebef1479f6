// The output side every snoop tool shares (execsnoop, opensnoop, killsnoop, …): lines gathered
// while a buffer drains and written once per drain, records the kernel could not deliver reported
// on stderr, and kernel timestamps turned into the wall-clock and relative times bcc prints.
import { clock } from '../output/format.ts';
import type { BPF } from 'bcc-node-bindings';
import type { EventChannel } from './event-channel.ts';
import type { ToolProgram } from './program.ts';

/**
 * Lines written in one write per drain: a drain hands over hundreds of records in a burst, and
 * one write per line would cost more than decoding them. A drain can hand over 10,000 records
 * (a flood of opens): they are written in slices of SLICE_LINES, so that few lines live long
 * enough to be promoted to V8's old generation.
 */
const SLICE_LINES = 512;

export class LineBatch {
  private readonly lines: string[] = [];
  private queued = false;

  constructor(private readonly print: (text: string) => void) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length >= SLICE_LINES) this.flush();
    else if (!this.queued) {
      this.queued = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.queued = false;
    if (this.lines.length) this.print(this.lines.splice(0).join('\n'));
  }
}

/** Says on stderr, once a second and at the end, how many events the kernel could not deliver. */
export class LostReporter {
  private reported = 0n;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly channel: EventChannel, private readonly warn: (message: string) => void) {}

  start(): void {
    this.timer ??= setInterval(() => this.report(), 1000);
  }

  /** The final report: after the channel's last flush. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.report();
  }

  private report(): void {
    const lost = this.channel.lost();
    if (lost > this.reported) {
      this.warn(`lost ${lost - this.reported} events (the ${this.channel.kind} buffer was full)`);
      this.reported = lost;
    }
  }
}

/**
 * Kernel timestamps (bpf_ktime_get_ns(): CLOCK_MONOTONIC, as process.hrtime()) as wall-clock
 * times and as seconds since tracing began; one offset does it. Call start() just before
 * attaching: TIME(s) counts from there.
 */
export class EventClock {
  private startNs = 0n;
  private wallOffsetMs = 0;
  private cachedSecond = -1;
  private cachedText = '';

  start(): void {
    this.startNs = process.hrtime.bigint();
    this.wallOffsetMs = Date.now() - Number(this.startNs) / 1e6;
  }

  /** The wall-clock time of a timestamp. */
  date(ts: bigint): Date {
    return new Date(Number(ts) / 1e6 + this.wallOffsetMs);
  }

  /** "HH:MM:SS" of a timestamp (bcc's TIME column), formatted once per second of events. */
  clock(ts: bigint): string {
    const second = Math.floor((Number(ts) / 1e6 + this.wallOffsetMs) / 1000);
    if (second !== this.cachedSecond) {
      this.cachedSecond = second;
      this.cachedText = clock(new Date(second * 1000));
    }
    return this.cachedText;
  }

  /** Seconds since start(), as bcc's "%-8.3f" TIME(s) column. */
  seconds(ts: bigint): string {
    return (Number(ts - this.startNs) / 1e9).toFixed(3);
  }
}

/** What streamUntilStopped prints and flushes around the attach. */
export interface EventStream {
  /** The column header, or null when nothing comes before the rows (--json, metrics only). */
  header: string | null;
  /** The lines the records became, flushed once the last buffer is drained. */
  out?: LineBatch;
  /** Started just before the attach: TIME(s) counts from there. */
  clock?: EventClock;
  /** Runs once the probes are attached (a check that needs them in place). */
  attached?(): void;
}

/**
 * A snoop tool's run once its event channel is open (open it before attaching: a perf buffer
 * drops what arrives before its readers exist): the header, the attach, lost records reported
 * each second, and at Ctrl-C, SIGTERM or a closed pipe the last records drained and printed.
 */
export async function streamUntilStopped(
  ctx: { attach(bpf: BPF, program: ToolProgram): void; print(line: string): void; warn(message: string): void; stopped: Promise<void> },
  bpf: BPF, program: ToolProgram, events: EventChannel, stream: EventStream,
): Promise<void> {
  const lost = new LostReporter(events, ctx.warn);
  stream.clock?.start();
  if (stream.header !== null) ctx.print(stream.header);
  ctx.attach(bpf, program);
  stream.attached?.();
  lost.start();
  await ctx.stopped;
  events.flush();
  stream.out?.flush();
  lost.stop();
}
