// exitsnoop's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  // Each `--help` run the test makes is a process that ends.
  jsonRun: ['--json'],
  badInput: [['-p', '0'], ['-p', 'abc'], ['-p', '-5'], ['-p', '999999999'], ['-p', '99999999999'], ['--label'], ['--label', ''],
    ['--series-limit', '0'], ['--metrics', 'not-a-port'], ['--metrics-and-print']],
};
