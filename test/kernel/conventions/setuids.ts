// setuids' part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  jsonRun: ['--json'],
  // Nothing changes its ids while the test runs --help: a quiet machine makes no setuid call.
  jsonMayBeEmpty: true,
  badInput: [['-p', '-5'], ['-p', '999999999'], ['-p', 'abc'], ['-p', '1); foo();//'], ['-T', 'extra'], ['-p']],
};
