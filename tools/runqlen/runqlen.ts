#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// runqlen  Summarize scheduler run queue length as a histogram.
//          For Linux, uses BPF through libbcc (bcc-node-bindings).
//
// USAGE: runqlen [-h] [-T] [-O] [-C] [-H] [-f HZ] [--chart] [interval] [count]
//
// Samples every CPU 99 times a second with a timer and counts the tasks waiting in its run queue
// (excluding the one running), as a linear histogram per interval: for all CPUs, per CPU (-C), or
// as run queue occupancy, the share of samples that saw a task waiting (-O). bcc's runqlen.py,
// same options, same output.
//
// What it counts and why, the differences from bcc, the --json fields and the metrics:
// tools/runqlen/README.md; real output: tools/runqlen/runqlen_example.txt.
import { isBpfError, possibleCpus } from 'bcc-node-bindings';
import { runTool } from '../../lib/run/tool.ts';
import { UsageError } from '../../lib/run/cli.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { LiveChart } from '../../lib/output/chart.ts';
import { startMetrics } from '../../lib/metrics/agent.ts';
import { spec, type Options } from './options.ts';
import { configureRunqlen, MAX_SLOTS, type RunqlenProgram } from './program.ts';
import { countsSince, formatInterval, jsonInterval, meanLength, merged, occupancyPercent, type Counts, type Interval } from './output.ts';
import { readCounts, runqlenCollector } from './metrics.ts';

// bcc's defaults: "forever", until Ctrl-C.
const FOREVER = 99999999;

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  if (o.json && o.chart) throw new UsageError('--json and --chart exclude each other');
  const metrics = await startMetrics(ctx);

  // --- configuration → program ---
  let program: RunqlenProgram;
  try {
    program = configureRunqlen({ frequency: o.frequency, host: o.host });
  } catch (err) {
    if (isBpfError(err, 'NOT_SUPPORTED')) throw new MissingPrerequisite(err.message);
    throw err;
  }
  const bpf = ctx.load({ ...program, autoAttach: false });

  // --- attach ---
  ctx.attach(bpf, program);
  const cpus = possibleCpus().length;
  if (metrics) {
    metrics.add(runqlenCollector(bpf, cpus, metrics.seriesLimit));
    if (metrics.only) return metrics.serveUntilStopped();
  }

  // --- output loop ---
  if (!o.json) ctx.print('Sampling run queue length... Hit Ctrl-C to end.');
  const seconds = o.interval ?? (o.chart ? 1 : FOREVER);
  const chart = o.chart
    ? new LiveChart({ title: o.runqocc ? `run queue occupancy (%), every ${seconds} s` : `mean run queue length, every ${seconds} s` })
    : null;
  let before: Counts | undefined;
  let remaining = o.count ?? FOREVER;

  for (;;) {
    const whole = await ctx.sleep(seconds * 1000);
    const now = readCounts(bpf, cpus);
    const interval: Interval = { counts: countsSince(now, before), time: new Date() };
    before = now;
    if (chart) {
      const value = o.runqocc ? occupancyPercent : meanLength;
      chart.push(o.cpus
        ? Object.fromEntries(interval.counts.map((slots, cpu) => [`cpu ${cpu}`, value(slots)]))
        : { [o.runqocc ? 'runqocc' : 'runqlen']: value(merged(interval.counts)) });
      chart.draw();
    } else if (o.json) {
      for (const obj of jsonInterval(interval, { cpus: o.cpus })) ctx.json(obj);
    } else {
      ctx.print(formatInterval(interval, { timestamp: o.timestamp, cpus: o.cpus, runqocc: o.runqocc }).replace(/\n$/, ''));
    }
    warnAboutLongQueues(interval.counts);
    if (!whole || --remaining === 0) break;
  }

  function warnAboutLongQueues(counts: Counts): void {
    const long = counts.reduce((sum, slots) => sum + (slots[MAX_SLOTS - 1] ?? 0n), 0n);
    if (long > 0n) ctx.warn(`${long} samples saw ${MAX_SLOTS - 1} or more tasks waiting: counted as ${MAX_SLOTS - 1}`);
  }
});
