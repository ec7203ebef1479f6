// oomkill's metrics: OOM kills by the victim's command name, from the record oomkill.bpf.c sends
// for each victim. A scrape first drains the ring (or perf) buffer, so it counts every kill the
// kernel has reported, not only those the event loop has already read.
//
//   bpfkit_oom_kills_total{comm}   tasks the OOM killer chose, by the victim's name ("?" when the
//                                  attach point cannot tell it: a pre-6.9 mark_victim)
//
// Counts are kept in user space (one record per kill already reaches it); one series-limit unit
// is one command name. Records the kernel could not deliver are bpfkit_lost_events_total{tool="oomkill"}.
// The tool's --metrics and the exporter (exporterMetrics) build the same collector.
import { isBpfError } from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { SeriesBook, counterFamily, type Collector } from '../../lib/metrics/agent.ts';
import type { MetricFamily } from '../../lib/metrics/exposition.ts';
import { openEvents, type EventChannel } from '../../lib/run/event-channel.ts';
import { decodeOomRecord } from './events.ts';
import { configureOomkill, type OomkillProgram } from './program.ts';

export interface OomkillMetrics extends Collector {
  record(ev: { victimComm: string | null }): void;
}

export function oomkillCollector(seriesLimit: number, events: EventChannel): OomkillMetrics {
  const book = new SeriesBook(seriesLimit);
  const kills = new Map<string, bigint>();
  return {
    tool: 'oomkill',
    record(ev) {
      const comm = ev.victimComm ?? '?';
      if (!book.admit(comm)) return;
      kills.set(comm, (kills.get(comm) ?? 0n) + 1n);
    },
    collect(): MetricFamily[] {
      events.flush();
      return [
        counterFamily('bpfkit_oom_kills_total', 'Tasks the OOM killer chose as victims, by the victim\'s command name',
          [...kills].map(([comm, value]) => ({ labels: { comm }, value }))),
      ];
    },
    lost: () => events.lost(),
    dropped: () => book.dropped,
  };
}

/** oomkill's program (it has no options to set), attached, and its collector. */
export async function exporterMetrics(ctx: ToolContext<unknown>, seriesLimit: number): Promise<Collector> {
  let program: OomkillProgram;
  try {
    program = configureOomkill();
  } catch (err) {
    if (isBpfError(err) && err.code === 'NOT_SUPPORTED') throw new MissingPrerequisite(`oomkill: ${err.message}`);
    throw err;
  }
  const bpf = ctx.load({ ...program, autoAttach: false });
  const channel = openEvents(bpf, program.ringBuffer, (record) => metrics.record(decodeOomRecord(record)));
  const metrics = oomkillCollector(seriesLimit, channel);
  ctx.attach(bpf, program);
  return metrics;
}
