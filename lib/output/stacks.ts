// Stack traces as bcc's profile and offcputime print them: one block per stack (frames innermost
// first, four spaces in, then "-  comm (pid)" and the value), or one folded line per stack
// ("comm;outer;...;inner value") that flamegraph.pl, speedscope and our --svg read.
// The frames arrive here already symbolised; this file only lays them out.

/** A stack whose id get_stackid() could not give (map full, hash collision): printed as such. */
export const MISSED = 'missed';
export type Frames = readonly string[] | typeof MISSED | null;

export const MISSED_KERNEL_STACK = '[Missed Kernel Stack]';
export const MISSED_USER_STACK = '[Missed User Stack]';

const EFAULT = 14;

/**
 * Whether a stack id from bpf_get_stackid() is a failure worth reporting. -EFAULT is not: it is
 * what a kernel thread's user stack gives (there is none), and bcc counts it as no stack.
 */
export function stackIdFailed(id: number): boolean {
  return id < 0 && id !== -EFAULT;
}

export interface StackSample {
  comm: string;
  pid: number;
  /** Kernel frames, innermost first; null when not collected (-U), MISSED when the id failed. */
  kernel: Frames;
  /** User frames, innermost first; null when not collected (-K), MISSED when the id failed. */
  user: Frames;
  /** Samples (profile) or microseconds (offcputime). */
  value: number;
}

export interface StackLayout {
  /** -d: a "--" line (or "-" frame when folded) between the kernel and user stacks. */
  delimiter?: boolean;
}

const hasFrames = (f: Frames): f is readonly string[] => f !== null && f !== MISSED;

/** The multi-line block bcc prints for one stack, ending with the blank line after the value. */
export function formatStack(s: StackSample, layout: StackLayout = {}): string {
  const lines: string[] = [];
  if (s.kernel === MISSED) lines.push(`    ${MISSED_KERNEL_STACK}`);
  else if (s.kernel) for (const f of s.kernel) lines.push(`    ${f}`);
  if (s.user !== null) {
    // bcc prints the delimiter only when both stacks were walked (not for a missed one).
    if (layout.delimiter && hasFrames(s.kernel) && hasFrames(s.user)) lines.push('    --');
    if (s.user === MISSED) lines.push(`    ${MISSED_USER_STACK}`);
    else for (const f of s.user) lines.push(`    ${f}`);
  }
  lines.push(`    ${'-'.padEnd(16)} ${s.comm} (${s.pid})`);
  lines.push(`        ${s.value}`);
  return `${lines.join('\n')}\n\n`;
}

/** The stack outermost first, as a folded line names it: comm, user frames, ["-",] kernel frames. */
export function foldedFrames(s: StackSample, layout: StackLayout = {}): string[] {
  const frames = [s.comm];
  if (s.user === MISSED) frames.push(MISSED_USER_STACK);
  else if (s.user) frames.push(...[...s.user].reverse());
  if (s.kernel !== null) {
    if (layout.delimiter && hasFrames(s.kernel) && hasFrames(s.user)) frames.push('-');
    if (s.kernel === MISSED) frames.push(MISSED_KERNEL_STACK);
    else frames.push(...[...s.kernel].reverse());
  }
  return frames;
}

/**
 * One line of folded output. A ';' inside a frame would split it in two for every reader of the
 * format (C++ operators, Go closures rarely; comm names can hold anything): it becomes ':'.
 */
export function foldedLine(s: StackSample, layout: StackLayout = {}): string {
  return `${foldedFrames(s, layout).map((f) => f.replaceAll(';', ':')).join(';')} ${s.value}`;
}

/** The blocks or folded lines sorted as bcc sorts them: by value, smallest first. */
export function sortByValue<T extends { value: number }>(samples: readonly T[]): T[] {
  return [...samples].sort((a, b) => a.value - b.value);
}

/**
 * Stacks that read the same once named, added together. The kernel keys a stack by its addresses,
 * so samples at different instructions of one function are different stacks to it; bcc prints
 * each, which splits one line of a report into many. Named, they are one stack, and one line.
 */
export function mergeSamples(samples: readonly StackSample[]): StackSample[] {
  const merged = new Map<string, StackSample>();
  const text = (f: Frames) => (f === null ? '\u0001' : f === MISSED ? '\u0002' : f.join('\u0000'));
  for (const s of samples) {
    const key = [s.comm, s.pid, text(s.kernel), text(s.user)].join('\u0003');
    const known = merged.get(key);
    if (known) known.value += s.value;
    else merged.set(key, { ...s });
  }
  return [...merged.values()];
}
