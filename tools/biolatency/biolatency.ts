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
// What it traces, and why (tools/biolatency/plan.ts chooses, tools/biolatency/biolatency.bpf.c has the details):
// stable block tracepoints, not the kprobes on blk_account_io_* that bcc tries first (inlined in
// 5.16, removed in 6.4). Raw tracepoints block_rq_issue / block_rq_complete come first (with -Q
// block_io_start, or block_rq_insert before 6.5; block_rq_requeue and, with -Q, block_rq_merge keep
// the match right): they pass the request itself, a key that holds from queue to completion.
// Without raw tracepoints (before 4.17) the classic tracepoints are used with bcc's (dev, sector)
// key; kprobes only where neither exists. The disk and flags of a request are read at offsets
// from the running kernel's BTF, or taken from the tracepoints' dev and rwbs fields: never from
// compile-time kernel headers, which may be another kernel's. Only request-based devices have
// requests: I/O to bio-based ones (device-mapper, md, zram) shows on the disks below them, if any.
// BPFKIT_BIOLATENCY_AVOID=raw_tracepoint[,tracepoint,kprobe] rules attach kinds out (to try or
// test the fallbacks).
//
// Differences from bcc, and why:
// - Per-disk and per-flag histograms are keyed by (disk or flags, slot) in a map with room for
//   thousands of pairs; bcc's holds 64 pairs in all and drops buckets when several disks are busy.
//   A full map is reported on stderr, never silent.
// - No usable completion probe is an error naming every probe tried and why (bcc attaches nothing
//   and prints empty histograms).
// - -F works on tracepoints (bcc refuses it there) and names flags with this kernel's numbers
//   from BTF (bcc's table predates renumbered operations, e.g. ZoneReset). Sections print sorted
//   by name (bcc: hash order); flag values with the same name share one histogram.
// - -d takes a name or a /dev path and refuses partitions, which requests never carry (bcc then
//   shows nothing). -D and -F together are refused, as in bcc, but with exit status 2.
// - Histograms are read and cleared bucket by bucket in one batch call (bcc reads the whole map,
//   then clears it, losing the I/O counted in between).
// - -j/--json prints real JSON, one object per line (bcc prints Python dicts), and no blank or -T
//   lines; -e there adds avg/total/count to each object (bcc ignores -e with -j).
// - Added: --explain, --chart (p50/p90/p99 per interval, every second unless an interval is given).
//
// -j/--json: per interval, one object per disk (-D), flag set (-F), or one for all I/O:
//   {"ts":"2026-11-25 10:00:01","val_type":"usecs","data":[{"interval-start":0,"interval-end":1,
//    "count":0},{"interval-start":2,"interval-end":3,"count":5},...],"disk":"sda"}
//   data runs from bucket "0 -> 1" to the last non-empty bucket, as bcc's; "disk" (-D) or "flags"
//   (-F) labels the section; with -e, "avg", "total" (latency sum, in val_type) and "count".
import { type ArrayTable, type HashTable } from 'bcc-node-bindings';
import { runTool } from '../../lib/run/tool.ts';
import { UsageError, type ToolSpec } from '../../lib/run/cli.ts';
import { planBiolatency } from './plan.ts';
import { describeFlags, describedMask, requestFlagLayout, rwbsDefines } from './block-flags.ts';
import { DiskNames, diskByName, type Disk } from './disks.ts';
import { allSlots, formatInterval, jsonInterval, sectionsFrom, type Drained, type Grouping, type Interval } from './output.ts';
import { log2Percentile } from './log2-stats.ts';
import { LiveChart } from '../../lib/output/chart.ts';
import { METRICS_OPTIONS, startMetrics, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { biolatencyCollector, metricsHistEntries } from './metrics.ts';

const spec: ToolSpec = {
  name: 'biolatency',
  description: 'Summarize block device I/O latency as a histogram',
  options: [
    { long: 'timestamp', short: 'T', type: 'boolean', help: 'include timestamp on output' },
    { long: 'queued', short: 'Q', type: 'boolean', help: 'include OS queued time in I/O time' },
    { long: 'milliseconds', short: 'm', type: 'boolean', help: 'millisecond histogram' },
    { long: 'disks', short: 'D', type: 'boolean', help: 'print a histogram per disk device' },
    { long: 'flags', short: 'F', type: 'boolean', help: 'print a histogram per set of I/O flags' },
    { long: 'extension', short: 'e', type: 'boolean', help: 'summarize average/total value' },
    { long: 'json', short: 'j', type: 'boolean', help: 'json output (one JSON object per line)' },
    { long: 'disk', short: 'd', type: 'string', metavar: 'DISK', parse: diskByName, help: 'Trace this disk only' },
    ...METRICS_OPTIONS,
  ],
  positionals: [
    { name: 'interval', type: 'int', min: 1, max: 99999999, help: 'output interval, in seconds' },
    { name: 'count', type: 'int', min: 1, max: 99999999, help: 'number of outputs' },
  ],
  chart: true,
  examples: [
    ['biolatency', 'summarize block I/O latency as a histogram'],
    ['biolatency 1 10', 'print 1 second summaries, 10 times'],
    ['biolatency -mT 1', '1s summaries, milliseconds, and timestamps'],
    ['biolatency -Q', 'include OS queued time in I/O time'],
    ['biolatency -D', 'show each disk device separately'],
    ['biolatency -F', 'show I/O flags separately'],
    ['biolatency -j', 'print one JSON object per histogram'],
    ['biolatency -e', 'show extension summary(total, average)'],
    ['biolatency -d sdc', 'Trace sdc only'],
    ['biolatency --chart', 'chart p50/p90/p99 latency every second'],
    ['biolatency --metrics 9435', 'serve latency histograms per disk to Prometheus'],
  ],
};

interface Options extends MetricsOptions {
  timestamp: boolean; queued: boolean; milliseconds: boolean; disks: boolean; flags: boolean;
  extension: boolean; disk?: Disk; interval?: number; count?: number;
}

// bcc's defaults: "forever", until Ctrl-C.
const FOREVER = 99999999;
// Map sizes: a histogram has at most 64 slots; -D keeps room for many disks, -F for many flag sets.
const HIST_ENTRIES = { none: 128, disk: 64 * 128, flags: 64 * 64 } as const;
const GROUP_ENTRIES = 1024;

interface HistKey { group: bigint; slot: bigint }
interface ExtValue { total: bigint; count: bigint }

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  if (o.disks && o.flags) throw new UsageError('can only use -D or -F');
  if (o.json && o.chart) throw new UsageError('--json and --chart exclude each other');
  // --metrics: a histogram per disk (per flag set with -F), with the latency sum (-e) for _sum.
  const metrics = await startMetrics(ctx);
  const grouping: Grouping = o.disks || (metrics && !o.flags) ? 'disk' : o.flags ? 'flags' : 'none';
  const unit = o.milliseconds ? 'msecs' : 'usecs';

  // --- configuration → program ---
  const plan = planBiolatency({ queued: o.queued, disk: grouping === 'disk' || o.disk !== undefined, flags: o.flags });
  const flagLayout = o.flags ? requestFlagLayout() : undefined;
  const choices = [...plan.choices];
  if (flagLayout) choices.push({ purpose: 'flag names (-F)', chosen: flagLayout.source, rejected: [] });
  const bpf = ctx.load({
    file: 'biolatency.bpf.c',
    autoAttach: false,
    defines: {
      ...plan.defines,
      QUEUED: o.queued,
      NS_PER_UNIT: o.milliseconds ? 1_000_000 : 1000,
      GROUP_BY: { none: 0, disk: 1, flags: 2 }[grouping],
      FILTER_DEV: o.disk !== undefined,
      TARGET_DEV: o.disk?.dev ?? 0,
      EXTENSION: o.extension || metrics !== null,
      HIST_ENTRIES: metrics ? metricsHistEntries(metrics.seriesLimit) : o.disk && o.disks ? HIST_ENTRIES.none : HIST_ENTRIES[grouping],
      GROUP_ENTRIES: metrics ? Math.min(1 << 20, metrics.seriesLimit) : grouping === 'none' ? 1 : GROUP_ENTRIES,
      FLAGS_MASK: flagLayout ? describedMask(flagLayout) : 0,
      ...(flagLayout && !plan.matchByRequest ? rwbsDefines(flagLayout) : {}),
    },
  });

  // --- attach ---
  for (const probe of plan.probes) {
    if (probe.kind === 'raw_tracepoint') bpf.attachRawTracepoint({ tp: probe.target, fnName: probe.fnName });
    else if (probe.kind === 'tracepoint') bpf.attachTracepoint({ tp: probe.target, fnName: probe.fnName });
    else bpf.attachKprobe({ event: probe.target, fnName: probe.fnName });
  }
  ctx.attached(bpf, choices);
  const collector = metrics && grouping !== 'none'
    ? biolatencyCollector(bpf, { grouping, nsPerUnit: o.milliseconds ? 1_000_000 : 1000, flagLayout, seriesLimit: metrics.seriesLimit })
    : null;
  if (metrics && collector) {
    metrics.add(collector);
    if (metrics.only) return metrics.serveUntilStopped();
  }

  // --- output loop ---
  if (!o.json) ctx.print('Tracing block device I/O... Hit Ctrl-C to end.');
  const disks = new DiskNames();
  const labelOf = (group: number) => (grouping === 'disk' ? disks.name(group) : describeFlags(group, flagLayout!));
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
