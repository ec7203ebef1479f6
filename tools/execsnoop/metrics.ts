// execsnoop's metrics: execs per command name, from the records execsnoop.bpf.c sends for each
// exec. A scrape first drains the ring (or perf) buffer, so it counts every exec the kernel has
// finished, not only those the event loop has already read.
//
//   bpfkit_execs_total{comm}           successful execs, by the new program's name
//   bpfkit_exec_failures_total{comm}   failed execve/execveat, by the caller's name
//
// Counts are kept in user space here (one record per exec already reaches it); one
// series-limit unit is one command name. Records the kernel could not deliver are
// bpfkit_lost_events_total{tool="execsnoop"}. The tool's --metrics and the exporter
// (exporterMetrics) build the same collector.
import { isBpfError } from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { SeriesBook, counterFamily, type Collector } from '../../lib/metrics/agent.ts';
import type { MetricFamily } from '../../lib/metrics/exposition.ts';
import { decodeExecRecord } from './events.ts';
import { openEvents, type EventChannel } from '../../lib/run/event-channel.ts';
import { EXPORTER_CONFIG, configureExecsnoop, type ExecsnoopProgram } from './program.ts';

export interface ExecsnoopMetrics extends Collector {
  /** One exec record: ret 0 for a success, -errno for a failure. */
  record(ev: { comm: string; ret: number }): void;
}

export function execsnoopCollector(seriesLimit: number, events: EventChannel): ExecsnoopMetrics {
  const book = new SeriesBook(seriesLimit);
  const execs = new Map<string, bigint>();
  const failures = new Map<string, bigint>();
  return {
    tool: 'execsnoop',
    record(ev) {
      if (!book.admit(ev.comm)) return;
      const counts = ev.ret === 0 ? execs : failures;
      counts.set(ev.comm, (counts.get(ev.comm) ?? 0n) + 1n);
    },
    collect(): MetricFamily[] {
      events.flush();
      const samples = (m: Map<string, bigint>) => [...m].map(([comm, value]) => ({ labels: { comm }, value }));
      return [
        counterFamily('bpfkit_execs_total', 'Successful exec() calls, by the new command name', samples(execs)),
        counterFamily('bpfkit_exec_failures_total', 'Failed execve()/execveat() calls, by the calling command name', samples(failures)),
      ];
    },
    lost: () => events.lost(),
    dropped: () => book.dropped,
  };
}

/** execsnoop's program with the exporter's configuration (EXPORTER_CONFIG), attached, and its collector. */
export async function exporterMetrics(ctx: ToolContext<unknown>, seriesLimit: number): Promise<Collector> {
  let program: ExecsnoopProgram;
  try {
    program = configureExecsnoop(EXPORTER_CONFIG);
  } catch (err) {
    if (isBpfError(err) && err.code === 'NOT_SUPPORTED') throw new MissingPrerequisite(`execsnoop: ${err.message}`);
    throw err;
  }
  const bpf = ctx.load({ ...program, autoAttach: false });
  const channel = openEvents(bpf, program.ringBuffer, (record) => metrics.record(decodeExecRecord(record, EXPORTER_CONFIG.maxArgs)));
  const metrics = execsnoopCollector(seriesLimit, channel);
  ctx.attach(bpf, program);
  return metrics;
}
