#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// cpudist  Summarize on- and off-CPU time per task as a histogram.
//          For Linux, uses BPF through libbcc (bcc-node-bindings).
//
// USAGE: cpudist [-h] [-O] [-T] [-m] [-P] [-L] [-p PID] [-I] [-e] [--json] [--chart] [--explain]
//                [--ebpf] [--metrics ADDR] [interval] [count]
//
// Measures how long each task ran on a CPU before it was switched out (or, with -O, how long it
// was off the CPU before it came back), from the scheduler's context switches, and prints the
// times as a log2 histogram per interval: for all tasks, per process (-P) or per thread (-L).
// bcc's cpudist.py (Sasha Goldshtein, 2016), same options, same output.
//
// What it traces and why, the differences from bcc, the --json fields and the metrics:
// tools/cpudist/README.md; real output: tools/cpudist/cpudist_example.txt.
import type { ArrayTable, HashTable } from 'bcc-node-bindings';
import { runTool } from '../../lib/run/tool.ts';
import { UsageError } from '../../lib/run/cli.ts';
import { LiveChart } from '../../lib/output/chart.ts';
import { startMetrics } from '../../lib/metrics/agent.ts';
import { log2Merge, log2Percentile } from '../../lib/output/log2-stats.ts';
import { spec, type Options } from './options.ts';
import { configureCpudist, type CpudistConfig } from './program.ts';
import { formatInterval, headerLine, jsonInterval, KIND_OFF, KIND_ON, sectionsFrom, type Drained, type ExtKey, type ExtValue, type HistKey, type Interval } from './output.ts';
import { cpudistCollector } from './metrics.ts';

// bcc's defaults: "forever", until Ctrl-C.
const FOREVER = 99999999;

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  if (o.json && o.chart) throw new UsageError('--json and --chart exclude each other');
  const metrics = await startMetrics(ctx);
  const unit = o.milliseconds ? 'msecs' : 'usecs';

  // --- configuration → program ---
  const config: CpudistConfig = {
    measure: o.offcpu ? 'off' : 'on',
    nsPerUnit: o.milliseconds ? 1_000_000 : 1000,
    // bcc: -L wins over -P.
    grouping: o.tids ? 'tid' : o.pids ? 'pid' : 'none',
    pid: o.pid,
    includeIdle: o['include-idle'],
    extension: o.extension || o.json,
    seriesLimit: metrics?.seriesLimit,
  };
  const program = configureCpudist(config);
  const bpf = ctx.load({ ...program, autoAttach: false });

  // --- attach ---
  ctx.attach(bpf, program);
  const collector = metrics ? cpudistCollector(bpf, { ...config, seriesLimit: metrics.seriesLimit }) : null;
  if (metrics && collector) {
    metrics.add(collector);
    if (metrics.only) return metrics.serveUntilStopped();
  }

  // --- output loop ---
  if (!o.json) ctx.print(headerLine(o.offcpu));
  const kind = o.offcpu ? KIND_OFF : KIND_ON;
  const dist = bpf.table<HashTable<HistKey, bigint>>('dist');
  const ext = config.extension ? bpf.table<HashTable<ExtKey, ExtValue>>('ext') : undefined;
  const misses = bpf.table<ArrayTable<bigint>>('misses');
  const seconds = o.interval ?? (o.chart ? 1 : FOREVER);
  const chart = o.chart ? new LiveChart({ title: `${o.offcpu ? 'off' : 'on'}-CPU time percentiles (${unit}), every ${seconds} s` }) : null;
  const missed = [0n, 0n];
  let remaining = o.count ?? FOREVER;

  for (;;) {
    const whole = await ctx.sleep(seconds * 1000);
    const drained: Drained = { dist: dist.drain(), ext: ext?.drain() };
    collector?.absorb(drained);
    const interval: Interval = { grouping: config.grouping, unit, offcpu: o.offcpu, time: new Date(), sections: sectionsFrom(drained, kind) };
    if (chart) {
      const slots = log2Merge(interval.sections.map((s) => s.slots));
      chart.push(Object.fromEntries([50, 90, 99].map((p) => [`p${p}`, log2Percentile(slots, p / 100) ?? 0])));
      chart.draw();
    } else if (o.json) {
      for (const obj of jsonInterval(interval, { extension: o.extension })) ctx.json(obj);
    } else {
      ctx.print(formatInterval(interval, { timestamp: o.timestamp, extension: o.extension }).replace(/\n$/, ''));
    }
    warnAboutMisses();
    if (!whole || --remaining === 0) break;
  }

  function warnAboutMisses(): void {
    const now = [misses.get(0) ?? 0n, misses.get(1) ?? 0n];
    if (now[0] > missed[0]) ctx.warn(`${now[0] - missed[0]} slices not timed: the map of tasks in a slice is full`);
    if (now[1] > missed[1]) ctx.warn(`${now[1] - missed[1]} slices not counted: the histogram map is full`);
    missed.splice(0, 2, ...now);
  }
});
