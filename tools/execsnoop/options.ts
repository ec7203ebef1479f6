// execsnoop's command line: bcc's options, help texts and examples. No side effects on import
// (the man pages and the option tests read `spec`).
import { PID_OPTION_RANGE, existingPid, regex, uidFromUser, type ToolSpec } from '../../lib/run/cli.ts';
import { CONTAINER_MAP_OPTIONS } from '../../lib/kernel/pinned-maps.ts';
import { cgroupV2Path } from '../../lib/kernel/cgroups.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { summaryOf } from '../index.ts';
import { DEFAULT_MAX_ARGS } from './events.ts';

export interface Options extends MetricsOptions {
  time: boolean;
  timestamp: boolean;
  fails: boolean;
  cgroupmap?: string;
  mntnsmap?: string;
  uid?: number;
  quote: boolean;
  name?: RegExp;
  line?: RegExp;
  'print-uid': boolean;
  'print-cpu': boolean;
  'print-pcomm': boolean;
  'max-args': number;
  ppid?: number;
  cgroup?: string;
}

export const spec: ToolSpec = {
  name: 'execsnoop',
  description: summaryOf('execsnoop'),
  options: [
    { long: 'time', short: 'T', type: 'boolean', help: 'include time column on output (HH:MM:SS)' },
    { long: 'timestamp', short: 't', type: 'boolean', help: 'include timestamp on output' },
    { long: 'fails', short: 'x', type: 'boolean', help: 'include failed exec()s' },
    ...CONTAINER_MAP_OPTIONS,
    { long: 'uid', short: 'u', type: 'string', metavar: 'USER', parse: uidFromUser, help: 'trace this UID only' },
    { long: 'quote', short: 'q', type: 'boolean', help: 'Add quotemarks (") around arguments.' },
    { long: 'name', short: 'n', type: 'string', metavar: 'NAME', parse: regex, help: 'only print commands matching this name (regex)' },
    { long: 'line', short: 'l', type: 'string', metavar: 'LINE', parse: regex, help: 'only print commands where arg contains this line (regex)' },
    { long: 'print-uid', short: 'U', type: 'boolean', help: 'print UID column' },
    { long: 'print-cpu', short: 'C', type: 'boolean', help: 'print CPU column' },
    { long: 'print-pcomm', short: 'M', type: 'boolean', help: 'print parent command' },
    { long: 'max-args', type: 'int', min: 1, max: 60, default: DEFAULT_MAX_ARGS, metavar: 'MAX_ARGS', help: 'maximum number of arguments parsed and displayed, defaults to 20' },
    { long: 'ppid', short: 'P', type: 'int', ...PID_OPTION_RANGE, parse: existingPid, metavar: 'PPID', help: 'trace this parent PID only' },
    { long: 'cgroup', short: 'c', type: 'string', metavar: 'PATH', parse: cgroupV2Path, help: 'trace processes in this cgroup v2 subtree only' },
    ...METRICS_OPTIONS,
  ],
  examples: [
    ['execsnoop', 'trace all exec() syscalls'],
    ['execsnoop -x', 'include failed exec()s'],
    ['execsnoop -T', 'include time (HH:MM:SS)'],
    ['execsnoop -P 181', 'only trace new processes whose parent PID is 181'],
    ['execsnoop -U', 'include UID'],
    ['execsnoop -C', 'include CPU'],
    ['execsnoop -M', 'include PCOMM'],
    ['execsnoop -u 1000', 'only trace UID 1000'],
    ['execsnoop -u user', 'get user UID and trace only them'],
    ['execsnoop -t', 'include timestamps'],
    ['execsnoop -q', 'add "quotemarks" around arguments'],
    ['execsnoop -n main', 'only print commands whose name matches "main" (regex)'],
    ['execsnoop -l tpkg', 'only print command where arguments contains "tpkg"'],
    ['execsnoop --cgroupmap mappath', 'only trace cgroups in this BPF map'],
    ['execsnoop --mntnsmap mappath', 'only trace mount namespaces in the map'],
    ['execsnoop -c /sys/fs/cgroup/system.slice', 'only trace processes in this cgroup v2 subtree'],
    ['execsnoop --json', 'one JSON object per exec'],
    ['execsnoop -x --metrics 9435', 'serve execs and failed execs per command to Prometheus'],
  ],
};
