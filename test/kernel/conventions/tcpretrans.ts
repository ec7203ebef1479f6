// tcpretrans's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  jsonRun: ['--json'],
  // Nothing need be retransmitted meanwhile.
  jsonMayBeEmpty: true,
  badInput: [['-4', '-6'], ['5'], ['-x'], ['--series-limit', '0'], ['--metrics', 'x"); evil']],
};
