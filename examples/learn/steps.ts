// The course's table of contents: `bpfkit learn` lists it and runs a step by its number. Step N
// is examples/learn/NN-<slug>.ts (the program) and NN-<slug>.md (its page). This file imports
// nothing, so that listing is instant.

export interface LearnStep {
  n: number;
  slug: string;
  /** One line: what the step shows. */
  title: string;
}

export const STEPS: readonly LearnStep[] = [
  { n: 1, slug: 'hello', title: 'hello: a tracepoint, one event per exec through a ring buffer' },
  { n: 2, slug: 'maps', title: 'the classic picture, live: sendmsg/recvmsg calls and bytes per process in a hash map' },
  { n: 3, slug: 'verifier', title: 'the verifier says no: three rejected programs, their logs read line by line, then the fix' },
  { n: 4, slug: 'jit', title: 'what the kernel runs: instructions after the verifier\'s rewrites, and the JIT\'s native code' },
  { n: 5, slug: 'config', title: 'maps as configuration: change a running program\'s filter from user space; per-CPU maps' },
  { n: 6, slug: 'events', title: 'one question, five event types: who calls openat, from tracepoints, kprobes, uprobes, perf events' },
  { n: 7, slug: 'sockets', title: 'socket programs: a filter on a raw socket counts packets by protocol' },
  { n: 8, slug: 'xdp', title: 'XDP: count and drop packets between two network namespaces' },
  { n: 9, slug: 'safety', title: 'safety in practice: what the verifier guarantees, what it does not, and a heavy program\'s cost' },
  { n: 10, slug: 'exporter', title: 'maps to Prometheus: an exporter for step 2\'s map in 40 lines' },
];

/** The file name of step `n`'s program or page, without extension: "03-verifier". */
export function stepBase(step: LearnStep): string {
  return `${String(step.n).padStart(2, '0')}-${step.slug}`;
}

export function stepByNumber(text: string): LearnStep | undefined {
  if (!/^\d{1,2}$/.test(text)) return undefined;
  return STEPS.find((s) => s.n === Number(text));
}
