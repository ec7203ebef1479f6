// Stack ids as frame names, as bcc's offcputime prints them: kernel frames as BPF.ksym(addr) and
// user frames as BPF.sym(addr, tgid) — function names without offsets or modules, "[unknown]"
// where nothing names the address. A stack id shared by many threads is walked and named once.
import { Symbolizer, formatFrame, type StackTraceTable } from 'bcc-node-bindings';

// On the raw tracepoint the walk starts in our own program and the kernel's glue that ran it;
// they say nothing about why the thread blocked, and the tracepoint's stacks have neither.
const PROBE_FRAME = /^(bpf_prog_[0-9a-f]+_|bpf_trace_run\d+$|__bpf_trace_)/;

/** Kernel frames without the probe's own frames on top. */
export function withoutProbeFrames(frames: string[]): string[] {
  let skip = 0;
  while (skip < frames.length && PROBE_FRAME.test(frames[skip])) skip++;
  return skip ? frames.slice(skip) : frames;
}

export class StackNames {
  private readonly symbolizer = new Symbolizer();
  private readonly kernelStacks = new Map<number, string[]>();
  private readonly userStacks = new Map<string, string[]>();
  private readonly remembered = new Set<number>();

  constructor(private readonly table: StackTraceTable) {}

  /**
   * Keeps a process's mappings from now on, so that its user stacks are named after it exits.
   * Called as processes are first counted, not at the end: by then many have gone.
   */
  remember(tgid: number): void {
    if (tgid === 0 || this.remembered.has(tgid)) return;
    this.remembered.add(tgid);
    this.symbolizer.remember(tgid);
  }

  kernel(stackId: number): string[] {
    let frames = this.kernelStacks.get(stackId);
    if (!frames) {
      frames = withoutProbeFrames(this.table.walk(stackId).map((addr) => formatFrame(this.symbolizer.kernel(addr))));
      this.kernelStacks.set(stackId, frames);
    }
    return frames;
  }

  /** Named by the process (bcc symbolises by tgid: one resolver per process, not per thread). */
  user(tgid: number, stackId: number): string[] {
    const key = `${tgid}:${stackId}`;
    let frames = this.userStacks.get(key);
    if (!frames) {
      frames = this.symbolizer.user(tgid, this.table.walk(stackId)).map((f) => formatFrame(f));
      this.userStacks.set(key, frames);
    }
    return frames;
  }
}
