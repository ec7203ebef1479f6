// tcpconnect's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  jsonRun: ['--json'],
  // Nothing need connect over TCP in that second.
  jsonMayBeEmpty: true,
  badInput: [['-p', '999999999'], ['-p', 'x'], ['-P', '0'], ['-P', '80,abc'], ['-P', '65536'], ['-P', '80);foo();//'],
    ['-u', 'no_such_user_x'], ['-4', '-6'], ['-d'], ['-c', '--metrics', '0'], ['--cgroupmap', '/etc/passwd']],
};
