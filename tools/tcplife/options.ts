// tcplife's command line: bcc's options, help texts and examples. No side effects on import
// (the man pages and the option tests read `spec`).
import { PID_OPTION_RANGE, UsageError, existingPid, type ToolSpec } from '../../lib/run/cli.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { summaryOf } from '../index.ts';

/** -L/-D: "80" or "80,81,443", each a port from 0 to 65535 (bcc's int() of each part). */
export function portList(value: string): number[] {
  const parts = value.split(',');
  const ports = parts.map((p) => (/^\s*\d{1,5}\s*$/.test(p) ? Number(p) : NaN));
  if (ports.some((p) => !(p >= 0 && p <= 65535))) {
    throw new UsageError(`expected a comma-separated list of ports from 0 to 65535, got ${JSON.stringify(value)}`);
  }
  return [...new Set(ports)];
}

export interface Options extends MetricsOptions {
  time: boolean;
  timestamp: boolean;
  wide: boolean;
  csv: boolean;
  pid?: number;
  localport?: number[];
  remoteport?: number[];
  ipv4: boolean;
  ipv6: boolean;
}

export const spec: ToolSpec = {
  name: 'tcplife',
  description: summaryOf('tcplife'),
  options: [
    { long: 'time', short: 'T', type: 'boolean', help: 'include time column on output (HH:MM:SS)' },
    { long: 'timestamp', short: 't', type: 'boolean', help: 'include timestamp on output (seconds)' },
    { long: 'wide', short: 'w', type: 'boolean', help: 'wide column output (fits IPv6 addresses)' },
    { long: 'csv', short: 's', type: 'boolean', help: 'comma separated values output' },
    { long: 'pid', short: 'p', type: 'int', ...PID_OPTION_RANGE, parse: existingPid, help: 'trace this PID only' },
    { long: 'localport', short: 'L', type: 'string', metavar: 'LOCALPORT', parse: portList, help: 'comma-separated list of local ports to trace.' },
    { long: 'remoteport', short: 'D', type: 'string', metavar: 'REMOTEPORT', parse: portList, help: 'comma-separated list of remote ports to trace.' },
    { long: 'ipv4', short: '4', type: 'boolean', help: 'trace IPv4 family only' },
    { long: 'ipv6', short: '6', type: 'boolean', help: 'trace IPv6 family only' },
    ...METRICS_OPTIONS,
  ],
  examples: [
    ['tcplife', 'trace all TCP connect()s'],
    ['tcplife -T', 'include time column (HH:MM:SS)'],
    ['tcplife -w', 'wider columns (fit IPv6)'],
    ['tcplife -stT', 'csv output, with times & timestamps'],
    ['tcplife -p 181', 'only trace PID 181'],
    ['tcplife -L 80', 'only trace local port 80'],
    ['tcplife -L 80,81', 'only trace local ports 80 and 81'],
    ['tcplife -D 80', 'only trace remote port 80'],
    ['tcplife -4', 'only trace IPv4 family'],
    ['tcplife -6', 'only trace IPv6 family'],
    ['tcplife --json', 'one JSON object per closed connection, with exact bytes'],
    ['tcplife --metrics 9435', 'serve sessions, bytes and durations per command to Prometheus'],
  ],
};
