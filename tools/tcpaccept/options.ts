// tcpaccept's command line: bcc's options, help texts and examples. No side effects on import
// (the man pages and the option tests read `spec`).
import { PID_OPTION_RANGE, UsageError, existingPid, type ToolSpec } from '../../lib/run/cli.ts';
import { CONTAINER_MAP_OPTIONS } from '../../lib/kernel/pinned-maps.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { summaryOf } from '../index.ts';

/** More -P ports than any listener set needs; each is one entry of the kernel's `ports` map. */
export const MAX_PORT_LIST = 1024;

/** -P 80,81: local ports 1-65535, comma-separated, each once (repeats are dropped). */
export function portList(value: string): number[] {
  const ports = new Set<number>();
  for (const part of value.split(',')) {
    const text = part.trim();
    const port = Number(text);
    if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
      throw new UsageError(`expected comma-separated ports from 1 to 65535, got ${JSON.stringify(value)}`);
    }
    ports.add(port);
  }
  if (ports.size > MAX_PORT_LIST) throw new UsageError(`at most ${MAX_PORT_LIST} ports, got ${ports.size}`);
  return [...ports];
}

export interface Options extends MetricsOptions {
  time: boolean;
  timestamp: boolean;
  pid?: number;
  port?: number[];
  ipv4: boolean;
  ipv6: boolean;
  cgroupmap?: string;
  mntnsmap?: string;
}

export const spec: ToolSpec = {
  name: 'tcpaccept',
  description: summaryOf('tcpaccept'),
  options: [
    { long: 'time', short: 'T', type: 'boolean', help: 'include time column on output (HH:MM:SS)' },
    { long: 'timestamp', short: 't', type: 'boolean', help: 'include timestamp on output' },
    { long: 'pid', short: 'p', type: 'int', ...PID_OPTION_RANGE, parse: existingPid, help: 'trace this PID only' },
    { long: 'port', short: 'P', type: 'string', metavar: 'PORT', parse: portList, help: 'comma-separated list of local ports to trace' },
    { long: 'ipv4', short: '4', type: 'boolean', help: 'trace IPv4 family only' },
    { long: 'ipv6', short: '6', type: 'boolean', help: 'trace IPv6 family only' },
    ...CONTAINER_MAP_OPTIONS,
    ...METRICS_OPTIONS,
  ],
  examples: [
    ['tcpaccept', 'trace all TCP accept()s'],
    ['tcpaccept -t', 'include timestamps'],
    ['tcpaccept -P 80,81', 'only trace port 80 and 81'],
    ['tcpaccept -p 181', 'only trace PID 181'],
    ['tcpaccept --cgroupmap mappath', 'only trace cgroups in this BPF map'],
    ['tcpaccept --mntnsmap mappath', 'only trace mount namespaces in the map'],
    ['tcpaccept -4', 'trace IPv4 family'],
    ['tcpaccept -6', 'trace IPv6 family'],
    ['tcpaccept --json', 'one JSON object per accepted connection'],
    ['tcpaccept --metrics 9435', 'serve accepts per command and local port to Prometheus'],
  ],
};
