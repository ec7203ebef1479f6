// Picking where to attach: each tool lists the attach points that would do, best first (stable
// tracepoints, then raw tracepoints, then kprobes and fentry, which depend on kernel internals),
// and the first one this kernel offers wins. The reasons the others lost are kept for --explain,
// and so are the candidates after the winner, unevaluated: --explain shows the whole ladder.
// BPFKIT_AVOID=fentry,tracepoint rules kinds of attach point out, to run (and test) a rung this
// kernel would otherwise never reach: the kprobe one of a kernel that also has fentry.
import { BpfError } from 'bcc-node-bindings';

export const ATTACH_KINDS = ['tracepoint', 'raw_tracepoint', 'fentry', 'kprobe'] as const;
export type AttachKind = typeof ATTACH_KINDS[number];

export interface AttachCandidate<T> {
  /** How a user would name it: "tracepoint syscalls:sys_enter_execve". */
  label: string;
  /**
   * What BPFKIT_AVOID can rule it out as; by default what the label starts with ("raw tracepoint
   * …", "tracepoints …", "kprobe …", "fexit …"). Other candidates are never ruled out.
   */
  kind?: AttachKind;
  /** null when usable here, else why not ("this kernel has no kprobes"). */
  unavailable(): string | null;
  value: T;
}

/** A candidate after the winner, as --explain shows it: reason null when it would do here too. */
export interface Fallback {
  label: string;
  reason: string | null;
}

export interface AttachChoice {
  /** What the attach point is for: "exec entry", "I/O completion". */
  purpose: string;
  chosen: string;
  /** The candidates before the winner, each with why this kernel could not use it. */
  rejected: Array<{ label: string; reason: string }>;
  /**
   * The candidates after the winner, checked only when called (by --explain) and then once:
   * checking costs on a normal run (reading /proc/kallsyms takes ~100 ms) and tells it nothing.
   * Absent when the choice was not made by chooseAttach.
   */
  fallbacks?: () => Fallback[];
}

/** The kinds BPFKIT_AVOID names (words that are not kinds are ignored). */
export function avoidedKinds(env: NodeJS.ProcessEnv = process.env): Set<AttachKind> {
  const words = (env.BPFKIT_AVOID ?? '').split(',').map((w) => w.trim());
  return new Set(ATTACH_KINDS.filter((kind) => words.includes(kind)));
}

const LABEL_KINDS: Array<[RegExp, AttachKind]> = [
  [/^raw tracepoints? /, 'raw_tracepoint'], [/^tracepoints? /, 'tracepoint'], [/^kprobes? /, 'kprobe'], [/^(fentry|fexit) /, 'fentry'],
];

function kindOf<T>(c: AttachCandidate<T>): AttachKind | undefined {
  if (c.kind) return c.kind;
  const label = c.label;
  return LABEL_KINDS.find(([pattern]) => pattern.test(label))?.[1];
}

function reasonAgainst<T>(c: AttachCandidate<T>, avoided: Set<AttachKind>): string | null {
  // Some labels look the kernel up (/proc/kallsyms): read only when something is to be avoided.
  if (avoided.size) {
    const kind = kindOf(c);
    if (kind && avoided.has(kind)) return `excluded by BPFKIT_AVOID=${[...avoided].join(',')}`;
  }
  return c.unavailable();
}

export function chooseAttach<T>(purpose: string, candidates: AttachCandidate<T>[]): { value: T; choice: AttachChoice } {
  const rejected: AttachChoice['rejected'] = [];
  const avoided = avoidedKinds();
  for (const [i, c] of candidates.entries()) {
    const reason = reasonAgainst(c, avoided);
    if (reason === null) {
      return { value: c.value, choice: { purpose, chosen: c.label, rejected, fallbacks: lazyFallbacks(candidates.slice(i + 1), avoided) } };
    }
    rejected.push({ label: c.label, reason });
  }
  throw new BpfError('NOT_SUPPORTED',
    `no way to trace ${purpose} on this kernel: ${rejected.map((r) => `${r.label}: ${r.reason}`).join('; ')}`);
}

function lazyFallbacks<T>(later: AttachCandidate<T>[], avoided: Set<AttachKind>): () => Fallback[] {
  let checked: Fallback[] | undefined;
  return () => (checked ??= later.map((c) => check(c, avoided)));
}

// Labels can be getters that look things up (execsnoop's names the kernel function from
// /proc/kallsyms); a failure there must not end the run --explain was asked to describe.
function check<T>(c: AttachCandidate<T>, avoided: Set<AttachKind>): Fallback {
  let label = '(unnamed candidate)';
  try {
    label = c.label;
    return { label, reason: reasonAgainst(c, avoided) };
  } catch (err) {
    return { label, reason: `could not tell: ${err instanceof Error ? err.message : String(err)}` };
  }
}
