// biotop's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  jsonRun: ['--json', '-C', '1', '1'],
  // One object per interval, even an idle one; kept optional as an idle machine's table is empty.
  jsonMayBeEmpty: true,
  badInput: [['0'], ['-1'], ['abc'], ['1', '0'], ['1', 'x'], ['-p', '999999999'], ['-p', 'x'], ['-r', '0'], ['-r', 'x'],
    ['--json', '--chart']],
};
