// runqlen's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  // A sampler prints its histogram every interval, busy or idle (one object for all CPUs).
  jsonRun: ['--json', '1', '1'],
  badInput: [['0'], ['-1'], ['abc'], ['1', '0'], ['1', 'x'], ['-f', '0'], ['-f', 'x'], ['-f', '100000'], ['--json', '--chart']],
};
