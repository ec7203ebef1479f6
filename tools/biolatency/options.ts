// biolatency's command line: bcc's options, help texts and examples, plus --metrics. No side
// effects on import: the man pages and the option tests read this spec too.
import { INTERVAL_COUNT, type ToolSpec } from '../../lib/run/cli.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { summaryOf } from '../index.ts';
import { diskByName, type Disk } from '../../lib/block/disks.ts';

export const spec: ToolSpec = {
  name: 'biolatency',
  description: summaryOf('biolatency'),
  options: [
    { long: 'timestamp', short: 'T', type: 'boolean', help: 'include timestamp on output' },
    { long: 'queued', short: 'Q', type: 'boolean', help: 'include OS queued time in I/O time' },
    { long: 'milliseconds', short: 'm', type: 'boolean', help: 'millisecond histogram' },
    { long: 'disks', short: 'D', type: 'boolean', help: 'print a histogram per disk device' },
    { long: 'flags', short: 'F', type: 'boolean', help: 'print a histogram per set of I/O flags' },
    { long: 'extension', short: 'e', type: 'boolean', help: 'summarize average/total value' },
    { long: 'json', short: 'j', type: 'boolean', help: 'json output (one JSON object per line)' },
    { long: 'disk', short: 'd', type: 'string', metavar: 'DISK', parse: diskByName, help: 'Trace this disk only' },
    ...METRICS_OPTIONS,
  ],
  positionals: INTERVAL_COUNT,
  chart: true,
  examples: [
    ['biolatency', 'summarize block I/O latency as a histogram'],
    ['biolatency 1 10', 'print 1 second summaries, 10 times'],
    ['biolatency -mT 1', '1s summaries, milliseconds, and timestamps'],
    ['biolatency -Q', 'include OS queued time in I/O time'],
    ['biolatency -D', 'show each disk device separately'],
    ['biolatency -F', 'show I/O flags separately'],
    ['biolatency -j', 'print one JSON object per histogram'],
    ['biolatency -e', 'show extension summary(total, average)'],
    ['biolatency -d sdc', 'Trace sdc only'],
    ['biolatency --chart', 'chart p50/p90/p99 latency every second'],
    ['biolatency --metrics 9435', 'serve latency histograms per disk to Prometheus'],
  ],
};

export interface Options extends MetricsOptions {
  timestamp: boolean; queued: boolean; milliseconds: boolean; disks: boolean; flags: boolean;
  extension: boolean; disk?: Disk; interval?: number; count?: number;
}
