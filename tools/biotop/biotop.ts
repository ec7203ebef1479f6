#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// biotop     Block device (disk) I/O by process, top-style.
//            bcc's biotop on bpfkit: I/Os, bytes and latency summed in the kernel per process,
//            direction and disk, the process being the one that created each request.
//
// USAGE: biotop [-h] [-C] [-r MAXROWS] [-p PID] [--json] [--chart] [--explain] [interval] [count]
//
// What it traces and why, the differences from bcc's biotop, the --json fields and the metrics:
// tools/biotop/README.md; real output: tools/biotop/biotop_example.txt. Options: options.ts; the
// C program: biotop.bpf.c on the shared block-request core (program.ts; `--explain` shows where).
//
// After bcc's biotop (Brendan Gregg, 2016), whose screen this reproduces; the code is bpfkit's own.
import type { ArrayTable, BPF, HashTable } from 'bcc-node-bindings';
import { runTool } from '../../lib/run/tool.ts';
import { UsageError } from '../../lib/run/cli.ts';
import { clearsScreen, intervalStart } from '../../lib/output/screen.ts';
import { clock } from '../../lib/output/format.ts';
import { LiveChart } from '../../lib/output/chart.ts';
import { startMetrics } from '../../lib/metrics/agent.ts';
import { DiskNames } from '../../lib/block/disks.ts';
import { readLoadavg, summaryLine } from '../../lib/output/loadavg.ts';
import { spec, type Options } from './options.ts';
import { configureBiotop } from './program.ts';
import { rowJson, sortRows, table, toRows, totals, type CountKey, type CountValue } from './rows.ts';
import { biotopCollector, metricsEntries } from './metrics.ts';

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  if (o.json && o.chart) throw new UsageError('argument --chart: not allowed with argument --json');
  const intervalS = o.interval ?? 1;
  const count = o.count ?? Infinity;
  // --metrics alone: the table is read at each scrape and never drained (see metrics.ts).
  const metrics = await startMetrics(ctx);
  const metricsOnly = Boolean(metrics?.only);

  const program = configureBiotop({
    pid: o.pid,
    maxEntries: metricsOnly ? metricsEntries(metrics!.seriesLimit) : o['max-entries'],
    keyByPid: !metricsOnly,
  });
  const bpf: BPF = ctx.load({ ...program, autoAttach: false });
  ctx.attach(bpf, program);

  const collector = metrics ? biotopCollector(bpf, metrics.seriesLimit) : null;
  if (metrics && collector) {
    metrics.add(collector);
    if (metrics.only) return metrics.serveUntilStopped();
  }

  // --- output loop ---
  const counts = bpf.table<HashTable<CountKey, CountValue>>('counts');
  const dropped = bpf.table<ArrayTable<bigint>>('dropped');
  const disks = new DiskNames();
  const clear = clearsScreen(o.noclear);
  const chart = o.chart ? new LiveChart({ title: `biotop: block I/O, KB/s every ${intervalS}s` }) : null;
  if (!o.json && !chart) ctx.print(`Tracing... Output every ${intervalS} secs. Hit Ctrl-C to end`);

  const start = Date.now();
  let droppedBefore = 0n;
  for (let shown = 0; shown < count;) {
    // Deadlines from the start, so that a slow interval does not delay the next ones.
    const running = await ctx.sleep(start + (shown + 1) * intervalS * 1000 - Date.now());
    const rows = toRows(counts.drain(), (dev) => disks.name(dev));
    collector?.absorb(rows);
    const droppedNow = dropped.get(0) ?? 0n;
    const lost = Number(droppedNow - droppedBefore);
    droppedBefore = droppedNow;
    if (lost > 0) ctx.warn(`${lost} I/Os not counted: the table is full (${o['max-entries']} rows in one interval)`);
    const shownRows = sortRows(rows, o.maxrows);
    const now = new Date();

    if (o.json) {
      const load = readLoadavg();
      ctx.json({
        time: clock(now), interval_s: intervalS, loadavg: [load.load1, load.load5, load.load15],
        dropped: lost, rows_omitted: rows.length - shownRows.length, rows: shownRows.map(rowJson),
      });
    } else if (chart) {
      const sum = totals(rows);
      chart.push({ 'read KB/s': Number(sum.readBytes) / 1024 / intervalS, 'write KB/s': Number(sum.writeBytes) / 1024 / intervalS });
      chart.draw();
    } else {
      ctx.print(`${intervalStart(clear)}${summaryLine(clock(now), readLoadavg())}\n${table(shownRows).join('\n')}`);
    }
    shown++;
    if (!running) break; // Ctrl-C: the partial interval above was the last, as bcc's
  }
  if (!o.json && !chart) ctx.print('Detaching...');
});
