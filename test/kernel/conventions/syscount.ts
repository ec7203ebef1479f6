// syscount's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  jsonRun: ['--json', '-i', '1', '-d', '1'],
  badInput: [['-i', '0'], ['-i', '-1'], ['-i', 'abc'], ['-p', '999999999'], ['-p', ''], ['-d', '0'], ['-T', '0'],
    ['-e', 'ENOTANERRNO'], ['--syscall', 'not_a_syscall'], ['--syscall', 'x"); foo();//']],
};
