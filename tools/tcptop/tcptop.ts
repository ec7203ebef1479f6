#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// tcptop    Summarize TCP send/recv throughput by host, top-style.
//           bcc's tcptop on bpfkit: the bytes are summed in the kernel, per process and connection.
//
// USAGE: tcptop [-h] [-C] [-S] [-p PID] [-4 | -6] [--cgroupmap PATH] [--mntnsmap PATH]
//               [--sort rx|tx|total] [-n N] [--json] [--chart] [--explain] [interval [count]]
//
// What it traces and why, the differences from bcc's tcptop, the --json fields and the metrics:
// tools/tcptop/README.md; real output: tools/tcptop/tcptop_example.txt. Options: options.ts;
// the C program and its attach points: tcptop.bpf.c and program.ts (`--explain` shows the choice).
//
// After bcc's tcptop (Brendan Gregg, 2016), whose screen this reproduces; the code is bpfkit's own.
import type { ArrayTable, BPF, HashTable } from 'bcc-node-bindings';
import { runTool } from '../../lib/run/tool.ts';
import { UsageError } from '../../lib/run/cli.ts';
import type { ToolProgram } from '../../lib/run/program.ts';
import { CGROUP_MAP, MNTNS_MAP, containerFilters, openPinnedMap } from '../../lib/kernel/pinned-maps.ts';
import { clearsScreen, intervalStart } from '../../lib/output/screen.ts';
import { clock } from '../../lib/output/format.ts';
import { LiveChart } from '../../lib/output/chart.ts';
import { startMetrics } from '../../lib/metrics/agent.ts';
import { spec, type Options } from './options.ts';
import { configureTcptop } from './program.ts';
import { flowJson, flowRows, flowTables, sortRows, totals, type FlowKey, type FlowValue } from './flows.ts';
import { readLoadavg, summaryLine } from '../../lib/output/loadavg.ts';
import { metricsFlowEntries, tcptopCollector } from './metrics.ts';

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  if (o.ipv4 && o.ipv6) throw new UsageError('argument -6/--ipv6: not allowed with argument -4/--ipv4');
  if (o.json && o.chart) throw new UsageError('argument --chart: not allowed with argument --json');
  const intervalS = o.interval ?? 1;
  const count = o.count ?? Infinity;
  // --metrics: the flow table is read at each scrape and never drained (see tools/tcptop/metrics.ts).
  const metrics = await startMetrics(ctx);

  // --- configuration → program, attach ---
  const cgroupMap = o.cgroupmap ? openPinnedMap(o.cgroupmap, CGROUP_MAP) : null;
  const mntnsMap = o.mntnsmap ? openPinnedMap(o.mntnsmap, MNTNS_MAP) : null;
  const containers = containerFilters(cgroupMap, mntnsMap, !o.ebpf);
  let program: ToolProgram;
  let bpf: BPF;
  try {
    program = configureTcptop({
      pid: o.pid,
      family: o.ipv4 ? 4 : o.ipv6 ? 6 : undefined,
      containers: containers.defines,
      maxFlows: metrics?.only ? metricsFlowEntries(metrics.seriesLimit) : o['max-flows'],
    });
    bpf = ctx.load({ ...program, autoAttach: false });
  } finally {
    containers.unpin();
  }
  ctx.attach(bpf, program);

  const collector = metrics ? tcptopCollector(bpf, metrics.seriesLimit) : null;
  if (metrics && collector) {
    metrics.add(collector);
    if (metrics.only) return metrics.serveUntilStopped();
  }

  // --- output loop ---
  const flows = bpf.table<HashTable<FlowKey, FlowValue>>('flows');
  const dropped = bpf.table<ArrayTable<bigint>>('dropped');
  const clear = clearsScreen(o.noclear);
  const chart = o.chart ? new LiveChart({ title: `tcptop: total TCP throughput, KB/s every ${intervalS}s` }) : null;
  if (!o.json && !chart) ctx.print(`Tracing... Output every ${intervalS} secs. Hit Ctrl-C to end`);

  const start = Date.now();
  let droppedBefore = 0n;
  for (let shown = 0; shown < count;) {
    // Deadlines from the start, so that a slow interval does not delay the next ones.
    const running = await ctx.sleep(start + (shown + 1) * intervalS * 1000 - Date.now());
    const drained = flows.drain();
    collector?.absorb(drained);
    const rows = flowRows(drained);
    const droppedNow = dropped.get(0) ?? 0n;
    const lost = Number(droppedNow - droppedBefore);
    droppedBefore = droppedNow;
    if (lost > 0) ctx.warn(`${lost} sends/receives not counted: the flow table is full (${o['max-flows']} flows in one interval)`);
    const shownRows = sortRows(rows, o.sort, o.top);
    const now = new Date();

    if (o.json) {
      const load = readLoadavg();
      ctx.json({
        time: clock(now), interval_s: intervalS, loadavg: [load.load1, load.load5, load.load15],
        dropped: lost, flows: shownRows.map(flowJson),
      });
    } else if (chart) {
      const sum = totals(rows);
      chart.push({ 'RX KB/s': sum.rxBytes / 1024 / intervalS, 'TX KB/s': sum.txBytes / 1024 / intervalS });
      chart.draw();
    } else {
      let text = intervalStart(clear);
      if (!o.nosummary) text += `${summaryLine(clock(now), readLoadavg())}\n`;
      text += flowTables(shownRows, o.ipv6 ? 6 : 4).join('\n');
      ctx.print(text);
    }
    shown++;
    if (!running) break; // Ctrl-C: the partial interval above was the last, as bcc's
  }
});

