// biotop's command line: bcc's options (-C, -r, -p, interval, count), help texts and examples,
// plus bpfkit's own (--json, --chart, --metrics). Imported by the man-page generator and the
// option tests: no side effects here.
import { PID_OPTION_RANGE, existingPid, type ToolSpec } from '../../lib/run/cli.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { summaryOf } from '../index.ts';

/** bcc's default for -r. */
export const DEFAULT_MAXROWS = 20;

export const spec: ToolSpec = {
  name: 'biotop',
  description: summaryOf('biotop'),
  options: [
    { long: 'noclear', short: 'C', type: 'boolean', help: "don't clear the screen" },
    {
      long: 'maxrows', short: 'r', type: 'int', min: 1, max: 1_000_000, default: DEFAULT_MAXROWS, metavar: 'MAXROWS',
      help: `maximum rows to print, default ${DEFAULT_MAXROWS}`,
    },
    { long: 'pid', short: 'p', type: 'int', ...PID_OPTION_RANGE, parse: existingPid, metavar: 'PID', help: 'trace this PID only' },
    {
      long: 'max-entries', type: 'int', min: 64, max: 1 << 20, default: 10240, metavar: 'N', hidden: true,
      help: 'size of the in-kernel table of (process, disk, direction) rows per interval',
    },
    ...METRICS_OPTIONS,
  ],
  positionals: [
    { name: 'interval', type: 'int', min: 1, max: 99999999, help: 'output interval, in seconds (default 1)' },
    { name: 'count', type: 'int', min: 1, max: 99999999, help: 'number of outputs' },
  ],
  chart: true,
  examples: [
    ['biotop', 'block device I/O top, 1 second refresh'],
    ['biotop -C', "don't clear the screen"],
    ['biotop -p 181', 'only trace PID 181'],
    ['biotop 5', '5 second summaries'],
    ['biotop 5 10', '5 second summaries, 10 times only'],
    ['biotop -C -r 5 1 3', 'the 5 busiest rows, three 1-second intervals'],
    ['biotop --json 1 10', 'ten intervals as JSON lines (exact bytes and latency sums)'],
    ['biotop --chart', 'read and write KB/s over time'],
    ['biotop --metrics 9435', 'serve I/Os, bytes and latency by disk to Prometheus on 127.0.0.1:9435'],
  ],
};

export interface Options extends MetricsOptions {
  noclear: boolean;
  maxrows: number;
  pid?: number;
  /** Entries of the kernel's counts table; hidden (bcc's BPF_HASH default is 10240). */
  'max-entries': number;
  interval?: number;
  count?: number;
}
