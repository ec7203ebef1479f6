// runqlen's metrics: the sampled run queue length of each CPU as a Prometheus histogram, read
// from the per-CPU `dist` array of tools/runqlen/runqlen.bpf.c at scrape time.
//
//   bpfkit_run_queue_length{cpu}
//
// A histogram, not a gauge: the program samples each CPU 99 times a second, and a gauge would
// show one of those samples (whichever came last) and hide the rest. The histogram keeps every
// sample: _count is the samples taken, rate(_sum) / rate(_count) the mean number of tasks waiting
// over any window, and 1 - rate(bucket{le="0"}) / rate(_count) the run queue occupancy (-O).
// The kernel counts each length exactly, so every `le` bound is exact; queues of MAX_SLOTS - 1
// tasks or more are counted in the last slot, and add that many to _sum.
import { isBpfError, possibleCpus, type BPF, type PerCpuTable } from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { SeriesBook, type Collector } from '../../lib/metrics/agent.ts';
import type { HistogramFamily, HistogramSeries, MetricFamily } from '../../lib/metrics/exposition.ts';
import { configureRunqlen, MAX_SLOTS, type RunqlenConfig } from './program.ts';
import { countsFrom, type Counts } from './output.ts';
import { DEFAULT_FREQUENCY } from './options.ts';

/** Upper bounds of the buckets: one per length while short, then doubling (13 series per CPU with +Inf). */
export const LENGTH_BOUNDS = [0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64] as const;

/** The per-CPU histogram from the map, as (cumulative) counts[cpu][len]. */
export function readCounts(bpf: BPF, cpus: number): Counts {
  const dist = bpf.table<PerCpuTable<number, bigint>>('dist');
  return countsFrom(dist.entries(), cpus, MAX_SLOTS);
}

/** One CPU's series: cumulative counts at each bound, every sample, and the lengths added up. */
export function lengthSeries(cpu: number, slots: readonly bigint[]): HistogramSeries {
  let cumulative = 0n;
  let sum = 0n;
  let next = 0;
  const buckets: HistogramSeries['buckets'] = [];
  slots.forEach((v, len) => {
    while (next < LENGTH_BOUNDS.length && LENGTH_BOUNDS[next] < len) buckets.push({ le: LENGTH_BOUNDS[next++], count: cumulative });
    cumulative += v;
    sum += v * BigInt(len);
  });
  while (next < LENGTH_BOUNDS.length) buckets.push({ le: LENGTH_BOUNDS[next++], count: cumulative });
  return { labels: { cpu: String(cpu) }, buckets, count: cumulative, sum: Number(sum) };
}

export function runqlenCollector(bpf: BPF, cpus: number, seriesLimit: number): Collector {
  const book = new SeriesBook(seriesLimit);
  return {
    tool: 'runqlen',
    collect(): MetricFamily[] {
      const family: HistogramFamily = {
        name: 'bpfkit_run_queue_length',
        help: 'Tasks waiting in each CPU\'s run queue (excluding the one running), sampled by a timer on every CPU',
        type: 'histogram',
        series: [],
      };
      readCounts(bpf, cpus).forEach((slots, cpu) => {
        // CPUs never sampled (offline) are left out until they are.
        if (slots.some((v) => v > 0n) && book.admit(String(cpu))) family.series.push(lengthSeries(cpu, slots));
      });
      return [family];
    },
    // Every timer tick is counted; none can be lost.
    lost: () => 0n,
    dropped: () => book.dropped,
  };
}

/** runqlen's program with the exporter's configuration (bcc's: 99 Hz, the CFS queue), attached. */
export async function exporterMetrics(ctx: ToolContext<unknown>, seriesLimit: number): Promise<Collector> {
  const config: RunqlenConfig = { frequency: DEFAULT_FREQUENCY, host: false };
  let program;
  try {
    program = configureRunqlen(config);
  } catch (err) {
    if (isBpfError(err, 'NOT_SUPPORTED')) throw new MissingPrerequisite(`runqlen: ${err.message}`);
    throw err;
  }
  const bpf = ctx.load({ ...program, autoAttach: false });
  ctx.attach(bpf, program);
  return runqlenCollector(bpf, possibleCpus().length, seriesLimit);
}
