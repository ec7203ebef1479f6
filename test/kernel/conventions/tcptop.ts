// tcptop's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  jsonRun: ['--json', '-C', '1', '1'],
  // Nothing need move over TCP in that second.
  jsonMayBeEmpty: true,
  badInput: [['0'], ['-1'], ['abc'], ['-p', '999999999'], ['-p', 'x'], ['--sort', 'bogus'], ['-n', '0'],
    ['--cgroupmap', '/etc/passwd']],
};
