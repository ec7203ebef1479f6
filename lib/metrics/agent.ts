// A tool's metrics mode: the --metrics options every tool takes, the collectors that turn a
// tool's BPF maps into metric families at scrape time, and the HTTP endpoint that serves them.
//
// Each tool's part lives in tools/<tool>/metrics.ts: a collector made from the tool's loaded
// program (used by the tool's own --metrics), and a loader that builds the program with the
// metrics configuration (used by `bpfkit exporter`, which runs several in one process).
//
// Counters stay monotonic for the life of the process: the tools do not clear their maps in
// metrics mode, and where the terminal output drains a map (--metrics-and-print) the drained
// entries are absorbed into running totals first. Every exported value is also clamped to the
// highest value exported before, so a scrape never sees a counter go down.
//
// Cardinality is bounded per tool: at most --series-limit label sets (a syscall, a comm, a
// disk, a flow). The first ones seen are kept for the life of the process; later ones are not
// exported and are counted in bpfkit_series_dropped_total{tool}.
import fs from 'node:fs';
import path from 'node:path';
import { UsageError, type OptionSpec } from '../run/cli.ts';
import type { ToolContext } from '../run/tool.ts';
import { PACKAGE_ROOT } from '../run/paths.ts';
import type { Labels, MetricFamily, ScalarFamily } from './exposition.ts';
import { parseListenAddress, serveMetrics, type ListenAddress, type MetricsServer } from './server.ts';

export const DEFAULT_SERIES_LIMIT = 2000;

export const METRICS_OPTIONS: OptionSpec[] = [
  {
    long: 'metrics', type: 'string', metavar: 'ADDR', parse: parseListenAddress,
    help: 'serve Prometheus metrics on [HOST:]PORT (host 127.0.0.1 unless given) instead of printing',
  },
  { long: 'metrics-and-print', type: 'boolean', help: 'with --metrics: print the usual output too' },
  {
    long: 'series-limit', type: 'int', min: 1, max: 1_000_000, default: DEFAULT_SERIES_LIMIT, metavar: 'N',
    help: `with --metrics: at most N label sets (syscalls, commands, disks, flows); more are dropped and counted (default ${DEFAULT_SERIES_LIMIT})`,
  },
];

export interface MetricsOptions {
  metrics?: ListenAddress;
  'metrics-and-print': boolean;
  'series-limit': number;
}

/** What a tool's metrics part gives the endpoint. */
export interface Collector {
  tool: string;
  /** The tool's own families, read from its maps now. */
  collect(): MetricFamily[];
  /** Events the kernel could not count or deliver (full maps, full buffers). */
  lost(): bigint;
  /** Label sets not exported because of the series limit. */
  dropped(): number;
}

/**
 * Which label sets a tool exports, and the monotonic clamp of every counter value. The admitted
 * keys are bounded by the limit; the rejected ones are remembered (up to a bound) only so that
 * each is counted once.
 */
export class SeriesBook {
  private readonly admitted = new Set<string>();
  private readonly rejected = new Set<string>();
  private rejectedCount = 0;
  private readonly highest = new Map<string, bigint>();

  constructor(readonly limit: number) {}

  admit(key: string): boolean {
    if (this.admitted.has(key)) return true;
    if (this.admitted.size < this.limit) {
      this.admitted.add(key);
      return true;
    }
    if (!this.rejected.has(key)) {
      this.rejectedCount++;
      if (this.rejected.size >= 100_000) this.rejected.clear();
      this.rejected.add(key);
    }
    return false;
  }

  get dropped(): number {
    return this.rejectedCount;
  }

  /** The value to export for a counter series: never below what was exported before. */
  monotonic(series: string, value: bigint): bigint {
    const before = this.highest.get(series) ?? 0n;
    if (value > before) {
      this.highest.set(series, value);
      return value;
    }
    return before;
  }
}

/** Adds drained map entries into running totals (for --metrics-and-print, whose output drains). */
export class DrainedTotals<V> {
  private readonly totals = new Map<string, V>();
  constructor(private readonly add: (a: V, b: V) => V) {}
  absorb(key: string, value: V): void {
    const before = this.totals.get(key);
    this.totals.set(key, before === undefined ? value : this.add(before, value));
  }
  get(key: string): V | undefined {
    return this.totals.get(key);
  }
  entries(): IterableIterator<[string, V]> {
    return this.totals.entries();
  }
}

export function counterFamily(name: string, help: string, samples: Array<{ labels: Labels; value: bigint }>): ScalarFamily {
  return { name, help, type: 'counter', samples };
}

function packageVersion(): string {
  try {
    return String(JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')).version);
  } catch {
    return 'unknown';
  }
}

const VERSION = packageVersion();

/** All families of the given collectors, plus the agent's own, in one list. */
export function gather(collectors: Collector[]): MetricFamily[] {
  const families: MetricFamily[] = [{
    name: 'bpfkit_build_info', help: 'bpfkit version and runtime; always 1', type: 'gauge',
    samples: [{ labels: { version: VERSION, node_version: process.version, kernel: fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim() }, value: 1 }],
  }];
  const lost: ScalarFamily = counterFamily('bpfkit_lost_events_total', 'Events the kernel could not count or deliver (full maps or buffers), by tool', []);
  const dropped: ScalarFamily = counterFamily('bpfkit_series_dropped_total', 'Label sets not exported because of the per-tool series limit, by tool', []);
  for (const c of collectors) {
    families.push(...c.collect());
    lost.samples.push({ labels: { tool: c.tool }, value: c.lost() });
    dropped.samples.push({ labels: { tool: c.tool }, value: BigInt(c.dropped()) });
  }
  families.push(lost, dropped);
  return families;
}

export interface MetricsAgent {
  server: MetricsServer;
  /** true with --metrics alone: the tool serves metrics instead of printing. */
  only: boolean;
  seriesLimit: number;
  add(collector: Collector): void;
  /** Serves until Ctrl-C or SIGTERM, then closes the endpoint (the tool's end detaches the probes). */
  serveUntilStopped(): Promise<void>;
}

/**
 * Starts the endpoint before the tool loads its program (so "ready" means scrapeable), or returns
 * null without --metrics. Scrapes before the collectors exist see the agent's own families.
 */
export async function startMetrics(ctx: ToolContext<MetricsOptions>, address = ctx.opts.metrics): Promise<MetricsAgent | null> {
  const o = ctx.opts;
  if (!address) {
    if (o['metrics-and-print']) throw new UsageError('--metrics-and-print needs --metrics ADDR');
    return null;
  }
  if (o.ebpf) return null;
  const collectors: Collector[] = [];
  const server = await serveMetrics(address, () => gather(collectors)).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot listen on ${address.host}:${address.port}: ${err.code ?? err.message}`);
  });
  void ctx.stopped.then(() => server.close());
  const shown = address.host.includes(':') ? `[${address.host}]` : address.host;
  ctx.warn(`serving metrics on http://${shown}:${server.address.port}/metrics`);
  return {
    server,
    only: !o['metrics-and-print'],
    seriesLimit: o['series-limit'] ?? DEFAULT_SERIES_LIMIT,
    add: (collector) => { collectors.push(collector); },
    serveUntilStopped: async () => {
      await ctx.stopped;
      await server.close();
    },
  };
}
