// Sorting clang's output from a libbcc compile. Kernel headers that do not match clang (Debian's
// 6.12 headers with clang 14, for one) produce warnings users can do nothing about, so those are
// dropped; the program's own warnings and every error are kept, with clang's source line and caret.

/** The name libbcc gives a program compiled from a string. */
export const MAIN_FILE = '/virtual/main.c';

export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  severity: 'error' | 'fatal error' | 'warning';
  message: string;
  /** The diagnostic as clang printed it: its line, the source line, the caret and any notes. */
  text: string;
}

const HEAD = /^(.+?):(\d+):(\d+): (fatal error|error|warning|note): (.*)$/;

export function parseDiagnostics(output: string): Diagnostic[] {
  const found: Diagnostic[] = [];
  let current: Diagnostic | null = null;
  for (const line of output.split('\n')) {
    const head = HEAD.exec(line);
    if (head && head[4] !== 'note') {
      current = {
        file: head[1], line: Number(head[2]), column: Number(head[3]),
        severity: head[4] as Diagnostic['severity'], message: head[5], text: line,
      };
      found.push(current);
    } else if (/^In file included from |^\d+ (warning|error)s? (and \d+ errors? )?generated\.$/.test(line)) {
      current = null; // include chains and summaries belong to no diagnostic we keep
    } else if (current && line !== '') {
      current.text += `\n${line}`;
    }
  }
  return found;
}

/**
 * Diagnostics worth showing: all errors, and warnings about the program itself (its file, or a
 * header under one of its include directories) rather than about kernel headers.
 */
export function relevantDiagnostics(all: Diagnostic[], programPaths: string[] = [MAIN_FILE]): Diagnostic[] {
  const ours = (file: string) => programPaths.some((p) => file === p || file.startsWith(`${p}/`));
  return all.filter((d) => d.severity !== 'warning' || ours(d.file));
}

export function formatDiagnostics(list: Diagnostic[]): string {
  return list.map((d) => d.text).join('\n');
}
