// tcpdrop's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  jsonRun: ['--json'],
  // Nothing need be dropped in that second.
  jsonMayBeEmpty: true,
  badInput: [['-4', '-6'], ['1'], ['-x'], ['--series-limit', '0']],
};
