// tcpretrans's command line: bcc's options, help texts and examples. No side effects on import
// (the man pages and the option tests read `spec`).
import type { ToolSpec } from '../../lib/run/cli.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { summaryOf } from '../index.ts';

export interface Options extends MetricsOptions {
  sequence: boolean;
  lossprobe: boolean;
  count: boolean;
  ipv4: boolean;
  ipv6: boolean;
}

export const spec: ToolSpec = {
  name: 'tcpretrans',
  description: summaryOf('tcpretrans'),
  options: [
    { long: 'sequence', short: 's', type: 'boolean', help: 'display TCP sequence numbers' },
    { long: 'lossprobe', short: 'l', type: 'boolean', help: 'include tail loss probe attempts (needs kprobes)' },
    { long: 'count', short: 'c', type: 'boolean', help: 'count occurred retransmits per flow' },
    { long: 'ipv4', short: '4', type: 'boolean', help: 'trace IPv4 family only' },
    { long: 'ipv6', short: '6', type: 'boolean', help: 'trace IPv6 family only' },
    ...METRICS_OPTIONS,
  ],
  examples: [
    ['tcpretrans', 'trace TCP retransmits'],
    ['tcpretrans -l', 'include TLP attempts'],
    ['tcpretrans -4', 'trace IPv4 family only'],
    ['tcpretrans -6', 'trace IPv6 family only'],
    ['tcpretrans -s', 'show the sequence number of each retransmit'],
    ['tcpretrans -c', 'count retransmits per flow, printed at Ctrl-C'],
    ['tcpretrans --json', 'one JSON object per retransmit'],
    ['tcpretrans --metrics 9435', 'serve retransmits per flow to Prometheus'],
  ],
};
