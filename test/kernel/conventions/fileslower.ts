// fileslower's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  // min_ms 0 with -a: every read and write of a named file (the --help runs read their sources).
  jsonRun: ['--json', '-a', '0'],
  badInput: [['-p', '999999999'], ['-p', '0'], ['abc'], ['1.5'], ['10', '20'], ['86400001'], ['--', '-1'], ['x"); foo();//']],
};
