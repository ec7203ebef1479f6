// capable's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  jsonRun: ['--json'],
  // A quiet machine may check no capability within the run (the tool leaves its own checks out).
  jsonMayBeEmpty: true,
  badInput: [['-p', '-5'], ['-p', '999999999'], ['-p', 'abc'], ['-p'], ['--cgroupmap', '/tmp/no-map'], ['1'], ['--series-limit', '0']],
};
