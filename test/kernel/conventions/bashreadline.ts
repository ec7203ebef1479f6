// bashreadline's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  jsonRun: ['--json'],
  // Nobody types into a bash in those seconds (test/kernel/bashreadline.test.ts types into one).
  jsonMayBeEmpty: true,
  // -s names a file: missing, not a file, not ELF, or ELF without readline (/bin/true). bcc's
  // tool takes no positional argument.
  badInput: [['-s', '/nonexistent/libreadline.so'], ['-s', '/'], ['-s', '/proc/self/status'], ['-s', '/bin/true'], ['-s'], ['bash']],
};
