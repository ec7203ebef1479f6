// pktcount's command line: `pktcount IFACE [interval [count]]`, --drop PROTO:PORT (repeatable),
// -S for generic mode as bcc's XDP examples take it, and the toolkit's --json/--explain/--metrics.
// Imported by the man-page generator and the option tests: no side effects here.
import { UsageError, type PositionalSpec, type ToolSpec } from '../../lib/run/cli.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { summaryOf } from '../index.ts';
import type { ProtoName } from './rows.ts';

/** A --drop rule: packets of this protocol to this destination port are dropped (XDP_DROP). */
export interface DropRule {
  proto: ProtoName;
  port: number;
}

/** Entries of the kernel's rule map: more rules than this is a usage error. */
export const MAX_DROP_RULES = 64;

const RULE = /^(tcp|udp|icmp|icmpv6|other)(?::(\d{1,5}))?$/;

/**
 * "udp:5001", "tcp:80,udp:53", "icmp": tcp and udp need a port (0-65535); the others have no
 * port and take none (or 0, the port their rows show). Duplicates collapse.
 */
export function parseDropRules(value: string): DropRule[] {
  const rules = new Map<string, DropRule>();
  for (const item of value.split(',')) {
    const m = RULE.exec(item);
    const port = m?.[2] === undefined ? undefined : Number(m[2]);
    const ported = m?.[1] === 'tcp' || m?.[1] === 'udp';
    if (!m || (ported ? port === undefined || port > 65535 : port !== undefined && port !== 0)) {
      throw new UsageError(`expected PROTO:PORT (tcp:PORT or udp:PORT with PORT 0-65535; icmp, icmpv6 or other), got ${JSON.stringify(item)}`);
    }
    const rule = { proto: m[1] as ProtoName, port: port ?? 0 };
    rules.set(`${rule.proto}:${rule.port}`, rule);
  }
  if (rules.size > MAX_DROP_RULES) throw new UsageError(`at most ${MAX_DROP_RULES} rules, got ${rules.size}`);
  return [...rules.values()];
}

const INTERFACE: PositionalSpec = { name: 'interface', type: 'string', help: 'the network interface to count packets on (e.g. eth0)' };

export const spec: ToolSpec = {
  name: 'pktcount',
  description: summaryOf('pktcount'),
  options: [
    {
      long: 'drop', type: 'string', repeatable: true, metavar: 'PROTO:PORT', parse: parseDropRules,
      help: 'drop packets of PROTO (tcp, udp, icmp, icmpv6, other) to PORT and count them; repeatable',
    },
    { long: 'skb-mode', short: 'S', type: 'boolean', help: 'use generic (skb) XDP even where the driver has native XDP' },
    {
      long: 'max-keys', type: 'int', min: 16, max: 1 << 20, default: 16384, metavar: 'N', hidden: true,
      help: 'size of the in-kernel table (protocol and port pairs per interval)',
    },
    ...METRICS_OPTIONS,
  ],
  positionals: [
    INTERFACE,
    { name: 'interval', type: 'int', min: 1, max: 99999999, help: 'output interval, in seconds (default 1)' },
    { name: 'count', type: 'int', min: 1, max: 99999999, help: 'number of outputs' },
  ],
  examples: [
    ['pktcount eth0', 'packets and bytes per protocol and port on eth0, every second'],
    ['pktcount eth0 5 3', 'three 5-second intervals'],
    ['pktcount --drop udp:5001 eth0', 'drop UDP to port 5001, and count what was dropped'],
    ['pktcount --drop tcp:23 --drop icmp eth0', 'drop telnet and pings'],
    ['pktcount -S eth0', 'generic (skb) mode, as on an interface without native XDP'],
    ['pktcount --json eth0 1 10', 'ten intervals as JSON lines'],
    ['pktcount --explain eth0', 'say whether XDP runs native or generic, by bpf_link or netlink'],
    ['pktcount --metrics 9435 eth0', 'serve the counts to Prometheus on 127.0.0.1:9435'],
  ],
};

export interface Options extends MetricsOptions {
  drop?: DropRule[];
  'skb-mode': boolean;
  /** Entries of the kernel's counting table; hidden (a port scan fills it: see README). */
  'max-keys': number;
  interface?: string;
  interval?: number;
  count?: number;
}
