// cpudist's metrics: on-CPU and off-CPU time per slice as Prometheus histograms, read from the
// `dist` and `ext` maps of tools/cpudist/cpudist.bpf.c at scrape time.
//
//   bpfkit_cpu_oncpu_seconds      time a task ran before it was switched out     {pid} with -P, {tid} with -L
//   bpfkit_cpu_offcpu_seconds     time a task was off the CPU before it came back (-O; the exporter both)
//
// The kernel's log2 slots become `le` bounds exactly (lib/metrics/exposition.ts log2BucketBounds),
// bucket counts are cumulative, +Inf and _count the total, and _sum the exact sum in nanoseconds
// the program keeps per histogram (not the bucket-truncated values), in seconds.
import { isBpfError, type ArrayTable, type BPF, type HashTable } from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { DrainedTotals, SeriesBook, type Collector } from '../../lib/metrics/agent.ts';
import { log2BucketBounds, type HistogramFamily, type MetricFamily } from '../../lib/metrics/exposition.ts';
import { configureCpudist, type CpudistConfig, type Grouping } from './program.ts';
import { KIND_OFF, KIND_ON, sectionsFrom, type Drained, type ExtKey, type ExtValue, type HistKey } from './output.ts';

export interface CpudistMetrics extends Collector {
  /** The tool's interval output drained these entries: keep them in the totals. */
  absorb(drained: Drained): void;
}

const FAMILIES = [
  { kind: KIND_ON, name: 'bpfkit_cpu_oncpu_seconds', help: 'Time tasks ran on a CPU before being switched out (one observation per slice)' },
  { kind: KIND_OFF, name: 'bpfkit_cpu_offcpu_seconds', help: 'Time tasks spent off CPU before being switched back in (one observation per period)' },
];

export function cpudistCollector(bpf: BPF, config: Pick<CpudistConfig, 'measure' | 'grouping' | 'nsPerUnit'> & { seriesLimit: number }): CpudistMetrics {
  const dist = bpf.table<HashTable<HistKey, bigint>>('dist');
  const ext = bpf.table<HashTable<ExtKey, ExtValue>>('ext');
  const misses = bpf.table<ArrayTable<bigint>>('misses');
  const book = new SeriesBook(config.seriesLimit);
  const distTotals = new DrainedTotals<bigint>((a, b) => a + b);
  const extTotals = new DrainedTotals<ExtValue>((a, b) => ({
    total: BigInt(a.total) + BigInt(b.total), total_ns: BigInt(a.total_ns) + BigInt(b.total_ns), count: BigInt(a.count) + BigInt(b.count),
  }));
  const unitSeconds = config.nsPerUnit / 1e9;
  const label = labelName(config.grouping);
  const families = FAMILIES.filter((f) => config.measure === 'both' || (f.kind === KIND_OFF) === (config.measure === 'off'));

  return {
    tool: 'cpudist',
    absorb(drained) {
      for (const [k, v] of drained.dist) distTotals.absorb(`${k.group}/${k.kind}/${k.slot}`, BigInt(v));
      for (const [k, v] of drained.ext ?? []) extTotals.absorb(`${k.group}/${k.kind}`, v);
    },
    collect(): MetricFamily[] {
      const now: Drained = { dist: dist.entries(), ext: ext.entries() };
      for (const [key, v] of distTotals.entries()) {
        const [group, kind, slot] = key.split('/').map(Number);
        now.dist.push([{ group, kind, slot }, v]);
      }
      for (const [key, v] of extTotals.entries()) {
        const [group, kind] = key.split('/').map(Number);
        now.ext!.push([{ group, kind }, v]);
      }
      return families.map(({ kind, name, help }) => {
        const family: HistogramFamily = { name, help: label ? `${help}, by ${label}` : help, type: 'histogram', series: [] };
        for (const s of sectionsFrom(now, kind)) {
          const labels = label ? { [label]: String(s.group) } : {};
          if (label && !book.admit(`${kind}/${s.group}`)) continue;
          const { buckets, count } = log2BucketBounds(s.slots, unitSeconds);
          family.series.push({ labels, buckets, count, sum: Number(s.totalNs) / 1e9 });
        }
        return family;
      });
    },
    lost: () => (misses.get(0) ?? 0n) + (misses.get(1) ?? 0n),
    dropped: () => book.dropped,
  };
}

function labelName(grouping: Grouping): string | null {
  return grouping === 'pid' ? 'pid' : grouping === 'tid' ? 'tid' : null;
}

/**
 * cpudist's program with the exporter's configuration: every task but the idle ones, on- and
 * off-CPU time in one program, machine-wide histograms (no per-task labels: bounded), nanosecond
 * slots for exact `le` bounds from 1 ns up, sums for _sum.
 */
export async function exporterMetrics(ctx: ToolContext<unknown>, seriesLimit: number): Promise<Collector> {
  const config: CpudistConfig = { measure: 'both', nsPerUnit: 1, grouping: 'none', includeIdle: false, extension: true, seriesLimit };
  const program = withPrerequisites(() => configureCpudist(config));
  const bpf = ctx.load({ ...program, autoAttach: false });
  ctx.attach(bpf, program);
  return cpudistCollector(bpf, { ...config, seriesLimit });
}

/** A kernel with no way to see context switches lacks a prerequisite of the exporter's (exit 2). */
function withPrerequisites<T>(configure: () => T): T {
  try {
    return configure();
  } catch (err) {
    if (isBpfError(err, 'NOT_SUPPORTED')) throw new MissingPrerequisite(`cpudist metrics: ${err.message}`);
    throw err;
  }
}
