// Errors a tool raises itself, beyond the binding's BpfError: each maps to an exit status in
// lib/run/tool.ts (2 for what the user can fix: bad usage, a missing prerequisite).

/** Something this machine lacks for what was asked (a tracepoint, a kernel feature): exit 2. */
export class MissingPrerequisite extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingPrerequisite';
  }
}
