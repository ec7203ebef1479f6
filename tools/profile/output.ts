// From the kernel's counts to what profile prints: the header, each counted key with its stacks
// walked and symbolised (one batch per process), bcc's blocks or folded lines, the JSON objects,
// the flame graph's stacks and the warning for stacks that could not be recorded.
import type { Frame } from 'bcc-node-bindings';
import { MISSED, foldedFrames, foldedLine, formatStack, mergeSamples, sortByValue, stackIdFailed, type Frames, type StackLayout, type StackSample } from '../../lib/output/stacks.ts';
import type { FlameStack } from '../../lib/output/flamegraph.ts';
import { FOREVER } from './options.ts';

/** A key of the counts map (profile.bpf.c's struct key_t), decoded. */
export interface CountKey {
  pid: number;
  tid: number;
  user_stack_id: number;
  kernel_stack_id: number;
  name: string;
}

/** What names addresses: the binding's Symbolizer, or a stand-in in the tests. */
export interface Resolver {
  kernel(addr: bigint): Frame;
  user(pid: number, addrs: readonly bigint[]): Frame[];
}

/** Frames of one stack as resolved: null when not collected, MISSED when its id failed. */
export type ResolvedFrames = readonly Frame[] | typeof MISSED | null;

export interface ResolvedStack {
  comm: string;
  pid: number;
  /** The thread, when counted per thread (-L with --json). */
  tid?: number;
  value: number;
  kernel: ResolvedFrames;
  user: ResolvedFrames;
}

export interface Collected {
  stacks: ResolvedStack[];
  /** Stack ids that failed (bcc counts each key's kernel and user failure). */
  missing: number;
  /** One of them was a hash collision in the stack map (-EEXIST): more storage would help. */
  collision: boolean;
  /** Distinct user addresses named, processes they came from, and the time it took. */
  addresses: number;
  processes: number;
  symboliseMs: number;
}

const EEXIST = 17;

export interface CollectOptions {
  kernelStacks: boolean;
  userStacks: boolean;
  perThread: boolean;
}

/**
 * Walks every key's stacks (each stack id once) and names their addresses: the user ones in one
 * batch per process, so that a process's maps and files are read once however many stacks it has.
 */
export function collect(entries: ReadonlyArray<[CountKey, bigint]>, walk: (id: number) => bigint[], resolver: Resolver, o: CollectOptions): Collected {
  const walked = new Map<number, bigint[]>();
  const addrsOf = (id: number) => {
    let addrs = walked.get(id);
    if (!addrs) walked.set(id, addrs = walk(id));
    return addrs;
  };
  let missing = 0;
  let collision = false;
  const raw = entries.map(([key, value]) => {
    const side = (wanted: boolean, id: number): bigint[] | typeof MISSED | null => {
      if (!wanted) return null;
      if (stackIdFailed(id)) {
        missing++;
        collision ||= id === -EEXIST;
        return MISSED;
      }
      return id < 0 ? [] : addrsOf(id);
    };
    return { key, value, kernel: side(o.kernelStacks, key.kernel_stack_id), user: side(o.userStacks, key.user_stack_id) };
  });

  const started = performance.now();
  const userAddrs = new Map<number, Set<bigint>>();
  for (const r of raw) {
    if (!Array.isArray(r.user)) continue;
    let set = userAddrs.get(r.key.pid);
    if (!set) userAddrs.set(r.key.pid, set = new Set());
    for (const a of r.user) set.add(a);
  }
  const userFrames = new Map<number, Map<bigint, Frame>>();
  let addresses = 0;
  for (const [pid, set] of userAddrs) {
    const addrs = [...set];
    addresses += addrs.length;
    const frames = resolver.user(pid, addrs);
    userFrames.set(pid, new Map(addrs.map((a, i) => [a, frames[i]])));
  }
  const kernelFrames = new Map<bigint, Frame>();
  const kernelFrame = (a: bigint) => {
    let f = kernelFrames.get(a);
    if (!f) kernelFrames.set(a, f = resolver.kernel(a));
    return f;
  };
  const stacks = raw.map((r): ResolvedStack => ({
    comm: r.key.name,
    pid: r.key.pid,
    ...(o.perThread ? { tid: r.key.tid } : {}),
    value: Number(r.value),
    kernel: Array.isArray(r.kernel) ? r.kernel.map(kernelFrame) : r.kernel as ResolvedFrames,
    user: Array.isArray(r.user) ? r.user.map((a) => userFrames.get(r.key.pid)!.get(a)!) : r.user as ResolvedFrames,
  }));
  return { stacks, missing, collision, addresses: addresses + kernelFrames.size, processes: userAddrs.size, symboliseMs: performance.now() - started };
}

/** bcc's text of a frame in profile: the function's name alone, or [unknown]. */
export function frameName(f: Frame): string {
  return f.name ?? '[unknown]';
}

/**
 * The flame graph's text of a frame: where nothing names it, the file it is in ("[liblzma.so.5]",
 * as perf's stackcollapse does), so that a stripped library's time is still attributed to it.
 */
export function flameFrameName(f: Frame): string {
  if (f.name !== null || !f.module) return frameName(f);
  return `[${f.module.slice(f.module.lastIndexOf('/') + 1)}]`;
}

export interface TextOptions extends StackLayout {
  /** -a: "_[k]" after each kernel frame. */
  annotations?: boolean;
  /** Name unnamed frames by their file (flameFrameName), for the flame graph. */
  modules?: boolean;
}

/** A resolved stack as the shared printer takes it. */
export function toSample(s: ResolvedStack, o: TextOptions = {}): StackSample {
  // No frames (a kernel stack of a sample taken in user mode, a kernel thread's user stack) is
  // printed as bcc prints it: nothing, and no -d delimiter next to it.
  const names = (frames: ResolvedFrames, suffix: string): Frames =>
    frames === null || frames === MISSED ? frames : frames.length === 0 ? null : frames.map((f) => (o.modules ? flameFrameName(f) : frameName(f)) + suffix);
  return { comm: s.comm, pid: s.pid, value: s.value, kernel: names(s.kernel, o.annotations ? '_[k]' : ''), user: names(s.user, '') };
}

/** Every stack as bcc prints it, smallest count first: the blocks, or -f's folded lines. */
export function stackLines(stacks: readonly ResolvedStack[], o: TextOptions & { folded: boolean }): string {
  const layout: StackLayout = { delimiter: o.delimiter };
  const samples = sortByValue(mergeSamples(stacks.map((s) => toSample(s, o))));
  if (o.folded) return samples.map((s) => `${foldedLine(s, layout)}\n`).join('');
  return samples.map((s) => formatStack(s, layout)).join('');
}

/**
 * The flame graph's stacks: frames outermost first, as the folded lines name them, kernel frames
 * marked "_[k]" (flamegraph.pl's convention, which the SVG colours by).
 */
export function flameStacks(stacks: readonly ResolvedStack[], o: TextOptions = {}): FlameStack[] {
  return stacks.map((s) => ({ frames: foldedFrames(toSample(s, { ...o, annotations: true, modules: true }), { delimiter: o.delimiter }), value: s.value }));
}

const jsonFrame = (f: Frame) => ({ name: f.name, offset: f.offset, module: f.module ?? null, addr: `0x${f.addr.toString(16)}` });

/** One --json object per stack (fields in tools/profile/README.md). */
export function jsonStack(s: ResolvedStack): Record<string, unknown> {
  const frames = (f: ResolvedFrames) => (f === null || f === MISSED ? null : f.map(jsonFrame));
  const missed = [...(s.kernel === MISSED ? ['kernel'] : []), ...(s.user === MISSED ? ['user'] : [])];
  return {
    comm: s.comm,
    pid: s.pid,
    ...(s.tid !== undefined ? { tid: s.tid } : {}),
    value: s.value,
    kernel: frames(s.kernel),
    user: frames(s.user),
    missed,
  };
}

export interface HeaderOptions {
  frequency?: number;
  period?: number;
  pids?: readonly number[];
  tids?: readonly number[];
  kernelStacks: boolean;
  userStacks: boolean;
  cpu: number;
  duration: number;
}

/** bcc's first line: "Sampling at 49 Hertz of all threads by user + kernel stack... Hit Ctrl-C to end." */
export function headerLine(o: HeaderOptions): string {
  const sampling = o.period !== undefined ? `every ${o.period} events` : `${o.frequency ?? 49} Hertz`;
  // Python prints the list: [185] or [185, 186].
  const who = o.pids ? `PID [${o.pids.join(', ')}]` : o.tids ? `TID [${o.tids.join(', ')}]` : 'all threads';
  const stacks = !o.kernelStacks ? 'user' : !o.userStacks ? 'kernel' : 'user + kernel';
  const where = o.cpu >= 0 ? ` on CPU#${o.cpu}` : '';
  const until = o.duration < FOREVER ? ` for ${o.duration} secs.` : '... Hit Ctrl-C to end.';
  return `Sampling at ${sampling} of ${who} by ${stacks} stack${where}${until}`;
}

/** bcc's warning for stack ids that failed, or null. */
export function missingWarning(c: Pick<Collected, 'missing' | 'collision'>): string | null {
  if (c.missing === 0) return null;
  return `WARNING: ${c.missing} stack traces could not be displayed.${c.collision ? ' Consider increasing --stack-storage-size.' : ''}`;
}
