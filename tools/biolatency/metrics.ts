// biolatency's metrics: block I/O latency as a Prometheus histogram per disk (or per flag set
// with -F), read from the `dist` and `ext` maps of tools/biolatency/biolatency.bpf.c at scrape time.
//
//   bpfkit_block_io_duration_seconds{disk}     (or {flags} with -F)
//
// The kernel's log2 slots become `le` bounds exactly (lib/metrics/exposition.ts log2Buckets):
// every value in slot i is below 2^i units, so le = 2^i × unit. Bucket counts are cumulative,
// +Inf and _count are the total, and _sum is the exact latency total the program adds up per
// disk (its -e extension, always on in metrics mode).
import type { ArrayTable, BPF, HashTable } from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import { planBiolatency } from './plan.ts';
import { sectionsFrom, type Drained, type Grouping } from './output.ts';
import { DiskNames } from './disks.ts';
import { describeFlags, type RequestFlagLayout } from './block-flags.ts';
import { RunningTotals, SeriesBook, type Collector } from '../../lib/metrics/agent.ts';
import { log2Buckets, type HistogramFamily, type MetricFamily } from '../../lib/metrics/exposition.ts';

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

/** Histogram map entries for metrics mode: 64 slots for each disk or flag set the limit allows. */
export function metricsHistEntries(seriesLimit: number): number {
  return Math.min(1 << 20, 64 * seriesLimit);
}

export function biolatencyCollector(bpf: BPF, config: BiolatencyMetricsConfig): BiolatencyMetrics {
  const dist = bpf.table<HashTable<HistKey, bigint>>('dist');
  const ext = bpf.table<HashTable<bigint, ExtValue>>('ext');
  const misses = bpf.table<ArrayTable<bigint>>('misses');
  const disks = new DiskNames();
  const labelName = config.grouping === 'disk' ? 'disk' : 'flags';
  const labelOf = (group: number) => (config.grouping === 'disk' ? disks.name(group) : describeFlags(group, config.flagLayout!));
  const book = new SeriesBook(config.seriesLimit);
  const distTotals = new RunningTotals<bigint>((a, b) => a + b);
  const extTotals = new RunningTotals<ExtValue>((a, b) => ({ total: a.total + b.total, count: a.count + b.count }));
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
        const { buckets, count } = log2Buckets(section.slots, unitSeconds);
        family.series.push({ labels: { [labelName]: section.label }, buckets, count, sum: Number(section.total) * unitSeconds });
      }
      return [family];
    },
    lost: () => (misses.get(0) ?? 0n) + (misses.get(1) ?? 0n),
    dropped: () => book.dropped,
  };
}

/** biolatency's program with the exporter's configuration: per disk, nanosecond slots. */
export function loadBiolatencyMetrics(ctx: ToolContext<unknown>, seriesLimit: number): BiolatencyMetrics {
  const plan = planBiolatency({ queued: false, disk: true, flags: false });
  const nsPerUnit = 1;
  const bpf = ctx.load({
    file: 'biolatency.bpf.c',
    autoAttach: false,
    defines: {
      ...plan.defines,
      QUEUED: false,
      NS_PER_UNIT: nsPerUnit,
      GROUP_BY: 1,
      FILTER_DEV: false,
      TARGET_DEV: 0,
      EXTENSION: true,
      HIST_ENTRIES: metricsHistEntries(seriesLimit),
      GROUP_ENTRIES: Math.min(1 << 20, seriesLimit),
      FLAGS_MASK: 0,
    },
  });
  for (const probe of plan.probes) {
    if (probe.kind === 'raw_tracepoint') bpf.attachRawTracepoint({ tp: probe.target, fnName: probe.fnName });
    else if (probe.kind === 'tracepoint') bpf.attachTracepoint({ tp: probe.target, fnName: probe.fnName });
    else bpf.attachKprobe({ event: probe.target, fnName: probe.fnName });
  }
  ctx.attached(bpf, plan.choices);
  return biolatencyCollector(bpf, { grouping: 'disk', nsPerUnit, seriesLimit });
}
