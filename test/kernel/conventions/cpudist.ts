// cpudist's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  // One ungrouped histogram per interval, printed even when empty.
  jsonRun: ['--json', '1', '1'],
  badInput: [['0'], ['-1'], ['abc'], ['1', '0'], ['1', 'x'], ['-p', '999999999'], ['-p', '1"); foo();//'], ['--json', '--chart']],
};
