// tcptop's command line: bcc's options, help texts and examples, plus bpfkit's own (--sort, -n,
// --json, --chart, --metrics). Imported by the man-page generator and the option tests: no side
// effects here.
import { PID_OPTION_RANGE, UsageError, existingPid, type ToolSpec } from '../../lib/run/cli.ts';
import { CONTAINER_MAP_OPTIONS } from '../../lib/kernel/pinned-maps.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { summaryOf } from '../index.ts';
import { SORT_FIELDS, type SortField } from './flows.ts';

function sortField(value: string): SortField {
  if (!(SORT_FIELDS as readonly string[]).includes(value)) throw new UsageError(`expected one of ${SORT_FIELDS.join(', ')}, got ${JSON.stringify(value)}`);
  return value as SortField;
}

export const spec: ToolSpec = {
  name: 'tcptop',
  description: summaryOf('tcptop'),
  options: [
    { long: 'noclear', short: 'C', type: 'boolean', help: "don't clear the screen" },
    { long: 'nosummary', short: 'S', type: 'boolean', help: 'skip system summary line' },
    { long: 'pid', short: 'p', type: 'int', ...PID_OPTION_RANGE, parse: existingPid, help: 'trace this PID only' },
    ...CONTAINER_MAP_OPTIONS,
    { long: 'ipv4', short: '4', type: 'boolean', help: 'trace IPv4 family only' },
    { long: 'ipv6', short: '6', type: 'boolean', help: 'trace IPv6 family only' },
    { long: 'sort', type: 'string', metavar: 'FIELD', default: 'total', parse: sortField, help: 'sort rows by rx, tx or total bytes (default total)' },
    { long: 'top', short: 'n', type: 'int', min: 1, max: 1_000_000, metavar: 'N', help: 'show only the N busiest connections' },
    {
      long: 'max-flows', type: 'int', min: 16, max: 1 << 20, default: 65536, metavar: 'N', hidden: true,
      help: 'size of the in-kernel flow table (process and connection pairs per interval)',
    },
    ...METRICS_OPTIONS,
  ],
  positionals: [
    { name: 'interval', type: 'int', min: 1, max: 99999999, help: 'output interval, in seconds (default 1)' },
    { name: 'count', type: 'int', min: 1, max: 99999999, help: 'number of outputs' },
  ],
  chart: true,
  examples: [
    ['tcptop', 'trace TCP send/recv by host'],
    ['tcptop -C', "don't clear the screen"],
    ['tcptop -p 181', 'only trace PID 181'],
    ['tcptop --cgroupmap mappath', 'only trace cgroups in this BPF map'],
    ['tcptop --mntnsmap mappath', 'only trace mount namespaces in the map'],
    ['tcptop -4', 'trace IPv4 family only'],
    ['tcptop -6', 'trace IPv6 family only'],
    ['tcptop -C -S 5 3', 'three 5-second intervals, no summary line'],
    ['tcptop --sort rx -n 10', 'the 10 connections that received most'],
    ['tcptop --json 1 10', 'ten intervals as JSON lines'],
    ['tcptop --chart', 'total RX/TX KB/s over time'],
    ['tcptop --metrics 9435', 'serve bytes per connection to Prometheus on 127.0.0.1:9435'],
  ],
};

export interface Options extends MetricsOptions {
  noclear: boolean;
  nosummary: boolean;
  pid?: number;
  cgroupmap?: string;
  mntnsmap?: string;
  ipv4: boolean;
  ipv6: boolean;
  sort: SortField;
  top?: number;
  /** Entries of the kernel's flow table; hidden (default 65536: tens of thousands of connections
   * per interval, each local connection being two flows, one per end). */
  'max-flows': number;
  interval?: number;
  count?: number;
}
