// tcplife's metrics: closed TCP connections per command, from the record tcplife.bpf.c sends
// for each. A scrape first drains the ring (or perf) buffer, so it counts every connection the
// kernel has closed, not only those the event loop has already read.
//
//   bpfkit_tcp_sessions_total{comm}                  connections closed
//   bpfkit_tcp_session_sent_bytes_total{comm}        their bytes sent and acknowledged (bytes_acked)
//   bpfkit_tcp_session_received_bytes_total{comm}    their bytes received (bytes_received)
//   bpfkit_tcp_session_duration_seconds{comm}        histogram of their lifetimes: log2 buckets of
//                                                    µs as exact `le` bounds, `_sum` the exact total
//
// Counted in user space (one record per connection reaches it anyway); `comm` is the owning
// process's (tools/tcplife/README.md says how it is found). One series-limit unit is one command
// name, for all four families. Records the kernel could not deliver are
// bpfkit_lost_events_total{tool="tcplife"}. The tool's --metrics and the exporter
// (exporterMetrics) build the same collector.
import { isBpfError } from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { SeriesBook, counterFamily, type Collector } from '../../lib/metrics/agent.ts';
import { log2BucketBounds, type HistogramFamily, type MetricFamily } from '../../lib/metrics/exposition.ts';
import { openEvents, type EventChannel } from '../../lib/run/event-channel.ts';
import { decodeLifeRecord, spanUs, type LifeEvent } from './events.ts';
import { EXPORTER_CONFIG, configureTcplife, type TcplifeProgram } from './program.ts';

/** Slot i counts spans of 2^(i-1) ≤ µs < 2^i (slot 1 also 0): 64 slots hold any u64 of µs. */
const SLOTS = 65;

interface PerComm {
  sessions: bigint;
  tx: bigint;
  rx: bigint;
  slots: bigint[];
  sumUs: bigint;
}

export interface TcplifeMetrics extends Collector {
  record(ev: Pick<LifeEvent, 'comm' | 'txBytes' | 'rxBytes' | 'spanNs'>): void;
}

/** bcc's log2 slot of a value: 0 for 0, else its bit length. */
export function log2Slot(value: bigint): number {
  return value === 0n ? 0 : value.toString(2).length;
}

export function tcplifeCollector(seriesLimit: number, events: EventChannel): TcplifeMetrics {
  const book = new SeriesBook(seriesLimit);
  const byComm = new Map<string, PerComm>();
  return {
    tool: 'tcplife',
    record(ev) {
      if (!book.admit(ev.comm)) return;
      let c = byComm.get(ev.comm);
      if (!c) byComm.set(ev.comm, c = { sessions: 0n, tx: 0n, rx: 0n, slots: new Array<bigint>(SLOTS).fill(0n), sumUs: 0n });
      const us = spanUs(ev);
      c.sessions++;
      c.tx += ev.txBytes;
      c.rx += ev.rxBytes;
      c.slots[Math.max(log2Slot(us), 1)]++;
      c.sumUs += us;
    },
    collect(): MetricFamily[] {
      events.flush();
      const counter = (name: string, help: string, pick: (c: PerComm) => bigint) =>
        counterFamily(name, help, [...byComm].map(([comm, c]) => ({ labels: { comm }, value: pick(c) })));
      const durations: HistogramFamily = {
        name: 'bpfkit_tcp_session_duration_seconds',
        help: 'Lifetimes of closed TCP connections, from the first state change to the close, by owning command',
        type: 'histogram',
        series: [...byComm].map(([comm, c]) => ({ labels: { comm }, ...log2BucketBounds(c.slots, 1e-6), sum: Number(c.sumUs) / 1e6 })),
      };
      return [
        counter('bpfkit_tcp_sessions_total', 'TCP connections closed, by owning command', (c) => c.sessions),
        counter('bpfkit_tcp_session_sent_bytes_total', 'Bytes sent and acknowledged on closed TCP connections, by owning command', (c) => c.tx),
        counter('bpfkit_tcp_session_received_bytes_total', 'Bytes received on closed TCP connections, by owning command', (c) => c.rx),
        durations,
      ];
    },
    lost: () => events.lost(),
    dropped: () => book.dropped,
  };
}

/** tcplife's program with the exporter's configuration (every connection), attached, and its collector. */
export async function exporterMetrics(ctx: ToolContext<unknown>, seriesLimit: number): Promise<Collector> {
  let program: TcplifeProgram;
  try {
    program = configureTcplife(EXPORTER_CONFIG);
  } catch (err) {
    if (isBpfError(err) && err.code === 'NOT_SUPPORTED') throw new MissingPrerequisite(`tcplife: ${err.message}`);
    throw err;
  }
  const bpf = ctx.load({ ...program, autoAttach: false });
  const channel = openEvents(bpf, program.ringBuffer, (record) => metrics.record(decodeLifeRecord(record)));
  const metrics = tcplifeCollector(seriesLimit, channel);
  ctx.attach(bpf, program);
  return metrics;
}
