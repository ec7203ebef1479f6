// bitesize's command line: libbpf-tools' options (bcc's Python bitesize takes none), -j as
// bcc's newer histogram tools spell --json, and --metrics. No side effects on import: the man
// pages and the option tests read this spec too.
import { INTERVAL_COUNT, type ToolSpec } from '../../lib/run/cli.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { summaryOf } from '../index.ts';
import { diskByName, type Disk } from '../../lib/block/disks.ts';

export const spec: ToolSpec = {
  name: 'bitesize',
  description: summaryOf('bitesize'),
  options: [
    { long: 'timestamp', short: 'T', type: 'boolean', help: 'include timestamp on output' },
    { long: 'comm', short: 'c', type: 'string', metavar: 'COMM', help: 'Trace this comm only (its first 15 bytes, as the kernel keeps them)' },
    { long: 'disk', short: 'd', type: 'string', metavar: 'DISK', parse: diskByName, help: 'Trace this disk only' },
    { long: 'json', short: 'j', type: 'boolean', help: 'json output (one JSON object per process and interval)' },
    ...METRICS_OPTIONS,
  ],
  positionals: INTERVAL_COUNT,
  examples: [
    ['bitesize', 'summarize block I/O size as a histogram per process'],
    ['bitesize 1 10', 'print 1 second summaries, 10 times'],
    ['bitesize -T 1', '1s summaries with timestamps'],
    ['bitesize -c fio', 'trace fio only'],
    ['bitesize -d sdc', 'trace sdc only'],
    ['bitesize -j 5', 'print one JSON object per process every 5 seconds'],
    ['bitesize --metrics 9436', 'serve I/O size histograms per disk and operation to Prometheus'],
  ],
};

export interface Options extends MetricsOptions {
  timestamp: boolean;
  comm?: string;
  disk?: Disk;
  interval?: number;
  count?: number;
}
