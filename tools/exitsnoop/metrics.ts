// exitsnoop's metrics: how processes end, from the records exitsnoop.bpf.c sends per exit. A
// scrape first drains the ring (or perf) buffer, so it counts every exit the kernel has seen.
//
//   bpfkit_process_exits_total{code}            normal exits, by exit code ("0" … "255")
//   bpfkit_process_signal_deaths_total{signal}  ends by a fatal signal, by its name ("KILL", "SEGV")
//
// No command names or PIDs: the label values are bounded by the kernel (256 codes, 64 signals),
// so a fleet's series count stays fixed however many programs run. One series-limit unit is one
// label set. Records the kernel could not deliver are bpfkit_lost_events_total{tool="exitsnoop"}.
// The tool's --metrics and the exporter (exporterMetrics) build the same collector.
import { isBpfError } from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { SeriesBook, counterFamily, type Collector } from '../../lib/metrics/agent.ts';
import type { MetricFamily } from '../../lib/metrics/exposition.ts';
import { signalName } from '../../lib/kernel/signals.ts';
import { openEvents, type EventChannel } from '../../lib/run/event-channel.ts';
import { decodeExitRecord, outcome } from './events.ts';
import { EXPORTER_CONFIG, configureExitsnoop, type ExitsnoopProgram } from './program.ts';

export interface ExitsnoopMetrics extends Collector {
  /** One exit, by its wait status. */
  record(ev: { status: number }): void;
}

export function exitsnoopCollector(seriesLimit: number, events: EventChannel): ExitsnoopMetrics {
  const book = new SeriesBook(seriesLimit);
  const exits = new Map<string, bigint>();
  const deaths = new Map<string, bigint>();
  return {
    tool: 'exitsnoop',
    record(ev) {
      const { code, signal } = outcome(ev.status);
      const [counts, value] = signal ? [deaths, signalName(signal) ?? String(signal)] : [exits, String(code)];
      if (!book.admit(signal ? `signal ${value}` : `code ${value}`)) return;
      counts.set(value, (counts.get(value) ?? 0n) + 1n);
    },
    collect(): MetricFamily[] {
      events.flush();
      const samples = (m: Map<string, bigint>, label: string) => [...m].map(([v, value]) => ({ labels: { [label]: v }, value }));
      return [
        counterFamily('bpfkit_process_exits_total', 'Processes that exited, by exit code', samples(exits, 'code')),
        counterFamily('bpfkit_process_signal_deaths_total', 'Processes ended by a fatal signal, by signal name', samples(deaths, 'signal')),
      ];
    },
    lost: () => events.lost(),
    dropped: () => book.dropped,
  };
}

/** exitsnoop's program with the exporter's configuration (EXPORTER_CONFIG), attached, and its collector. */
export async function exporterMetrics(ctx: ToolContext<unknown>, seriesLimit: number): Promise<Collector> {
  let program: ExitsnoopProgram;
  try {
    program = configureExitsnoop(EXPORTER_CONFIG);
  } catch (err) {
    if (isBpfError(err) && err.code === 'NOT_SUPPORTED') throw new MissingPrerequisite(`exitsnoop: ${err.message}`);
    throw err;
  }
  const bpf = ctx.load({ ...program, autoAttach: false });
  const channel = openEvents(bpf, program.ringBuffer, (record) => metrics.record(decodeExitRecord(record)));
  const metrics = exitsnoopCollector(seriesLimit, channel);
  ctx.attach(bpf, program);
  return metrics;
}
