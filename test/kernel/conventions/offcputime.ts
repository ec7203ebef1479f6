// offcputime's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  // Two seconds, then one object per stack: any machine switches tasks in that time.
  jsonRun: ['--json', '2'],
  badInput: [
    ['0'], ['-1'], ['abc'], ['1', '2'], ['-p', '1', '-t', '1'], ['-u', '-k'], ['-U', '-K'], ['-k', '-U'],
    ['-m', '0'], ['-m', '100', '-M', '10'], ['--state', 'x"); foo();//'], ['--stack-storage-size', '0'],
    ['--svg', '/nonexistent-dir/offcpu.svg'], ['-p', '99999999'],
  ],
};
