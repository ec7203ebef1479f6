// tcpdrop's command line: bcc's options (-4, -6), help texts and examples, plus bpfkit's own
// (--json, --metrics). No side effects on import (the man pages and the option tests read `spec`).
import type { ToolSpec } from '../../lib/run/cli.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { summaryOf } from '../index.ts';

export interface Options extends MetricsOptions {
  ipv4: boolean;
  ipv6: boolean;
}

export const spec: ToolSpec = {
  name: 'tcpdrop',
  description: summaryOf('tcpdrop'),
  options: [
    { long: 'ipv4', short: '4', type: 'boolean', help: 'trace IPv4 family only' },
    { long: 'ipv6', short: '6', type: 'boolean', help: 'trace IPv6 family only' },
    ...METRICS_OPTIONS,
  ],
  examples: [
    ['tcpdrop', 'trace kernel TCP drops'],
    ['tcpdrop -4', 'trace IPv4 family only'],
    ['tcpdrop -6', 'trace IPv6 family only'],
    ['tcpdrop --json', 'one JSON object per drop, with its reason and stack'],
    ['tcpdrop --metrics 9435', 'serve drops by reason and state to Prometheus on 127.0.0.1:9435'],
  ],
};
