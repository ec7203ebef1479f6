// execsnoop's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  jsonRun: ['--json'],
  badInput: [['--max-args', '0'], ['--max-args', 'abc'], ['--max-args', '99999999999'], ['-P', '-5'], ['-u', 'no_such_user_x'],
    ['-n', 'x"); foo();//('], ['-P', '999999999'], ['--cgroup', '/nonexistent'], ['-u', '']],
};
