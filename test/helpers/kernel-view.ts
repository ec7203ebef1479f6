// Stand-in kernels for the tools' configuration functions (tools/<tool>/program.ts): a plan is
// tested by handing it a KernelView that has, or lacks, what a real kernel would.
import type { KernelView } from '../../lib/kernel/view.ts';

export interface FakeKernel extends Partial<KernelView> {
  /** Tracepoints this kernel lacks, as "category:event" or just "event". */
  missing?: string[];
  /** Fields of tracepoints, as "category:event" → names; others have none listed (null when missing). */
  fields?: Record<string, string[]>;
  /** BTF offsets it answers, as "struct.field"; any other field is unknown. */
  offsets?: Record<string, number>;
}

/** A kernel like the development VM's 6.18: every tracepoint, raw tracepoints, ring buffers, BTF; no kprobes, no fentry. */
export function fakeKernel({ missing = [], fields = {}, offsets = {}, ...overrides }: FakeKernel = {}): KernelView {
  const lacks = new Set(missing);
  return {
    tracepoint: (category, event) => !lacks.has(`${category}:${event}`) && !lacks.has(event),
    tracepointFields: (category, event) => (lacks.has(`${category}:${event}`) || lacks.has(event) ? null : fields[`${category}:${event}`] ?? []),
    rawTracepoints: () => true,
    kprobes: () => false,
    kernelFunction: () => true,
    syscallFunction: (name) => `__x64_sys_${name}`,
    fentry: () => false,
    ringBuffer: () => true,
    offset: (struct, field) => offsets[`${struct}.${field}`],
    rawArg: () => 0,
    release: '6.18.0',
    cpus: () => 2,
    ...overrides,
  };
}
