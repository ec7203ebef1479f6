// Delivering perf- and ring-buffer events on Node's event loop without blocking it or spinning.
//
// Each buffer exposes file descriptors that become readable when events arrive: one per CPU for
// a perf buffer, a single epoll fd for libbpf's ring buffer. We watch them with libuv's own poller
// (koffi.node.poll, a uv_poll_t), so no thread is parked in a blocking call and nothing runs while
// the buffers are idle. When one turns readable we stop watching, wait a couple of milliseconds so
// that a burst is drained in one pass rather than one wake-up per event, then drain it on the main
// thread (perf_reader_consume / bpf_consume_ringbuf call our callbacks synchronously) and watch
// again. uv_poll is level-triggered: events that arrived during the drain wake us at once.
import koffi from 'koffi';

export interface PumpOptions {
  /** Wait this long after a wake-up before draining, to batch a burst (default 2 ms; 0 drains at once). */
  coalesceMs?: number;
}

export class EventPump {
  private readonly handles: Array<ReturnType<typeof koffi.node.poll>>;
  private readonly coalesceMs: number;
  private pending: NodeJS.Timeout | NodeJS.Immediate | null = null;
  private closed = false;
  private paused = false;

  /** `drain` returns true when it stopped early (a budget) and more is waiting. */
  constructor(fds: number[], private readonly drain: () => boolean, opts: PumpOptions = {}) {
    this.coalesceMs = opts.coalesceMs ?? 2;
    this.handles = fds.map((fd) => koffi.node.poll(fd, { readable: true }, () => this.wake()));
  }

  private wake(): void {
    if (this.pending || this.closed || this.paused) return;
    for (const h of this.handles) h.stop();
    this.pending = this.coalesceMs > 0 ? setTimeout(() => this.run(), this.coalesceMs) : setImmediate(() => this.run());
  }

  private run(): void {
    this.pending = null;
    if (this.closed) return;
    let more = false;
    try {
      more = this.drain();
    } finally {
      if (!this.closed && !this.paused) {
        if (more) this.pending = setImmediate(() => this.run());
        else for (const h of this.handles) h.start({ readable: true }, () => this.wake());
      }
    }
  }

  /** Drains whatever is buffered now, synchronously (used before closing, so no event is lost). */
  flush(): void {
    while (!this.closed && this.drain()) { /* until the budget is no longer hit */ }
  }

  /**
   * Stops draining until resume(): events wait in the buffer, and what no longer fits there is
   * dropped and counted by the kernel. For a reader that cannot keep up (its output is blocked),
   * this keeps memory bounded by the buffer instead of growing with the backlog.
   */
  pause(): void {
    if (this.paused || this.closed) return;
    this.paused = true;
    if (this.pending) {
      clearTimeout(this.pending as NodeJS.Timeout);
      clearImmediate(this.pending as NodeJS.Immediate);
      this.pending = null;
    }
    for (const h of this.handles) h.stop();
  }

  resume(): void {
    if (!this.paused || this.closed) return;
    this.paused = false;
    // Level-triggered: a buffer that filled meanwhile wakes us at once.
    for (const h of this.handles) h.start({ readable: true }, () => this.wake());
  }

  /** Lets the process exit while the pump is idle (for tools that end on a timer, not on events). */
  unref(): void {
    for (const h of this.handles) h.unref();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pending) {
      clearTimeout(this.pending as NodeJS.Timeout);
      clearImmediate(this.pending as NodeJS.Immediate);
    }
    for (const h of this.handles) h.close();
  }
}
