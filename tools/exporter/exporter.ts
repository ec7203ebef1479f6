#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// exporter  One node agent for Prometheus: several tools' programs in one process, all their
//           metrics on one port.
//
// USAGE: bpfkit exporter [-h] [--tools LIST] [--listen ADDR] [--series-limit N] [--explain] [--ebpf]
//
// Loads the BPF program of each tool named in --tools (syscount, biolatency, tcptop, execsnoop)
// with its metrics configuration — every process, no filters; tools/<tool>/metrics.ts says which —
// and serves GET /metrics (Prometheus text 0.0.4, or OpenMetrics when the scraper asks) and
// GET /healthz. Values are read from the BPF maps at each scrape. The families are listed in
// README.md ("Prometheus metrics"). A tool's own --metrics serves the same families with that
// tool's filters; this agent is what runs under systemd or as a DaemonSet (see deploy/).
//
// SIGTERM, SIGINT and SIGHUP close the endpoint and detach every probe.
import { runTool } from '../../lib/run/tool.ts';
import { UsageError, type ToolSpec } from '../../lib/run/cli.ts';
import { METRICS_OPTIONS, startMetrics, type Collector, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { parseListenAddress, type ListenAddress } from '../../lib/metrics/server.ts';
import type { ToolContext } from '../../lib/run/tool.ts';
import { loadSyscountMetrics } from '../syscount/metrics.ts';
import { loadBiolatencyMetrics } from '../biolatency/metrics.ts';
import { loadTcptopMetrics } from '../tcptop/metrics.ts';
import { loadExecsnoopMetrics } from '../execsnoop/metrics.ts';

const LOADERS: Record<string, (ctx: ToolContext<unknown>, seriesLimit: number) => Collector> = {
  syscount: loadSyscountMetrics,
  biolatency: loadBiolatencyMetrics,
  tcptop: loadTcptopMetrics,
  execsnoop: loadExecsnoopMetrics,
};

function toolList(text: string): string[] {
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError('expected a comma-separated list of tools');
  for (const name of names) {
    if (!Object.hasOwn(LOADERS, name)) throw new UsageError(`no tool named ${JSON.stringify(name)} (one of ${Object.keys(LOADERS).join(', ')})`);
  }
  return [...new Set(names)];
}

const spec: ToolSpec = {
  name: 'exporter',
  description: 'Serve the tools\' BPF maps as Prometheus metrics, several tools in one process',
  options: [
    {
      long: 'tools', type: 'string', metavar: 'LIST', parse: toolList, default: Object.keys(LOADERS),
      help: `comma-separated tools to load (default ${Object.keys(LOADERS).join(',')})`,
    },
    {
      long: 'listen', type: 'string', metavar: 'ADDR', parse: parseListenAddress, default: parseListenAddress('9435'),
      help: 'serve on [HOST:]PORT (default 127.0.0.1:9435; 0.0.0.0:9435 for every interface)',
    },
    METRICS_OPTIONS.find((o) => o.long === 'series-limit')!,
  ],
  examples: [
    ['bpfkit exporter', 'all four tools, on 127.0.0.1:9435'],
    ['bpfkit exporter --tools syscount,biolatency --listen 9100', 'two tools, on 127.0.0.1:9100'],
    ['bpfkit exporter --listen 0.0.0.0:9435', 'reachable from other hosts (a Prometheus elsewhere)'],
    ['curl -s localhost:9435/metrics', 'what Prometheus sees'],
  ],
};

interface Options extends MetricsOptions {
  tools: string[];
  listen: ListenAddress;
}

await runTool<Options>(spec, async (ctx) => {
  const agent = await startMetrics(ctx, ctx.opts.listen);
  for (const tool of ctx.opts.tools) {
    const collector = LOADERS[tool](ctx as ToolContext<unknown>, ctx.opts['series-limit']);
    agent?.add(collector);
  }
  // --ebpf printed the first program and exited inside ctx.load; otherwise serve until stopped.
  await agent?.serveUntilStopped();
});
