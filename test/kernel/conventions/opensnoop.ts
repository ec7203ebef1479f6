// opensnoop's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  jsonRun: ['--json'],
  badInput: [['-f', 'O_BOGUS'], ['-f', 'x"); foo();//'], ['-f', 'O_WRONLY', '-f', ''], ['-p', '999999999'], ['-t', '-5'],
    ['-u', 'no_such_user_x'], ['-d', '0'], ['-d', 'abc'], ['-b', '3'], ['-b', '0'], ['--cgroupmap', '/etc/passwd'], ['-u', '']],
};
