// bitesize's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  jsonRun: ['--json', '1', '1'],
  // An idle machine may do no block I/O in a second.
  jsonMayBeEmpty: true,
  badInput: [['0'], ['-1'], ['abc'], ['1', '0'], ['1', 'x'], ['-d', 'x"); foo();//'], ['-d', 'nodisk'], ['-c'], ['1', '2', '3']],
};
