// capable's command line: bcc's options, help texts and examples, plus bpfkit's own (--json,
// --metrics). No side effects on import (the man pages and the option tests read `spec`).
import { PID_OPTION_RANGE, existingPid, type ToolSpec } from '../../lib/run/cli.ts';
import { CONTAINER_MAP_OPTIONS } from '../../lib/kernel/pinned-maps.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { summaryOf } from '../index.ts';

export interface Options extends MetricsOptions {
  verbose: boolean;
  pid?: number;
  'kernel-stack': boolean;
  'user-stack': boolean;
  extra: boolean;
  cgroupmap?: string;
  mntnsmap?: string;
  unique: boolean;
}

export const spec: ToolSpec = {
  name: 'capable',
  description: summaryOf('capable'),
  options: [
    {
      long: 'verbose', short: 'v', type: 'boolean',
      help: 'include non-audit checks (the capability:cap_capable tracepoint has no opts to tell them apart: there every check is shown, and AUDIT and INSETID are N/A)',
    },
    { long: 'pid', short: 'p', type: 'int', ...PID_OPTION_RANGE, parse: existingPid, metavar: 'PID', help: 'trace this PID only' },
    { long: 'kernel-stack', short: 'K', type: 'boolean', help: 'output kernel stack trace' },
    { long: 'user-stack', short: 'U', type: 'boolean', help: 'output user stack trace' },
    { long: 'extra', short: 'x', type: 'boolean', help: 'show extra fields in TID and INSETID columns' },
    ...CONTAINER_MAP_OPTIONS,
    { long: 'unique', type: 'boolean', help: "don't repeat stacks for the same pid or cgroup" },
    ...METRICS_OPTIONS,
  ],
  examples: [
    ['capable', 'trace capability checks'],
    ['capable -v', 'verbose: include non-audit checks (kprobe only; see -v)'],
    ['capable -p 181', 'only trace PID 181'],
    ['capable -K', 'add kernel stacks to trace'],
    ['capable -U', 'add user-space stacks to trace'],
    ['capable -x', 'extra fields: show TID and INSETID columns'],
    ['capable --unique', "don't repeat stacks for the same pid or cgroup"],
    ['capable --cgroupmap mappath', 'only trace cgroups in this BPF map'],
    ['capable --mntnsmap mappath', 'only trace mount namespaces in the map'],
    ['capable --json', 'one JSON object per check, with its verdict'],
    ['capable --metrics 9435', 'serve checks by capability and verdict to Prometheus on 127.0.0.1:9435'],
  ],
};
