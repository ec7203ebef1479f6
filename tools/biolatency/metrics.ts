// biolatency's metrics: block I/O latency as a Prometheus histogram per disk (or per flag set
// with -F), read from the `dist` and `ext` maps of tools/biolatency/biolatency.bpf.c at scrape time.
//
//   bpfkit_block_io_duration_seconds{disk}     (or {flags} with -F)
//
// The kernel's log2 slots become `le` bounds exactly (lib/metrics/exposition.ts log2BucketBounds):
// every value in slot i is below 2^i units, so le = 2^i × unit. Bucket counts are cumulative,
// +Inf and _count are the total, and _sum is the exact latency total the program adds up per
// disk (its -e extension, always on in metrics mode).
import { isBpfError, type ArrayTable, type BPF, type HashTable } from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import { configureBiolatency } from './program.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { sectionsFrom, type Drained, type Grouping } from './output.ts';
import { DiskNames } from '../../lib/block/disks.ts';
import { describeFlags, type RequestFlagLayout } from '../../lib/block/flags.ts';
import { DrainedTotals, SeriesBook, type Collector } from '../../lib/metrics/agent.ts';
import { log2BucketBounds, type HistogramFamily, type MetricFamily } from '../../lib/metrics/exposition.ts';

interface HistKey { group: bigint; slot: bigint }
interface ExtValue { total: bigint; count: bigint }

export interface BiolatencyMetrics extends Collector {
  /** The tool's interval output drained these entries: keep them in the totals. */
  absorb(drained: Drained): void;
}

export interface BiolatencyMetricsConfig {
  grouping: Exclude<Grouping, 'none'>;
  /** Nanoseconds per histogram unit (NS_PER_UNIT in the program). */
  nsPerUnit: number;
  flagLayout?: RequestFlagLayout;
  seriesLimit: number;
}

export function biolatencyCollector(bpf: BPF, config: BiolatencyMetricsConfig): BiolatencyMetrics {
  const dist = bpf.table<HashTable<HistKey, bigint>>('dist');
  const ext = bpf.table<HashTable<bigint, ExtValue>>('ext');
  const misses = bpf.table<ArrayTable<bigint>>('misses');
  const disks = new DiskNames();
  const labelName = config.grouping === 'disk' ? 'disk' : 'flags';
  const labelOf = (group: number) => (config.grouping === 'disk' ? disks.name(group) : describeFlags(group, config.flagLayout!));
  const book = new SeriesBook(config.seriesLimit);
  const distTotals = new DrainedTotals<bigint>((a, b) => a + b);
  const extTotals = new DrainedTotals<ExtValue>((a, b) => ({ total: a.total + b.total, count: a.count + b.count }));
  const unitSeconds = config.nsPerUnit / 1e9;

  return {
    tool: 'biolatency',
    absorb(drained) {
      for (const [k, v] of drained.dist) distTotals.absorb(`${k.group}/${k.slot}`, BigInt(v));
      for (const [g, v] of drained.ext ?? []) extTotals.absorb(String(g), { total: BigInt(v.total), count: BigInt(v.count) });
    },
    collect(): MetricFamily[] {
      const now: Drained = { dist: dist.entries(), ext: ext.entries() };
      for (const [key, v] of distTotals.entries()) {
        const [group, slot] = key.split('/').map(BigInt);
        now.dist.push([{ group, slot }, v]);
      }
      for (const [g, v] of extTotals.entries()) now.ext!.push([BigInt(g), v]);
      const family: HistogramFamily = {
        name: 'bpfkit_block_io_duration_seconds',
        help: `Block I/O latency from issue to completion, by ${labelName}`,
        type: 'histogram',
        series: [],
      };
      for (const section of sectionsFrom(now, config.grouping, labelOf)) {
        if (!book.admit(section.label)) continue;
        const { buckets, count } = log2BucketBounds(section.slots, unitSeconds);
        family.series.push({ labels: { [labelName]: section.label }, buckets, count, sum: Number(section.total) * unitSeconds });
      }
      return [family];
    },
    lost: () => (misses.get(0) ?? 0n) + (misses.get(1) ?? 0n),
    dropped: () => book.dropped,
  };
}

/**
 * biolatency's program with the exporter's configuration: every disk, no filter, a histogram per
 * disk in nanosecond slots (exact `le` bounds from 1 ns up), latency sums for _sum.
 */
export async function exporterMetrics(ctx: ToolContext<unknown>, seriesLimit: number): Promise<Collector> {
  const config = { queued: false, grouping: 'disk', nsPerUnit: 1, extension: true, seriesLimit } as const;
  const program = withPrerequisites(() => configureBiolatency(config));
  const bpf = ctx.load({ ...program, autoAttach: false });
  ctx.attach(bpf, program);
  return biolatencyCollector(bpf, config);
}

/** A kernel with no way to trace completions lacks a prerequisite of the exporter's (exit 2). */
function withPrerequisites<T>(configure: () => T): T {
  try {
    return configure();
  } catch (err) {
    if (isBpfError(err, 'NOT_SUPPORTED')) throw new MissingPrerequisite(`biolatency metrics: ${err.message}`);
    throw err;
  }
}
