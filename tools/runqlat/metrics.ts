// runqlat's metrics: run queue latency as a Prometheus histogram, machine-wide, or per process,
// thread or PID namespace when the tool runs with -P, -L or --pidnss; read from the `dist` and
// `totals` maps of tools/runqlat/runqlat.bpf.c at scrape time.
//
//   bpfkit_runqueue_latency_seconds            (labels: none, or pid, tid or pidns)
//
// The kernel's log2 slots become `le` bounds exactly (lib/metrics/exposition.ts log2BucketBounds):
// every wait in slot i is below 2^i units, so le = 2^i × unit. Bucket counts are cumulative, +Inf
// and _count are the total, and _sum is the exact sum of the waits in nanoseconds, which the
// program adds up before bucketing.
import { isBpfError, type ArrayTable, type BPF, type HashTable } from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { DrainedTotals, SeriesBook, type Collector } from '../../lib/metrics/agent.ts';
import { log2BucketBounds, type HistogramFamily, type MetricFamily } from '../../lib/metrics/exposition.ts';
import { configureRunqlat, type Grouping, type RunqlatConfig } from './program.ts';
import { SECTION_HEADER, sectionsFrom, type Drained } from './output.ts';

interface HistKey { group: bigint; slot: bigint }
interface Total { ns: bigint; count: bigint }

export const FAMILY = 'bpfkit_runqueue_latency_seconds';

export interface RunqlatMetrics extends Collector {
  /** The tool's interval output drained these entries: keep them in the totals. */
  absorb(drained: Drained): void;
}

export function runqlatCollector(bpf: BPF, config: { grouping: Grouping; nsPerUnit: number; seriesLimit: number }): RunqlatMetrics {
  const dist = bpf.table<HashTable<HistKey, bigint>>('dist');
  const totals = bpf.table<HashTable<bigint, Total>>('totals');
  const misses = bpf.table<ArrayTable<bigint>>('misses');
  const book = new SeriesBook(config.seriesLimit);
  const distTotals = new DrainedTotals<bigint>((a, b) => a + b);
  const sumTotals = new DrainedTotals<Total>((a, b) => ({ ns: a.ns + b.ns, count: a.count + b.count }));
  const unitSeconds = config.nsPerUnit / 1e9;
  const label = config.grouping === 'none' ? null : SECTION_HEADER[config.grouping];

  return {
    tool: 'runqlat',
    absorb(drained) {
      for (const [k, v] of drained.dist) distTotals.absorb(`${k.group}/${k.slot}`, BigInt(v));
      for (const [g, v] of drained.totals ?? []) sumTotals.absorb(String(g), { ns: BigInt(v.ns), count: BigInt(v.count) });
    },
    collect(): MetricFamily[] {
      const now: Drained = { dist: dist.entries(), totals: totals.entries() };
      for (const [key, v] of distTotals.entries()) {
        const [group, slot] = key.split('/').map(BigInt);
        now.dist.push([{ group, slot }, v]);
      }
      for (const [g, v] of sumTotals.entries()) now.totals!.push([BigInt(g), v]);
      const family: HistogramFamily = {
        name: FAMILY,
        help: `Time runnable tasks waited on a run queue before running${label ? `, by ${label}` : ''}`,
        type: 'histogram',
        series: [],
      };
      for (const section of sectionsFrom(now)) {
        const labels = label ? { [label]: String(section.id) } : {};
        if (label && !book.admit(String(section.id))) continue;
        const { buckets, count } = log2BucketBounds(section.slots, unitSeconds);
        family.series.push({ labels, buckets, count, sum: Number(section.sumNs) / 1e9 });
      }
      return [family];
    },
    lost: () => (misses.get(0) ?? 0n) + (misses.get(1) ?? 0n),
    dropped: () => book.dropped,
  };
}

/** The exporter's runqlat: every task on the machine, one histogram in nanosecond slots, with _sum. */
export const EXPORTER_CONFIG: RunqlatConfig = { grouping: 'none', nsPerUnit: 1, totals: true };

export async function exporterMetrics(ctx: ToolContext<unknown>, seriesLimit: number): Promise<Collector> {
  const config = { ...EXPORTER_CONFIG, seriesLimit };
  const program = withPrerequisites(() => configureRunqlat(config));
  const bpf = ctx.load({ ...program, autoAttach: false });
  ctx.attach(bpf, program);
  return runqlatCollector(bpf, config);
}

/** A kernel with no way to trace the scheduler lacks a prerequisite of the exporter's (exit 2). */
function withPrerequisites<T>(configure: () => T): T {
  try {
    return configure();
  } catch (err) {
    if (isBpfError(err, 'NOT_SUPPORTED')) throw new MissingPrerequisite(`runqlat metrics: ${err.message}`);
    throw err;
  }
}
