// Picking where to attach: each tool lists the attach points that would do, best first (stable
// tracepoints, then raw tracepoints, then kprobes and fentry, which depend on kernel internals),
// and the first one this kernel offers wins. The reasons the others lost are kept for --explain.
import { BpfError } from 'bcc-node-bindings';

export interface AttachCandidate<T> {
  /** How a user would name it: "tracepoint syscalls:sys_enter_execve". */
  label: string;
  /** null when usable here, else why not ("this kernel has no kprobes"). */
  unavailable(): string | null;
  value: T;
}

export interface AttachChoice {
  /** What the attach point is for: "exec entry", "I/O completion". */
  purpose: string;
  chosen: string;
  rejected: Array<{ label: string; reason: string }>;
}

export function chooseAttach<T>(purpose: string, candidates: AttachCandidate<T>[]): { value: T; choice: AttachChoice } {
  const rejected: AttachChoice['rejected'] = [];
  for (const c of candidates) {
    const reason = c.unavailable();
    if (reason === null) return { value: c.value, choice: { purpose, chosen: c.label, rejected } };
    rejected.push({ label: c.label, reason });
  }
  throw new BpfError('NOT_SUPPORTED',
    `no way to trace ${purpose} on this kernel: ${rejected.map((r) => `${r.label}: ${r.reason}`).join('; ')}`);
}
