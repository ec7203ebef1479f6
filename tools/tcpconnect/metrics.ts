// tcpconnect's metrics: connects per command name and destination port, from the records
// tcpconnect.bpf.c sends for each connect. A scrape first drains the ring (or perf) buffer, so it
// counts every connect the kernel has finished, not only those the event loop has already read.
//
//   bpfkit_tcp_connects_total{comm,dport}   connect() calls that sent a SYN (refused ones too)
//
// One series-limit unit is one (comm, dport) pair: a client's ephemeral source ports and its
// peers' addresses are left out, so a busy node stays at a few series per service it talks to.
// Records the kernel could not deliver are bpfkit_lost_events_total{tool="tcpconnect"}. The
// tool's --metrics and the exporter (exporterMetrics) build the same collector.
import { isBpfError } from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { SeriesBook, counterFamily, type Collector } from '../../lib/metrics/agent.ts';
import type { MetricFamily } from '../../lib/metrics/exposition.ts';
import { openEvents, type EventChannel } from '../../lib/run/event-channel.ts';
import { decodeConnectRecord } from './events.ts';
import { EXPORTER_CONFIG, configureTcpconnect, type TcpconnectProgram } from './program.ts';

export interface TcpconnectMetrics extends Collector {
  record(ev: { comm: string; dport: number }): void;
}

export function tcpconnectCollector(seriesLimit: number, events: EventChannel): TcpconnectMetrics {
  const book = new SeriesBook(seriesLimit);
  const connects = new Map<string, { comm: string; dport: number; n: bigint }>();
  return {
    tool: 'tcpconnect',
    record(ev) {
      const key = `${ev.comm}\0${ev.dport}`;
      if (!book.admit(key)) return;
      const seen = connects.get(key);
      if (seen) seen.n++;
      else connects.set(key, { comm: ev.comm, dport: ev.dport, n: 1n });
    },
    collect(): MetricFamily[] {
      events.flush();
      return [counterFamily('bpfkit_tcp_connects_total', 'TCP connect() calls that sent a SYN (refused ones too), by command name and destination port',
        [...connects.values()].map(({ comm, dport, n }) => ({ labels: { comm, dport: String(dport) }, value: n })))];
    },
    lost: () => events.lost(),
    dropped: () => book.dropped,
  };
}

/** tcpconnect's program with the exporter's configuration (every connect), attached, and its collector. */
export async function exporterMetrics(ctx: ToolContext<unknown>, seriesLimit: number): Promise<Collector> {
  let program: TcpconnectProgram;
  try {
    program = configureTcpconnect(EXPORTER_CONFIG);
  } catch (err) {
    if (isBpfError(err) && err.code === 'NOT_SUPPORTED') throw new MissingPrerequisite(`tcpconnect: ${err.message}`);
    throw err;
  }
  const bpf = ctx.load({ ...program, autoAttach: false });
  const channel = openEvents(bpf, program.ringBuffer, (record) => metrics.record(decodeConnectRecord(record)));
  const metrics = tcpconnectCollector(seriesLimit, channel);
  ctx.attach(bpf, program);
  return metrics;
}
