// mountsnoop's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  jsonRun: ['--json'],
  // Nothing mounts on a quiet machine: `--help` runs make no mount calls.
  jsonMayBeEmpty: true,
  badInput: [['--mntnsmap', '/tmp/x"); foo();//'], ['--cgroupmap', '/sys/fs/bpf/../etc/passwd'], ['-P', '5'], ['--mntnsmap']],
};
