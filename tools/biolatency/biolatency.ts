#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// biolatency  Summarize block device I/O latency as a histogram.
//             For Linux, uses BPF through libbcc (bcc-node-bindings).
//
// USAGE: biolatency [-h] [-T] [-Q] [-m] [-D] [-F] [-e] [-j] [-d DISK] [--explain] [--ebpf] [--chart]
//                   [interval] [count]
//
// Times every block I/O request from issue to the device (or, with -Q, from when it was queued in
// the OS) to its completion, and prints the latencies as a log2 histogram per interval: for all
// disks, per disk (-D) or per set of request flags (-F). bcc's biolatency.py, same options, same
// output.
//
// What it traces and why, the differences from bcc, the --json fields and the metrics:
// tools/biolatency/README.md; real output: tools/biolatency/biolatency_example.txt.
import { type ArrayTable, type HashTable } from 'bcc-node-bindings';
import { runTool } from '../../lib/run/tool.ts';
import { UsageError } from '../../lib/run/cli.ts';
import { LiveChart } from '../../lib/output/chart.ts';
import { startMetrics } from '../../lib/metrics/agent.ts';
import { spec, type Options } from './options.ts';
import { configureBiolatency } from './program.ts';
import { describeFlags, requestFlagLayout } from '../../lib/block/flags.ts';
import { DiskNames } from '../../lib/block/disks.ts';
import { allSlots, formatInterval, jsonInterval, sectionsFrom, type Drained, type Grouping, type Interval } from './output.ts';
import { log2Percentile } from '../../lib/output/log2-stats.ts';
import { biolatencyCollector } from './metrics.ts';

// bcc's defaults: "forever", until Ctrl-C.
const FOREVER = 99999999;

interface HistKey { group: bigint; slot: bigint }
interface ExtValue { total: bigint; count: bigint }

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  if (o.disks && o.flags) throw new UsageError('can only use -D or -F');
  if (o.json && o.chart) throw new UsageError('--json and --chart exclude each other');
  // --metrics: a histogram per disk (per flag set with -F), with the latency sum for _sum.
  const metrics = await startMetrics(ctx);
  const grouping: Grouping = o.disks || (metrics && !o.flags) ? 'disk' : o.flags ? 'flags' : 'none';
  const unit = o.milliseconds ? 'msecs' : 'usecs';

  // --- configuration → program ---
  const config = {
    queued: o.queued,
    grouping,
    nsPerUnit: o.milliseconds ? 1_000_000 : 1000,
    disk: o.disk?.dev,
    extension: o.extension,
    seriesLimit: metrics?.seriesLimit,
    flagLayout: o.flags ? requestFlagLayout() : undefined,
  };
  const program = configureBiolatency(config);
  const bpf = ctx.load({ ...program, autoAttach: false });

  // --- attach ---
  ctx.attach(bpf, program);
  const collector = metrics && grouping !== 'none' ? biolatencyCollector(bpf, { ...config, grouping, seriesLimit: metrics.seriesLimit }) : null;
  if (metrics && collector) {
    metrics.add(collector);
    if (metrics.only) return metrics.serveUntilStopped();
  }

  // --- output loop ---
  if (!o.json) ctx.print('Tracing block device I/O... Hit Ctrl-C to end.');
  const disks = new DiskNames();
  const labelOf = (group: number) => (grouping === 'disk' ? disks.name(group) : describeFlags(group, config.flagLayout!));
  const dist = bpf.table<HashTable<HistKey, bigint>>('dist');
  const ext = o.extension ? bpf.table<HashTable<bigint, ExtValue>>('ext') : undefined;
  const misses = bpf.table<ArrayTable<bigint>>('misses');
  const seconds = o.interval ?? (o.chart ? 1 : FOREVER);
  const chart = o.chart ? new LiveChart({ title: `block I/O latency percentiles (${unit}), every ${seconds} s` }) : null;
  const missed = [0n, 0n];
  let remaining = o.count ?? FOREVER;

  for (;;) {
    const whole = await ctx.sleep(seconds * 1000);
    const interval: Interval = {
      grouping, unit, time: new Date(),
      sections: sectionsFrom(absorbed({ dist: dist.drain(), ext: ext?.drain() }), grouping, labelOf),
    };
    if (chart) {
      const slots = allSlots(interval);
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

  function absorbed(drained: Drained): Drained {
    collector?.absorb(drained);
    return drained;
  }

  function warnAboutMisses(): void {
    const now = [misses.get(0) ?? 0n, misses.get(1) ?? 0n];
    if (now[0] > missed[0]) ctx.warn(`${now[0] - missed[0]} I/Os not timed: more than 10240 requests in flight`);
    if (now[1] > missed[1]) ctx.warn(`${now[1] - missed[1]} I/Os not counted: the histogram map is full`);
    missed.splice(0, 2, ...now);
  }
});
