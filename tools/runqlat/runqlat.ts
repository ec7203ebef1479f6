#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// runqlat  Summarize run queue (scheduler) latency as a histogram.
//          For Linux, uses BPF through libbcc (bcc-node-bindings).
//
// USAGE: runqlat [-h] [-T] [-m] [-P] [--pidnss] [-L] [-p PID] [--json] [--chart] [--explain] [--ebpf]
//                [interval] [count]
//
// Measures how long each runnable task waits on a CPU's run queue before it runs — from its
// wakeup, its creation, or its preemption to its next switch-in — and prints the waits as a log2
// histogram per interval: for all tasks, per process (-P), thread (-L) or PID namespace
// (--pidnss). bcc's runqlat.py, same options, same output.
//
// What it traces and why, the differences from bcc, the --json fields and the metrics:
// tools/runqlat/README.md; real output: tools/runqlat/runqlat_example.txt.
import { type ArrayTable, type HashTable } from 'bcc-node-bindings';
import { runTool, type ToolContext } from '../../lib/run/tool.ts';
import { UsageError } from '../../lib/run/cli.ts';
import { LiveChart } from '../../lib/output/chart.ts';
import { startMetrics } from '../../lib/metrics/agent.ts';
import { log2Merge, log2Percentile } from '../../lib/output/log2-stats.ts';
import { spec, type Options } from './options.ts';
import { configureRunqlat, type Grouping } from './program.ts';
import { formatInterval, jsonInterval, sectionsFrom, type Drained, type Interval } from './output.ts';
import { runqlatCollector } from './metrics.ts';

// bcc's defaults: "forever", until Ctrl-C.
const FOREVER = 99999999;

interface HistKey { group: bigint; slot: bigint }
interface Total { ns: bigint; count: bigint }

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  if ([o.pids, o.tids, o.pidnss].filter(Boolean).length > 1) throw new UsageError('-P, -L and --pidnss exclude each other');
  if (o.json && o.chart) throw new UsageError('--json and --chart exclude each other');
  const metrics = await startMetrics(ctx);
  const grouping: Grouping = o.pids ? 'pid' : o.tids ? 'tid' : o.pidnss ? 'pidns' : 'none';
  const unit = o.milliseconds ? 'msecs' : 'usecs';

  // --- configuration → program ---
  const config = {
    grouping,
    nsPerUnit: o.milliseconds ? 1_000_000 : 1000,
    pid: o.pid,
    totals: o.json || metrics !== null,
    seriesLimit: metrics?.seriesLimit,
  };
  const program = configureRunqlat(config);
  const bpf = ctx.load({ ...program, autoAttach: false });

  // --- attach ---
  ctx.attach(bpf, program);
  const collector = metrics ? runqlatCollector(bpf, { ...config, seriesLimit: metrics.seriesLimit }) : null;
  if (metrics && collector) {
    metrics.add(collector);
    if (metrics.only) return metrics.serveUntilStopped();
  }

  // --- output loop ---
  if (!o.json) ctx.print('Tracing run queue latency... Hit Ctrl-C to end.');
  const dist = bpf.table<HashTable<HistKey, bigint>>('dist');
  const totals = config.totals ? bpf.table<HashTable<bigint, Total>>('totals') : undefined;
  const seconds = o.interval ?? (o.chart ? 1 : FOREVER);
  const chart = o.chart ? new LiveChart({ title: `run queue latency percentiles (${unit}), every ${seconds} s` }) : null;
  const warn = missWarner(ctx, bpf.table<ArrayTable<bigint>>('misses'));
  let remaining = o.count ?? FOREVER;

  for (;;) {
    const whole = await ctx.sleep(seconds * 1000);
    const drained: Drained = { dist: dist.drain(), totals: totals?.drain() };
    collector?.absorb(drained);
    const interval: Interval = { grouping, unit, time: new Date(), sections: sectionsFrom(drained) };
    if (chart) {
      const slots = log2Merge(interval.sections.map((s) => s.slots));
      chart.push(Object.fromEntries([50, 90, 99].map((p) => [`p${p}`, log2Percentile(slots, p / 100) ?? 0])));
      chart.draw();
    } else if (o.json) {
      for (const obj of jsonInterval(interval)) ctx.json(obj);
    } else {
      ctx.print(formatInterval(interval, { timestamp: o.timestamp }).replace(/\n$/, ''));
    }
    warn();
    if (!whole || --remaining === 0) break;
  }
});

/** Says once per interval how many waits the maps had no room for (bcc drops them silently). */
function missWarner(ctx: ToolContext<Options>, misses: ArrayTable<bigint>): () => void {
  const seen = [0n, 0n];
  return () => {
    const now = [misses.get(0) ?? 0n, misses.get(1) ?? 0n];
    if (now[0] > seen[0]) ctx.warn(`${now[0] - seen[0]} waits not timed: more than the start map holds were runnable at once`);
    if (now[1] > seen[1]) ctx.warn(`${now[1] - seen[1]} waits not counted: the histogram map is full`);
    seen.splice(0, 2, ...now);
  };
}
