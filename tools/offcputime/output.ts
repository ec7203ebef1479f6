// offcputime's output, as bcc's offcputime.py prints it: the header, then one block per
// (thread, stacks) total sorted smallest first (lib/output/stacks.ts lays them out), or folded
// lines (-f), or JSON objects; and the warning about stacks the kernel could not keep.
// Pure functions: the frames come in already symbolised.
import { MISSED, foldedLine, formatStack, sortByValue, stackIdFailed, type Frames, type StackLayout, type StackSample } from '../../lib/output/stacks.ts';

/** One entry of the `counts` map (struct key_t in offcputime.bpf.c) and its total in µs. */
export interface CountKey {
  pid: number;
  tgid: number;
  user_stack_id: number;
  kernel_stack_id: number;
  name: string;
}

export interface OffcpuSample extends StackSample {
  tgid: number;
}

export interface Shown {
  /** -K leaves user stacks out, -U kernel ones. */
  user: boolean;
  kernel: boolean;
}

const ENOMEM = 12;

/** What bcc's header says the run traces: "all threads", "PID 185", "user threads", … */
export function threadContext(o: { pid?: number; tid?: number; userThreads?: boolean; kernelThreads?: boolean }): string {
  if (o.pid !== undefined) return `PID ${o.pid}`;
  if (o.tid !== undefined) return `TID ${o.tid}`;
  if (o.userThreads) return 'user threads';
  if (o.kernelThreads) return 'kernel threads';
  return 'all threads';
}

export function stackContext(shown: Shown): string {
  return shown.user && shown.kernel ? 'user + kernel' : shown.user ? 'user' : 'kernel';
}

/** bcc's header line; its end depends on whether a duration was given. */
export function headerLine(threads: string, stacks: string, duration?: number): string {
  const head = `Tracing off-CPU time (us) of ${threads} by ${stacks} stack`;
  return duration === undefined ? `${head}... Hit Ctrl-C to end.` : `${head} for ${duration} secs.`;
}

/** The frames of one stack id: null when not walked, MISSED when the id is an error. */
export function framesOf(id: number, shown: boolean, walk: (id: number) => string[]): Frames {
  if (!shown) return null;
  if (stackIdFailed(id)) return MISSED;
  return id < 0 ? [] : walk(id);
}

export interface Lost {
  /** Stack ids that were errors (bcc's missing_stacks). */
  stacks: number;
  /** One of them was -ENOMEM: the stack map was full. */
  enomem: boolean;
}

export function lostStacks(keys: readonly CountKey[], shown: Shown): Lost {
  let stacks = 0;
  let enomem = false;
  for (const k of keys) {
    for (const [id, on] of [[k.kernel_stack_id, shown.kernel], [k.user_stack_id, shown.user]] as const) {
      if (!on || !stackIdFailed(id)) continue;
      stacks++;
      enomem ||= id === -ENOMEM;
    }
  }
  return { stacks, enomem };
}

/** bcc's warning, or null when every stack was kept. */
export function lostWarning(lost: Lost): string | null {
  if (lost.stacks === 0) return null;
  return `WARNING: ${lost.stacks} stack traces lost and could not be displayed.${lost.enomem ? ' Consider increasing --stack-storage-size.' : ''}`;
}

/** The printed report: blocks (with bcc's blank line first) or folded lines, smallest total first. */
export function reportText(samples: readonly OffcpuSample[], folded: boolean, layout: StackLayout): string {
  const sorted = sortByValue(samples);
  if (folded) return sorted.map((s) => `${foldedLine(s, layout)}\n`).join('');
  return `\n${sorted.map((s) => formatStack(s, layout)).join('')}`;
}

const jsonFrames = (f: Frames, missed: string): string[] | null => (f === MISSED ? [missed] : f === null ? null : [...f]);

/**
 * --json: one object per (thread, stacks), smallest total first. Fields: comm, pid (the thread,
 * as bcc prints it), tgid, kernel_stack and user_stack (frames innermost first; null when not
 * walked (-U/-K); ["[Missed Kernel Stack]"] when the kernel could not keep it), us (µs off CPU).
 */
export function jsonLines(samples: readonly OffcpuSample[]): string[] {
  return sortByValue(samples).map((s) => JSON.stringify({
    comm: s.comm,
    pid: s.pid,
    tgid: s.tgid,
    kernel_stack: jsonFrames(s.kernel, '[Missed Kernel Stack]'),
    user_stack: jsonFrames(s.user, '[Missed User Stack]'),
    us: s.value,
  }));
}
