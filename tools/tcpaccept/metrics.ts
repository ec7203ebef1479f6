// tcpaccept's metrics: accepted TCP connections per command name and local port, from the
// records tcpaccept.bpf.c sends for each accept. A scrape first drains the ring (or perf) buffer,
// so it counts every accept the kernel has finished, not only those the event loop has read.
//
//   bpfkit_tcp_accepts_total{comm,lport}   connections accepted, by the accepting process's
//                                          name and the local (listening) port
//
// Counts are kept in user space (one record per accept already reaches it); one series-limit
// unit is one comm/port pair. Records the kernel could not deliver are
// bpfkit_lost_events_total{tool="tcpaccept"}. The tool's --metrics and the exporter
// (exporterMetrics) build the same collector; the tool's filters apply to it.
import { isBpfError } from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { SeriesBook, counterFamily, type Collector } from '../../lib/metrics/agent.ts';
import type { MetricFamily } from '../../lib/metrics/exposition.ts';
import { openEvents, type EventChannel } from '../../lib/run/event-channel.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { decodeAcceptRecord } from './events.ts';
import { EXPORTER_CONFIG, configureTcpaccept, type TcpacceptProgram } from './program.ts';

export interface TcpacceptMetrics extends Collector {
  record(ev: { comm: string; lport: number }): void;
}

export function tcpacceptCollector(seriesLimit: number, events: EventChannel): TcpacceptMetrics {
  const book = new SeriesBook(seriesLimit);
  const accepts = new Map<string, { comm: string; lport: number; n: bigint }>();
  return {
    tool: 'tcpaccept',
    record(ev) {
      const id = `${ev.lport}|${ev.comm}`;
      if (!book.admit(id)) return;
      const entry = accepts.get(id);
      if (entry) entry.n++;
      else accepts.set(id, { comm: ev.comm, lport: ev.lport, n: 1n });
    },
    collect(): MetricFamily[] {
      events.flush();
      const samples = [...accepts.values()].map((e) => ({ labels: { comm: e.comm, lport: String(e.lport) }, value: e.n }));
      return [counterFamily('bpfkit_tcp_accepts_total', 'TCP connections accepted, by the accepting command and the local port', samples)];
    },
    lost: () => events.lost(),
    dropped: () => book.dropped,
  };
}

/** tcpaccept's program with the exporter's configuration (EXPORTER_CONFIG), attached, and its collector. */
export async function exporterMetrics(ctx: ToolContext<unknown>, seriesLimit: number, kernel: KernelView = liveKernel()): Promise<Collector> {
  let program: TcpacceptProgram;
  try {
    program = configureTcpaccept(EXPORTER_CONFIG, kernel);
  } catch (err) {
    if (isBpfError(err, 'NOT_SUPPORTED')) throw new MissingPrerequisite(`tcpaccept: ${err.message}`);
    throw err;
  }
  const bpf = ctx.load({ ...program, autoAttach: false });
  const channel = openEvents(bpf, program.ringBuffer, (record) => metrics.record(decodeAcceptRecord(record)));
  const metrics = tcpacceptCollector(seriesLimit, channel);
  ctx.attach(bpf, program);
  return metrics;
}
