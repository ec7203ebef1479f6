// oomkill's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  jsonRun: ['--json'],
  // Nothing is OOM-killed in those seconds (test/kernel/oomkill.test.ts provokes kills).
  jsonMayBeEmpty: true,
  // bcc's oomkill takes no arguments or filters: the metrics options are all there is to get wrong.
  badInput: [['5'], ['-p', '1'], ['--series-limit', '0'], ['--series-limit', 'x'], ['--metrics', 'nonsense'], ['--metrics-and-print']],
};
