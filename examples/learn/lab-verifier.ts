// What steps 3, 4 and 9 need to show the verifier's and the JIT's work, kept out of the steps so
// that they read as eBPF programs: a long verifier log cut to the lines that tell the story, with
// notes beside the key lines, and the instructions clang emitted for a function.
import type { BPF } from 'bcc-node-bindings';

/** The "processed N insns" part of a verifier log's statistics line. */
export function processed(log: string | undefined): string {
  return /processed \d+ insns/.exec(log ?? '')?.[0] ?? 'no statistics in the log';
}

export type Notes = Array<[RegExp, string]>;

/**
 * The log, indented, with a note after each line a pattern matches ("<- R0 may be NULL"), and
 * cut to its first `head` and last `tail` lines when it is longer (a loop's log repeats itself
 * for every iteration the verifier walked; the kernel keeps only the end of a log too long for
 * its buffer, so a long log's first line may start mid-line).
 */
export function annotate(log: string, notes: Notes, head = 40, tail = 4): string {
  const lines = log.trimEnd().split('\n').map((line) => {
    const note = notes.find(([re]) => re.test(line));
    return note ? `${line}   <- ${note[1]}` : line;
  });
  const shown = lines.length <= head + tail + 1
    ? lines
    : [...lines.slice(0, head), `… ${lines.length - head - tail} lines not shown …`, ...lines.slice(lines.length - tail)];
  return shown.map((line) => `    ${line}`).join('\n');
}

/**
 * The instructions clang emitted for `name`, as bcc loads them but before the verifier saw them
 * (map references still unfilled: map[fd:0]).
 */
export function clangInstructions(bpf: BPF, name: string): Buffer {
  return bpf.functionInstructions(name);
}
