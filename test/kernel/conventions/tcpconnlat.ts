// tcpconnlat's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  jsonRun: ['--json'],
  // Nothing need connect over TCP in that second.
  jsonMayBeEmpty: true,
  badInput: [['-1'], ['abc'], ['1', '2'], ['86400001'], ['nan'], ['-p', '999999999'], ['-p', 'x'], ['-4', '-6']],
};
