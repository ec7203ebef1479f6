// tcpaccept's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  jsonRun: ['--json'],
  // Nothing need accept a TCP connection meanwhile.
  jsonMayBeEmpty: true,
  badInput: [['-4', '-6'], ['-P', '0'], ['-P', '65536'], ['-P', '80,'], ['-P', '80;81'], ['-P', '80,x"); foo();//'], ['-p', '999999999'],
    ['-p', 'x'], ['--cgroupmap', '/etc/passwd'], ['--mntnsmap', '/sys/fs/bpf/x"; evil']],
};
