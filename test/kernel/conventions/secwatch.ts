// secwatch's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  jsonRun: ['--json'],
  // The default rules watch what a quiet machine does not do (a shadow read, a write below /etc…).
  jsonMayBeEmpty: true,
  badInput: [
    ['-p', '-5'], ['-p', '999999999'], ['-p', 'abc'], ['-p'],
    ['--only', 'nosuch'], ['--skip', 'nosuch'], ['--kill', 'Bad_Id'], ['--deny', ''],
    ['--rules', '/nonexistent/rules.yaml'], ['1'],
  ],
};
