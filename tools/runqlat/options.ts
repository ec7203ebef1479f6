// runqlat's command line: bcc's options, help texts and examples, plus --json, --chart and
// --metrics. No side effects on import: the man pages and the option tests read this spec too.
import { existingPid, INTERVAL_COUNT, type ToolSpec } from '../../lib/run/cli.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { summaryOf } from '../index.ts';

export const spec: ToolSpec = {
  name: 'runqlat',
  description: summaryOf('runqlat'),
  options: [
    { long: 'timestamp', short: 'T', type: 'boolean', help: 'include timestamp on output' },
    { long: 'milliseconds', short: 'm', type: 'boolean', help: 'millisecond histogram' },
    { long: 'pids', short: 'P', type: 'boolean', help: 'print a histogram per process ID' },
    { long: 'pidnss', type: 'boolean', help: 'print a histogram per PID namespace' },
    { long: 'tids', short: 'L', type: 'boolean', help: 'print a histogram per thread ID' },
    { long: 'pid', short: 'p', type: 'int', help: 'trace this PID only', parse: existingPid },
    ...METRICS_OPTIONS,
  ],
  positionals: INTERVAL_COUNT,
  chart: true,
  examples: [
    ['runqlat', 'summarize run queue latency as a histogram'],
    ['runqlat 1 10', 'print 1 second summaries, 10 times'],
    ['runqlat -mT 1', '1s summaries, milliseconds, and timestamps'],
    ['runqlat -P', 'show each PID separately'],
    ['runqlat -p 185', 'trace PID 185 only'],
    ['runqlat --pidnss', 'show each PID namespace separately'],
    ['runqlat --json -P 1', 'one JSON object per process every second, with the sum of the waits'],
    ['runqlat --chart', 'chart p50/p90/p99 run queue latency every second'],
    ['runqlat --metrics 9435', 'serve the run queue latency histogram to Prometheus'],
  ],
};

export interface Options extends MetricsOptions {
  timestamp: boolean; milliseconds: boolean; pids: boolean; pidnss: boolean; tids: boolean;
  pid?: number; interval?: number; count?: number;
}
