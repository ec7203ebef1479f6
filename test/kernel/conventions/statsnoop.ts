// statsnoop's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  // The test's own `statsnoop --help` runs stat their way through node's start-up.
  jsonRun: ['--json'],
  badInput: [['-p', '-5'], ['-p', 'abc'], ['-p', '999999999'], ['-p', ''], ['-p', '1; foo()'], ['-s', '-p']],
};
