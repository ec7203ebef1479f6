// tcpconnlat's metrics: connect latency as a Prometheus histogram per command name, from the
// records tcpconnlat.bpf.c sends for each established connect. A scrape first drains the ring
// (or perf) buffer, so it counts every connect the kernel has finished.
//
//   bpfkit_tcp_connect_latency_seconds{comm}   histogram: SYN_SENT to ESTABLISHED
//
// Each record carries the exact latency in nanoseconds: it goes into log2 slots of nanoseconds
// (slot i holds 2^(i-1) <= ns < 2^i, as bcc's log2 histograms), whose bounds le = 2^i ns are exact
// (lib/metrics/exposition.ts log2BucketBounds); _sum is the exact total. One series-limit unit
// is one command name. Records the kernel could not deliver are
// bpfkit_lost_events_total{tool="tcpconnlat"}. The tool's --metrics and the exporter
// (exporterMetrics) build the same collector.
import { isBpfError } from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { SeriesBook, type Collector } from '../../lib/metrics/agent.ts';
import { log2BucketBounds, type HistogramFamily, type MetricFamily } from '../../lib/metrics/exposition.ts';
import { openEvents, type EventChannel } from '../../lib/run/event-channel.ts';
import { decodeConnlatRecord } from './events.ts';
import { EXPORTER_CONFIG, configureTcpconnlat, type TcpconnlatProgram } from './program.ts';

const NS = 1e-9;
const SLOTS = 65;

export interface TcpconnlatMetrics extends Collector {
  record(ev: { comm: string; latencyNs: bigint }): void;
}

/** The log2 slot of a latency in nanoseconds (0 and 1 ns share slot 1, as in bcc). */
export function latencySlot(ns: bigint): number {
  return ns <= 1n ? 1 : ns.toString(2).length;
}

interface Series { slots: bigint[]; sumNs: bigint }

export function tcpconnlatCollector(seriesLimit: number, events: EventChannel): TcpconnlatMetrics {
  const book = new SeriesBook(seriesLimit);
  const byComm = new Map<string, Series>();
  return {
    tool: 'tcpconnlat',
    record(ev) {
      if (!book.admit(ev.comm)) return;
      let series = byComm.get(ev.comm);
      if (!series) byComm.set(ev.comm, series = { slots: new Array<bigint>(SLOTS).fill(0n), sumNs: 0n });
      series.slots[latencySlot(ev.latencyNs)]++;
      series.sumNs += ev.latencyNs;
    },
    collect(): MetricFamily[] {
      events.flush();
      const family: HistogramFamily = {
        name: 'bpfkit_tcp_connect_latency_seconds',
        help: 'TCP connect latency from SYN sent to the connection established, by the connecting command name',
        type: 'histogram',
        series: [],
      };
      for (const [comm, s] of byComm) {
        const { buckets, count } = log2BucketBounds(s.slots, NS);
        family.series.push({ labels: { comm }, buckets, count, sum: Number(s.sumNs) * NS });
      }
      return [family];
    },
    lost: () => events.lost(),
    dropped: () => book.dropped,
  };
}

/** tcpconnlat's program with the exporter's configuration (every connect), attached, and its collector. */
export async function exporterMetrics(ctx: ToolContext<unknown>, seriesLimit: number): Promise<Collector> {
  let program: TcpconnlatProgram;
  try {
    program = configureTcpconnlat(EXPORTER_CONFIG);
  } catch (err) {
    if (isBpfError(err) && err.code === 'NOT_SUPPORTED') throw new MissingPrerequisite(`tcpconnlat: ${err.message}`);
    throw err;
  }
  const bpf = ctx.load({ ...program, autoAttach: false });
  const channel = openEvents(bpf, program.ringBuffer, (record) => metrics.record(decodeConnlatRecord(record)));
  const metrics = tcpconnlatCollector(seriesLimit, channel);
  ctx.attach(bpf, program);
  return metrics;
}
