// Picking where to attach: each tool lists the attach points that would do, best first (stable
// tracepoints, then raw tracepoints, then kprobes and fentry, which depend on kernel internals),
// and the first one this kernel offers wins. The reasons the others lost are kept for --explain,
// and so are the candidates after the winner, unevaluated: --explain shows the whole ladder.
import { BpfError } from 'bcc-node-bindings';

export interface AttachCandidate<T> {
  /** How a user would name it: "tracepoint syscalls:sys_enter_execve". */
  label: string;
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

export function chooseAttach<T>(purpose: string, candidates: AttachCandidate<T>[]): { value: T; choice: AttachChoice } {
  const rejected: AttachChoice['rejected'] = [];
  for (const [i, c] of candidates.entries()) {
    const reason = c.unavailable();
    if (reason === null) {
      return { value: c.value, choice: { purpose, chosen: c.label, rejected, fallbacks: lazyFallbacks(candidates.slice(i + 1)) } };
    }
    rejected.push({ label: c.label, reason });
  }
  throw new BpfError('NOT_SUPPORTED',
    `no way to trace ${purpose} on this kernel: ${rejected.map((r) => `${r.label}: ${r.reason}`).join('; ')}`);
}

function lazyFallbacks<T>(later: AttachCandidate<T>[]): () => Fallback[] {
  let checked: Fallback[] | undefined;
  return () => (checked ??= later.map(check));
}

// Labels can be getters that look things up (execsnoop's names the kernel function from
// /proc/kallsyms); a failure there must not end the run --explain was asked to describe.
function check<T>(c: AttachCandidate<T>): Fallback {
  let label = '(unnamed candidate)';
  try {
    label = c.label;
    return { label, reason: c.unavailable() };
  } catch (err) {
    return { label, reason: `could not tell: ${err instanceof Error ? err.message : String(err)}` };
  }
}
