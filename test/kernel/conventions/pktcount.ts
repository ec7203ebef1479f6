// pktcount's part of the conventions test (test/kernel/conventions.test.ts). pktcount needs an
// interface: the JSON run counts on `lo` (generic XDP, every packet passed).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  args: ['lo'],
  jsonRun: ['--json', 'lo', '1'],
  // The runs of `--help` meanwhile move no packets over lo.
  jsonMayBeEmpty: true,
  badInput: [[], ['no-such-if0'], ['bad/name'], ['lo', '0'], ['lo', 'abc'], ['--drop', 'udp:70000', 'lo'],
    ['--drop', 'sctp:1', 'lo'], ['--drop', 'udp', 'lo'], ['--drop', 'icmp:8', 'lo'], ['--drop', 'tcp:80,', 'lo']],
};
