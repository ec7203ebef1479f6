// execsnoop's metrics: execs per command name, from the records tools/execsnoop/execsnoop.bpf.c sends for
// each exec. A scrape first drains the ring (or perf) buffer, so it counts every exec the kernel
// has finished, not only those the event loop has already read.
//
//   bpfkit_execs_total{comm}           successful execs, by the new program's name
//   bpfkit_exec_failures_total{comm}   failed execve/execveat, by the caller's name
//
// Counts are kept in user space here (one record per exec already reaches it); one
// series-limit unit is one command name. Records the kernel could not deliver are
// bpfkit_lost_events_total{tool="execsnoop"}.
import {
  ringBufferSupported, tracepointExists, type PerCpuTable, type PerfEventArray, type RingBufTable,
} from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import { taskParentOffsets, argAreaOffsets, taskCommOffset } from '../../lib/kernel/offsets.ts';
import { decodeExecRecord } from './events.ts';
import { SeriesBook, counterFamily, type Collector } from '../../lib/metrics/agent.ts';
import type { MetricFamily } from '../../lib/metrics/exposition.ts';

export interface ExecsnoopMetrics extends Collector {
  /** One exec record: ret 0 for a success, -errno for a failure. */
  record(ev: { comm: string; ret: number }): void;
}

export function execsnoopCollector(options: { seriesLimit: number; flush: () => void; lost: () => bigint }): ExecsnoopMetrics {
  const book = new SeriesBook(options.seriesLimit);
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
      options.flush();
      const samples = (m: Map<string, bigint>) => [...m].map(([comm, value]) => ({ labels: { comm }, value }));
      return [
        counterFamily('bpfkit_execs_total', 'Successful exec() calls, by the new command name', samples(execs)),
        counterFamily('bpfkit_exec_failures_total', 'Failed execve()/execveat() calls, by the calling command name', samples(failures)),
      ];
    },
    lost: options.lost,
    dropped: () => book.dropped,
  };
}

/** execsnoop's program with the exporter's configuration: successes and failures, everyone. */
export function loadExecsnoopMetrics(ctx: ToolContext<unknown>, seriesLimit: number): ExecsnoopMetrics {
  const syscallTracepoints = ['execve', 'execveat'].every((s) => tracepointExists('syscalls', `sys_enter_${s}`) && tracepointExists('syscalls', `sys_exit_${s}`));
  if (!tracepointExists('sched', 'sched_process_exec') || !syscallTracepoints) {
    throw new Error('execsnoop metrics in the exporter need the sched_process_exec and syscall tracepoints; run `execsnoop --metrics` instead');
  }
  const useRing = ringBufferSupported();
  const bpf = ctx.load({
    file: 'execsnoop.bpf.c',
    defines: {
      TRACE_FAILS: true, SUCCESS_AT_EXEC_TP: true, EXECVE_HOOK: 1, EXECVEAT_HOOK: 1,
      // Only the command name is counted: one argument is read, not twenty.
      MAX_ARGS: 1,
      FILTER_UID: false, TARGET_UID: 0, FILTER_PPID: false, TARGET_PPID: 0, FILTER_CGROUP: false,
      FILTER_CGROUP_MAP: false, FILTER_MNTNS_MAP: false,
      USE_RINGBUF: useRing, RINGBUF_PAGES: 1024,
      ...taskParentOffsets(), ...taskCommOffset(), ...argAreaOffsets(),
    },
    autoAttach: false,
  });
  let perfLost = 0n;
  let metrics: ExecsnoopMetrics | undefined;
  const onRecord = (record: Buffer) => metrics?.record(decodeExecRecord(record, 1));
  const events = useRing
    ? bpf.table<RingBufTable<Buffer>>('events').open(onRecord, { raw: true, coalesceMs: 50 })
    : bpf.table<PerfEventArray<Buffer>>('events').open(onRecord, { raw: true, coalesceMs: 50, pageCount: 64, onLost: (n) => { perfLost += BigInt(n); } });
  metrics = execsnoopCollector({
    seriesLimit,
    flush: () => events.flush(),
    lost: () => (useRing ? bpf.table<PerCpuTable<number, bigint>>('lost').sum(0) ?? 0n : perfLost),
  });
  bpf.attachTracepoint({ tp: 'sched:sched_process_exec', fnName: 'tracepoint__sched__sched_process_exec' });
  for (const s of ['execve', 'execveat']) {
    bpf.attachTracepoint({ tp: `syscalls:sys_enter_${s}`, fnName: `tracepoint__syscalls__sys_enter_${s}` });
    bpf.attachTracepoint({ tp: `syscalls:sys_exit_${s}`, fnName: `tracepoint__syscalls__sys_exit_${s}` });
  }
  ctx.attached(bpf);
  return metrics;
}
