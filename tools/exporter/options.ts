// bpfkit exporter's options: which tools, where to listen, how many label sets per tool.
import { UsageError, type ToolSpec } from '../../lib/run/cli.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { parseListenAddress, type ListenAddress } from '../../lib/metrics/server.ts';
import { REGISTRY, summaryOf } from '../index.ts';

/** The tools the exporter can load: those the registry marks `exporter`. */
export const EXPORTABLE: readonly string[] = REGISTRY.filter((t) => t.exporter).map((t) => t.name);

function toolList(text: string): string[] {
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError('expected a comma-separated list of tools');
  for (const name of names) {
    if (!EXPORTABLE.includes(name)) throw new UsageError(`no tool named ${JSON.stringify(name)} (one of ${EXPORTABLE.join(', ')})`);
  }
  return [...new Set(names)];
}

const seriesLimit = METRICS_OPTIONS.find((o) => o.long === 'series-limit')!;

export const spec: ToolSpec = {
  name: 'exporter',
  description: summaryOf('exporter'),
  options: [
    {
      long: 'tools', type: 'string', metavar: 'LIST', parse: toolList, default: EXPORTABLE,
      help: `comma-separated tools to load (default: ${EXPORTABLE.join(', ')})`,
    },
    {
      long: 'listen', type: 'string', metavar: 'ADDR', parse: parseListenAddress, default: parseListenAddress('9435'),
      help: 'serve on [HOST:]PORT (default 127.0.0.1:9435; 0.0.0.0:9435 for every interface)',
    },
    { ...seriesLimit, help: seriesLimit.help.replace(/^with --metrics: /, 'per tool: ') },
    { long: 'ebpf', type: 'boolean', help: "print each tool's BPF program, under the tool's name, and exit" },
  ],
  // It prints no events, only its programs (--ebpf) and what it attached (--explain).
  without: ['json'],
  examples: [
    ['bpfkit exporter', `all ${EXPORTABLE.length} tools, on 127.0.0.1:9435`],
    ['bpfkit exporter --tools syscount,biolatency --listen 9100', 'two tools, on 127.0.0.1:9100'],
    ['bpfkit exporter --listen 0.0.0.0:9435', 'reachable from other hosts (a Prometheus elsewhere)'],
    ['bpfkit exporter --tools syscount --ebpf', 'print the program each tool loads, and exit'],
    ['curl -s localhost:9435/metrics', 'what Prometheus sees'],
  ],
};

export interface Options extends MetricsOptions {
  tools: string[];
  listen: ListenAddress;
}
