// cpudist's command line: bcc's options, help texts and examples, plus --metrics. No side
// effects on import: the man pages and the option tests read this spec too.
import { existingPid, INTERVAL_COUNT, PID_OPTION_RANGE, type ToolSpec } from '../../lib/run/cli.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { summaryOf } from '../index.ts';

export const spec: ToolSpec = {
  name: 'cpudist',
  description: summaryOf('cpudist'),
  options: [
    { long: 'offcpu', short: 'O', type: 'boolean', help: 'measure off-CPU time' },
    { long: 'timestamp', short: 'T', type: 'boolean', help: 'include timestamp on output' },
    { long: 'milliseconds', short: 'm', type: 'boolean', help: 'millisecond histogram' },
    { long: 'pids', short: 'P', type: 'boolean', help: 'print a histogram per process ID' },
    { long: 'tids', short: 'L', type: 'boolean', help: 'print a histogram per thread ID' },
    { long: 'pid', short: 'p', type: 'int', ...PID_OPTION_RANGE, parse: existingPid, metavar: 'PID', help: 'trace this PID only' },
    { long: 'include-idle', short: 'I', type: 'boolean', help: 'include CPU idle time' },
    { long: 'extension', short: 'e', type: 'boolean', help: 'show extension summary (average/total/count)' },
    ...METRICS_OPTIONS,
  ],
  positionals: INTERVAL_COUNT,
  chart: true,
  examples: [
    ['cpudist', 'summarize on-CPU time as a histogram'],
    ['cpudist -O', 'summarize off-CPU time as a histogram'],
    ['cpudist 1 10', 'print 1 second summaries, 10 times'],
    ['cpudist -mT 1', '1s summaries, milliseconds, and timestamps'],
    ['cpudist -P', 'show each PID separately'],
    ['cpudist -p 185', 'trace PID 185 only'],
    ['cpudist -I', 'include CPU idle time'],
    ['cpudist -e', 'show extension summary (average/total/count)'],
    ['cpudist --json 1', 'print one JSON object per histogram every second'],
    ['cpudist --chart', 'chart p50/p90/p99 on-CPU time every second'],
    ['cpudist --metrics 9435', 'serve on-CPU time histograms to Prometheus'],
  ],
};

export interface Options extends MetricsOptions {
  offcpu: boolean; timestamp: boolean; milliseconds: boolean; pids: boolean; tids: boolean;
  pid?: number; 'include-idle': boolean; extension: boolean; interval?: number; count?: number;
}
