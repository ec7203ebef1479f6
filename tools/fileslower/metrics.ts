// fileslower's metrics: the slow calls it reports, counted from the records fileslower.bpf.c sends
// (one per call at or over min_ms; calls under it send nothing). A scrape first drains the ring
// (or perf) buffer, so it counts every slow call the kernel has finished.
//
//   bpfkit_slow_file_io_total{comm,direction}          slow reads (R) and writes (W), by command name
//   bpfkit_slow_file_io_bytes_total{comm,direction}    the bytes they moved
//   bpfkit_slow_file_io_duration_seconds{direction}    their latency, a histogram with log2 bounds
//                                                      from 1 ns (exact sums)
//
// File names are never labels (unbounded); comm is, within --series-limit (one unit per comm and
// direction); direction has two values. Calls the kernel could not time (its table of calls in
// progress full) and records it could not deliver are bpfkit_lost_events_total{tool="fileslower"}.
// The tool's --metrics and the exporter (exporterMetrics) build the same collector.
import { isBpfError, type BPF, type PerCpuTable } from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { SeriesBook, counterFamily, type Collector } from '../../lib/metrics/agent.ts';
import { log2BucketBounds, type HistogramFamily, type MetricFamily } from '../../lib/metrics/exposition.ts';
import { openEvents, type EventChannel } from '../../lib/run/event-channel.ts';
import { decodeSlowIo, type SlowIo } from './output.ts';
import { EXPORTER_CONFIG, configureFileslower, type FileslowerProgram } from './program.ts';

/** Slots of the latency histograms: slot i holds [2^(i-1), 2^i) ns; 2^63 ns is ~292 years. */
const SLOTS = 64;

export interface FileslowerMetrics extends Collector {
  record(ev: SlowIo): void;
}

/** bcc's log2 slot of a value: 0 for 0, else the bit length. */
export function log2Slot(ns: bigint): number {
  return ns <= 0n ? 0 : Math.min(SLOTS - 1, ns.toString(2).length);
}

/** Calls the kernel could not time: the per-CPU `unstashed` count. */
export function unstashed(bpf: BPF): bigint {
  return bpf.table<PerCpuTable<number, bigint>>('unstashed').sum(0) ?? 0n;
}

export function fileslowerCollector(seriesLimit: number, events: EventChannel, notTimed: () => bigint): FileslowerMetrics {
  const book = new SeriesBook(seriesLimit);
  const counts = new Map<string, { comm: string; direction: string; calls: bigint; bytes: bigint }>();
  const latency = { R: { slots: new Array<bigint>(SLOTS).fill(0n), sumNs: 0n }, W: { slots: new Array<bigint>(SLOTS).fill(0n), sumNs: 0n } };
  return {
    tool: 'fileslower',
    record(ev) {
      const hist = latency[ev.direction];
      hist.slots[log2Slot(ev.latencyNs)]++;
      hist.sumNs += ev.latencyNs;
      const key = `${ev.comm}\0${ev.direction}`;
      if (!book.admit(key)) return;
      const c = counts.get(key) ?? { comm: ev.comm, direction: ev.direction, calls: 0n, bytes: 0n };
      c.calls++;
      c.bytes += BigInt(ev.bytes);
      counts.set(key, c);
    },
    collect(): MetricFamily[] {
      events.flush();
      const series = [...counts.values()];
      const duration: HistogramFamily = {
        name: 'bpfkit_slow_file_io_duration_seconds',
        help: 'Latency of the synchronous file reads and writes at or over the threshold, by direction (R, W)',
        type: 'histogram',
        series: (['R', 'W'] as const).map((direction) => {
          const { buckets, count } = log2BucketBounds(latency[direction].slots, 1e-9);
          return { labels: { direction }, buckets, count, sum: Number(latency[direction].sumNs) / 1e9 };
        }),
      };
      return [
        counterFamily('bpfkit_slow_file_io_total', 'Synchronous file reads and writes at or over the threshold, by command name and direction (R, W)',
          series.map((c) => ({ labels: { comm: c.comm, direction: c.direction }, value: c.calls }))),
        counterFamily('bpfkit_slow_file_io_bytes_total', 'Bytes those reads and writes moved, by command name and direction (R, W)',
          series.map((c) => ({ labels: { comm: c.comm, direction: c.direction }, value: c.bytes }))),
        duration,
      ];
    },
    lost: () => events.lost() + notTimed(),
    dropped: () => book.dropped,
  };
}

/** fileslower's program with the exporter's configuration (EXPORTER_CONFIG), attached, and its collector. */
export async function exporterMetrics(ctx: ToolContext<unknown>, seriesLimit: number): Promise<Collector> {
  let program: FileslowerProgram;
  try {
    program = configureFileslower(EXPORTER_CONFIG);
  } catch (err) {
    if (isBpfError(err) && err.code === 'NOT_SUPPORTED') throw new MissingPrerequisite(`fileslower: ${err.message}`);
    throw err;
  }
  const bpf = ctx.load({ ...program, autoAttach: false });
  const channel = openEvents(bpf, program.ringBuffer, (record) => metrics.record(decodeSlowIo(record)));
  const metrics = fileslowerCollector(seriesLimit, channel, () => unstashed(bpf));
  ctx.attach(bpf, program);
  return metrics;
}
