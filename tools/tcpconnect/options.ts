// tcpconnect's command line: bcc's options, help texts and examples, plus bpfkit's own (--json,
// --metrics). No side effects on import (the man pages and the option tests read `spec`).
import { PID_OPTION_RANGE, UsageError, existingPid, uidFromUser, type ToolSpec } from '../../lib/run/cli.ts';
import { CONTAINER_MAP_OPTIONS } from '../../lib/kernel/pinned-maps.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { summaryOf } from '../index.ts';

/** The most ports -P takes (the size of the kernel's `ports` map). */
export const MAX_PORTS = 1024;

/** Why -d is refused: said by --help, the README and the example file too. */
export const DNS_UNSUPPORTED = '-d/--dns is not supported: bcc reads DNS answers with kprobes on udp_recvmsg and parses them in Python; ' +
  'bpfkit has no DNS parser yet';

/** -P 80,443: bcc's comma-separated destination ports, each 1-65535, at most MAX_PORTS. */
export function portList(value: string): number[] {
  const ports = value.split(',').map((p) => p.trim());
  const out = new Set<number>();
  for (const p of ports) {
    const n = Number(p);
    if (!/^\d+$/.test(p) || n < 1 || n > 65535) throw new UsageError(`expected comma-separated ports from 1 to 65535, got ${JSON.stringify(value)}`);
    out.add(n);
  }
  if (out.size > MAX_PORTS) throw new UsageError(`at most ${MAX_PORTS} ports, got ${out.size}`);
  return [...out];
}

export interface Options extends MetricsOptions {
  timestamp: boolean;
  pid?: number;
  port?: number[];
  ipv4: boolean;
  ipv6: boolean;
  lport: boolean;
  'print-uid': boolean;
  uid?: number;
  count: boolean;
  cgroupmap?: string;
  mntnsmap?: string;
  dns: boolean;
}

export const spec: ToolSpec = {
  name: 'tcpconnect',
  description: summaryOf('tcpconnect'),
  options: [
    { long: 'timestamp', short: 't', type: 'boolean', help: 'include timestamp on output' },
    { long: 'pid', short: 'p', type: 'int', ...PID_OPTION_RANGE, parse: existingPid, metavar: 'PID', help: 'trace this PID only' },
    { long: 'port', short: 'P', type: 'string', metavar: 'PORT', parse: portList, help: 'comma-separated list of destination ports to trace.' },
    { long: 'ipv4', short: '4', type: 'boolean', help: 'trace IPv4 family only' },
    { long: 'ipv6', short: '6', type: 'boolean', help: 'trace IPv6 family only' },
    { long: 'lport', short: 'L', type: 'boolean', help: 'include LPORT on output' },
    { long: 'print-uid', short: 'U', type: 'boolean', help: 'include UID on output' },
    { long: 'uid', short: 'u', type: 'string', metavar: 'UID', parse: uidFromUser, help: 'trace this UID only' },
    { long: 'count', short: 'c', type: 'boolean', help: 'count connects per src ip and dest ip/port' },
    ...CONTAINER_MAP_OPTIONS,
    { long: 'dns', short: 'd', type: 'boolean', help: 'not supported: bpfkit has no DNS parser yet (bcc: include likely DNS query associated with each connect)' },
    ...METRICS_OPTIONS,
  ],
  examples: [
    ['tcpconnect', 'trace all TCP connect()s'],
    ['tcpconnect -t', 'include timestamps'],
    ['tcpconnect -p 181', 'only trace PID 181'],
    ['tcpconnect -P 80', 'only trace port 80'],
    ['tcpconnect -P 80,81', 'only trace port 80 and 81'],
    ['tcpconnect -4', 'only trace IPv4 family'],
    ['tcpconnect -6', 'only trace IPv6 family'],
    ['tcpconnect -U', 'include UID'],
    ['tcpconnect -u 1000', 'only trace UID 1000'],
    ['tcpconnect -c', 'count connects per src ip and dest ip/port'],
    ['tcpconnect -L', 'include LPORT while printing outputs'],
    ['tcpconnect --cgroupmap mappath', 'only trace cgroups in this BPF map'],
    ['tcpconnect --mntnsmap mappath', 'only trace mount namespaces in the map'],
    ['tcpconnect --json', 'one JSON object per connect'],
    ['tcpconnect --metrics 9435', 'serve connects per command and port to Prometheus'],
  ],
};
