// killsnoop's metrics: signals by signal, and failed signal syscalls by signal and errno, from
// the records killsnoop.bpf.c sends for each call. A scrape first drains the ring (or perf)
// buffer, so it counts every call the kernel has finished, not only those already read.
//
//   bpfkit_signals_total{signal}                  signal syscalls, failed or not, by signal
//   bpfkit_signal_failures_total{signal,errno}    those that failed, by signal and errno
//
// `signal` is the name `kill -l` prints ("KILL", "RTMIN+2"; "0" for the null signal). Counts are
// kept in user space (one record per call already reaches it); one series-limit unit is one
// label set. Records the kernel could not deliver are bpfkit_lost_events_total{tool="killsnoop"}.
// The tool's --metrics and the exporter (exporterMetrics) build the same collector.
import { isBpfError } from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { errnoName } from '../../lib/kernel/errno.ts';
import { SeriesBook, counterFamily, type Collector } from '../../lib/metrics/agent.ts';
import type { MetricFamily } from '../../lib/metrics/exposition.ts';
import { decodeSignalRecord, signalLabel } from './events.ts';
import { openEvents, type EventChannel } from '../../lib/run/event-channel.ts';
import { EXPORTER_CONFIG, configureKillsnoop, type KillsnoopProgram } from './program.ts';

export interface KillsnoopMetrics extends Collector {
  record(ev: { sig: number; ret: number }): void;
}

export function killsnoopCollector(seriesLimit: number, events: EventChannel): KillsnoopMetrics {
  const book = new SeriesBook(seriesLimit);
  const signals = new Map<string, bigint>();
  const failures = new Map<string, { signal: string; errno: string; value: bigint }>();
  return {
    tool: 'killsnoop',
    record(ev) {
      const signal = signalLabel(ev.sig);
      if (book.admit(signal)) signals.set(signal, (signals.get(signal) ?? 0n) + 1n);
      if (ev.ret >= 0) return;
      const errno = errnoName(-ev.ret) ?? String(-ev.ret);
      const key = `${signal}\0${errno}`;
      if (!book.admit(key)) return;
      const entry = failures.get(key);
      if (entry) entry.value++;
      else failures.set(key, { signal, errno, value: 1n });
    },
    collect(): MetricFamily[] {
      events.flush();
      return [
        counterFamily('bpfkit_signals_total', 'Signals sent by kill(), tkill(), tgkill(), pidfd_send_signal() and rt_(tg)sigqueueinfo(), failed or not, by signal',
          [...signals].map(([signal, value]) => ({ labels: { signal }, value }))),
        counterFamily('bpfkit_signal_failures_total', 'Signal system calls that failed, by signal and errno',
          [...failures.values()].map(({ signal, errno, value }) => ({ labels: { signal, errno }, value }))),
      ];
    },
    lost: () => events.lost(),
    dropped: () => book.dropped,
  };
}

/** killsnoop's program with the exporter's configuration (EXPORTER_CONFIG), attached, and its collector. */
export async function exporterMetrics(ctx: ToolContext<unknown>, seriesLimit: number): Promise<Collector> {
  let program: KillsnoopProgram;
  try {
    program = configureKillsnoop(EXPORTER_CONFIG);
  } catch (err) {
    if (isBpfError(err) && err.code === 'NOT_SUPPORTED') throw new MissingPrerequisite(`killsnoop: ${err.message}`);
    throw err;
  }
  const bpf = ctx.load({ ...program, autoAttach: false });
  const channel = openEvents(bpf, program.ringBuffer, (record) => metrics.record(decodeSignalRecord(record)));
  const metrics = killsnoopCollector(seriesLimit, channel);
  ctx.attach(bpf, program);
  return metrics;
}
