// tcplife's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  jsonRun: ['--json'],
  // A row needs a TCP connection to close meanwhile.
  jsonMayBeEmpty: true,
  badInput: [['-p', '999999999'], ['-p', 'x'], ['-L', '65536'], ['-L', '80,'], ['-D', 'http'], ['-D', '1);//'], ['-4', '-6'], ['extra']],
};
