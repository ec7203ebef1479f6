// What each tool adds to the conventions test: one file per tool, test/kernel/conventions/<tool>.ts.

export interface ToolConventions {
  /** Operands the tool needs to run at all (pktcount: an interface), after --explain. */
  args?: string[];
  /** Arguments that make the tool print JSON lines within a second or two (the test runs
   * `<tool> --help` three times meanwhile: execs and syscalls for it to see). */
  jsonRun: string[];
  /** The JSON run may print nothing on a quiet machine (no I/O, no TCP). */
  jsonMayBeEmpty?: boolean;
  /** Bad input the tool must refuse with one line on stderr and exit 2, beyond the common cases. */
  badInput: string[][];
}
