// biosnoop's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  jsonRun: ['--json'],
  // An idle machine may complete no block I/O in a second or two.
  jsonMayBeEmpty: true,
  badInput: [['-d', 'x"); foo();//'], ['-d', 'nodisk'], ['-m', 'abc'], ['-m', '1.5'], ['0'], ['abc'], ['1', '2']],
};
