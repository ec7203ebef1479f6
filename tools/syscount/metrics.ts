// syscount's metrics: system calls per syscall, read from the per-CPU `counts` array (and the
// rare `wide_counts`) of tools/syscount/syscount.bpf.c at scrape time, summed over CPUs. The array is never
// cleared (syscount's intervals print differences), so the counts are monotonic as they are.
//
//   bpfkit_syscalls_total{syscall}                 every call (default)
//   bpfkit_syscall_errors_total{syscall,errno}     with -x (by errno, from `errors_by_errno`) or
//                                                  -e ERRNO (errno="ENOENT")
//   bpfkit_syscall_duration_seconds{syscall}       with -L: log2 buckets of µs from `latency_hist`
//                                                  (le = 2^i µs exactly), _sum and _count
//
// One series-limit unit is one syscall. The tool's --metrics and `bpfkit exporter` (through
// exporterMetrics) build the same collector.
import { isBpfError, sumValues, type BPF, type PerCpuTable } from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import type { ToolProgram } from '../../lib/run/program.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { errnoName } from '../../lib/kernel/errno.ts';
import { DrainedTotals, SeriesBook, counterFamily, type Collector } from '../../lib/metrics/agent.ts';
import { log2BucketBounds, type HistogramFamily, type MetricFamily, type ScalarFamily } from '../../lib/metrics/exposition.ts';
import { EXPORTER_CONFIG, configureSyscount } from './program.ts';
import { syscallName } from '../../lib/kernel/syscalls.ts';

type Stats = { count: bigint; total_ns?: bigint };

export interface SyscountMetricsConfig {
  seriesLimit: number;
  latency: boolean;
  /** -x: every failure; a number: -e's errno; undefined: every call. */
  errors?: 'any' | number;
}

export function syscountCollector(bpf: BPF, config: SyscountMetricsConfig): Collector {
  const counts = bpf.table<PerCpuTable<number, Stats>>('counts');
  const wide = bpf.table<PerCpuTable<number, Stats>>('wide_counts');
  const book = new SeriesBook(config.seriesLimit);
  const errno = config.errors === 'any' ? 'any' : config.errors !== undefined ? errnoName(config.errors) ?? String(config.errors) : undefined;
  // Present when the tool loaded its program for --metrics with -x / -L (see tools/syscount/syscount.bpf.c).
  const byErrno = bpf.tableNames().includes('errors_by_errno') ? bpf.table<PerCpuTable<{ nr: number; err: number }, bigint>>('errors_by_errno') : null;
  const slots = bpf.tableNames().includes('latency_hist') ? bpf.table<PerCpuTable<{ nr: number; slot: number }, bigint>>('latency_hist') : null;

  return {
    tool: 'syscount',
    collect(): MetricFamily[] {
      const all = new DrainedTotals<{ count: bigint; ns: bigint }>((a, b) => ({ count: a.count + b.count, ns: a.ns + b.ns }));
      for (const table of [counts, wide]) {
        for (const [nr, perCpu] of table.entries()) {
          const s = sumValues(perCpu);
          if (s.count > 0n) all.absorb(String(nr), { count: s.count, ns: s.total_ns ?? 0n });
        }
      }
      const calls: ScalarFamily = errno === undefined
        ? counterFamily('bpfkit_syscalls_total', 'System calls made, by syscall', [])
        : counterFamily('bpfkit_syscall_errors_total', 'System calls that returned an error, by syscall and errno', []);
      const duration: HistogramFamily = {
        name: 'bpfkit_syscall_duration_seconds', help: 'Time spent in system calls, by syscall', type: 'histogram', series: [],
      };
      const buckets = new Map<number, bigint[]>();
      for (const [k, perCpu] of slots?.summedEntries() ?? []) {
        const row = buckets.get(k.nr) ?? [];
        row[k.slot] = perCpu;
        buckets.set(k.nr, row);
      }
      const rows = [...all.entries()].sort((a, b) => Number(a[0]) - Number(b[0]));
      for (const [nr, t] of rows) {
        const syscall = syscallName(Number(nr));
        if (!book.admit(syscall)) continue;
        const count = book.monotonic(`n|${syscall}`, t.count);
        if (!byErrno) calls.samples.push({ labels: errno === undefined ? { syscall } : { syscall, errno }, value: count });
        if (config.latency) {
          const ns = book.monotonic(`ns|${syscall}`, t.ns);
          const row = buckets.get(Number(nr)) ?? [];
          const hist = log2BucketBounds(Array.from({ length: row.length }, (_, i) => row[i] ?? 0n), 1e-6);
          // Buckets and count from one map read, so +Inf always equals the last bucket.
          const total = slots ? book.monotonic(`h|${syscall}`, hist.count) : count;
          duration.series.push({ labels: { syscall }, buckets: slots ? hist.buckets : [], count: total, sum: Number(ns) / 1e9 });
        }
      }
      for (const [k, n] of byErrno?.summedEntries() ?? []) {
        const syscall = syscallName(k.nr);
        const name = errnoName(k.err) ?? String(k.err);
        if (!book.admit(`${syscall}|${name}`)) continue;
        calls.samples.push({ labels: { syscall, errno: name }, value: book.monotonic(`e|${syscall}|${name}`, n) });
      }
      return config.latency ? [calls, duration] : [calls];
    },
    lost: () => 0n,
    dropped: () => book.dropped,
  };
}

/**
 * For `bpfkit exporter`: syscount's program with the exporter's configuration (every call on the
 * machine, by syscall, sys_enter only), loaded and attached, and its collector.
 */
export async function exporterMetrics(ctx: ToolContext<unknown>, seriesLimit: number): Promise<Collector> {
  let program: ToolProgram;
  try {
    program = configureSyscount(EXPORTER_CONFIG);
  } catch (err) {
    if (isBpfError(err) && err.code === 'NOT_SUPPORTED') throw new MissingPrerequisite(`syscount: ${err.message}`);
    throw err;
  }
  const bpf = ctx.load({ ...program, autoAttach: false });
  ctx.attach(bpf, program);
  return syscountCollector(bpf, { seriesLimit, latency: false });
}
