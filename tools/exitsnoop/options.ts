// exitsnoop's command line: bcc's options, help texts and examples. No side effects on import
// (the man pages and the option tests read `spec`).
import { PID_OPTION_RANGE, existingPid, type ToolSpec } from '../../lib/run/cli.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { summaryOf } from '../index.ts';

export interface Options extends MetricsOptions {
  timestamp: boolean;
  utc: boolean;
  pid?: number;
  label?: string;
  failed: boolean;
  'per-thread': boolean;
}

export const spec: ToolSpec = {
  name: 'exitsnoop',
  description: summaryOf('exitsnoop'),
  options: [
    { long: 'timestamp', short: 't', type: 'boolean', help: 'include timestamp (local time default)' },
    { long: 'utc', type: 'boolean', help: 'include timestamp in UTC (-t implied)' },
    { long: 'pid', short: 'p', type: 'int', ...PID_OPTION_RANGE, parse: existingPid, metavar: 'PID', help: 'trace this PID only' },
    { long: 'label', type: 'string', metavar: 'LABEL', help: 'label each line' },
    { long: 'failed', short: 'x', type: 'boolean', help: 'trace only fails, exclude exit(0)' },
    { long: 'per-thread', type: 'boolean', help: 'trace per thread termination' },
    // bcc's short flag for --json.
    { long: 'json', short: 'j', type: 'boolean', help: 'output in JSON format' },
    ...METRICS_OPTIONS,
  ],
  examples: [
    ['exitsnoop', 'trace all process termination'],
    ['exitsnoop -x', 'trace only fails, exclude exit(0)'],
    ['exitsnoop -t', 'include timestamps (local time)'],
    ['exitsnoop --utc', 'include timestamps (UTC)'],
    ['exitsnoop -p 181', 'only trace PID 181'],
    ['exitsnoop --label=exit', "label each output line with 'exit'"],
    ['exitsnoop --per-thread', 'trace per thread termination'],
    ['exitsnoop --json', 'one JSON object per exit'],
    ['exitsnoop --metrics 9435', 'serve process exits by exit code and deaths by signal to Prometheus'],
  ],
};
