// runqlen's command line: bcc's options (-T -O -C, interval, count), libbpf-tools' -H and -f,
// plus --metrics. No side effects on import: the man pages and the option tests read this spec too.
import { INTERVAL_COUNT, type ToolSpec } from '../../lib/run/cli.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { summaryOf } from '../index.ts';

/** bcc samples at 99 Hz: off the 100 Hz and 1000 Hz timers, so samples do not fall in lockstep with them. */
export const DEFAULT_FREQUENCY = 99;

export const spec: ToolSpec = {
  name: 'runqlen',
  description: summaryOf('runqlen'),
  options: [
    { long: 'timestamp', short: 'T', type: 'boolean', help: 'include timestamp on output' },
    { long: 'runqocc', short: 'O', type: 'boolean', help: 'report run queue occupancy' },
    { long: 'cpus', short: 'C', type: 'boolean', help: 'print output for each CPU separately' },
    {
      long: 'host', short: 'H', type: 'boolean',
      help: "count the CPU's whole run queue (rq.nr_running: every scheduling class and cgroup) instead of the running task's CFS queue",
    },
    {
      long: 'frequency', short: 'f', type: 'int', min: 1, max: 10000, default: DEFAULT_FREQUENCY, metavar: 'HZ',
      help: `sample each CPU this many times a second (default ${DEFAULT_FREQUENCY})`,
    },
    ...METRICS_OPTIONS,
  ],
  positionals: INTERVAL_COUNT,
  chart: true,
  examples: [
    ['runqlen', 'summarize run queue length as a histogram'],
    ['runqlen 1 10', 'print 1 second summaries, 10 times'],
    ['runqlen -T 1', '1s summaries and timestamps'],
    ['runqlen -O', 'report run queue occupancy'],
    ['runqlen -C', 'show each CPU separately'],
    ['runqlen -H', "count the CPU's whole run queue, not the running task's CFS queue"],
    ['runqlen -f 199', 'sample at 199 Hz'],
    ['runqlen -C --json 1', 'one JSON object per CPU every second'],
    ['runqlen --chart', 'chart the mean run queue length of each CPU every second'],
    ['runqlen --metrics 9435', 'serve run queue length histograms per CPU to Prometheus'],
  ],
};

export interface Options extends MetricsOptions {
  timestamp: boolean; runqocc: boolean; cpus: boolean; host: boolean; frequency: number;
  interval?: number; count?: number;
}
