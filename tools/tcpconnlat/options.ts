// tcpconnlat's command line: bcc's options, help texts and examples. No side effects on import
// (the man pages and the option tests read `spec`).
import { PID_OPTION_RANGE, existingPid, type ToolSpec } from '../../lib/run/cli.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { summaryOf } from '../index.ts';

/** duration_ms's bound: one day, far beyond any SYN retry schedule (bcc takes any float). */
export const MAX_DURATION_MS = 86_400_000;

export interface Options extends MetricsOptions {
  timestamp: boolean;
  pid?: number;
  lport: boolean;
  ipv4: boolean;
  ipv6: boolean;
  verbose: boolean;
  duration_ms?: number;
}

export const spec: ToolSpec = {
  name: 'tcpconnlat',
  description: summaryOf('tcpconnlat'),
  options: [
    { long: 'timestamp', short: 't', type: 'boolean', help: 'include timestamp on output' },
    { long: 'pid', short: 'p', type: 'int', ...PID_OPTION_RANGE, parse: existingPid, help: 'trace this PID only' },
    { long: 'lport', short: 'L', type: 'boolean', help: 'include LPORT on output' },
    { long: 'ipv4', short: '4', type: 'boolean', help: 'trace IPv4 family only' },
    { long: 'ipv6', short: '6', type: 'boolean', help: 'trace IPv6 family only' },
    { long: 'verbose', short: 'v', type: 'boolean', help: 'print the BPF program for debugging purposes' },
    ...METRICS_OPTIONS,
  ],
  positionals: [
    { name: 'duration_ms', type: 'number', min: 0, max: MAX_DURATION_MS, help: 'minimum duration to trace (ms)' },
  ],
  examples: [
    ['tcpconnlat', 'trace all TCP connect()s'],
    ['tcpconnlat 1', 'trace connection latency slower than 1 ms'],
    ['tcpconnlat 0.1', 'trace connection latency slower than 100 us'],
    ['tcpconnlat -t', 'include timestamps'],
    ['tcpconnlat -p 181', 'only trace PID 181'],
    ['tcpconnlat -L', 'include LPORT while printing outputs'],
    ['tcpconnlat -4', 'trace IPv4 family only'],
    ['tcpconnlat -6', 'trace IPv6 family only'],
    ['tcpconnlat --json', 'one JSON object per connection'],
    ['tcpconnlat --metrics 9435', 'serve connect latency histograms per command to Prometheus'],
  ],
};
