// killsnoop's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  jsonRun: ['--json'],
  // A quiet machine may send no signal by syscall within the run.
  jsonMayBeEmpty: true,
  badInput: [['-s', 'NOSUCH'], ['-s', '65'], ['-s', '9,'], ['-s', 'KILL"); foo();//('], ['-p', '-5'], ['-p', '999999999'],
    ['-T', 'abc'], ['-T', '0'], ['-s', ''], ['--series-limit', '0']],
};
