#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// exitsnoop  Trace all process termination (exit, fatal signal).
//            bcc's exitsnoop on bpfkit: one record per process end, with its age and exit status.
//
// USAGE: exitsnoop [-h] [-t] [--utc] [-p PID] [--label LABEL] [-x] [--per-thread] [-j]
//                  [--metrics ADDR] [--metrics-and-print] [--series-limit N] [--explain] [--ebpf]
//                  [--no-cache]
//
// With -p, it ends once that process has ended, as bcc's does (not with --per-thread or --metrics).
// What it traces and why, the differences from bcc, --json and the metrics: tools/exitsnoop/README.md;
// real runs: tools/exitsnoop/exitsnoop_example.txt.
//
// Copyright 2019 Instana, Inc. (bcc's exitsnoop, by Arturo Martin-de-Nicolas, whose output this reproduces).
import fs from 'node:fs';
import { runTool } from '../../lib/run/tool.ts';
import { startMetrics } from '../../lib/metrics/agent.ts';
import { openEvents } from '../../lib/run/event-channel.ts';
import { spec, type Options } from './options.ts';
import { configureExitsnoop } from './program.ts';
import { clockMs, decodeExitRecord, headerLine, isoMs, jsonLine, rowLine, type ColumnOptions } from './events.ts';
import { exitsnoopCollector } from './metrics.ts';

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  // --metrics: exits counted by code and by signal from the same records (metrics.ts).
  const metrics = await startMetrics(ctx);
  const program = configureExitsnoop({ perThread: o['per-thread'], failedOnly: o.failed, pid: o.pid });
  const bpf = ctx.load({ ...program, autoAttach: false });

  // bcc's --label with an empty value means "exit"; the parser refuses empty values, so any label is the user's.
  const columns: ColumnOptions = { timestamp: o.timestamp || o.utc, utc: o.utc, label: o.label };
  let wallOffsetMs = 0;
  const wallAt = (ts: bigint) => new Date(Number(ts) / 1e6 + wallOffsetMs);
  const lines: string[] = [];
  let flushQueued = false;
  const flush = () => {
    flushQueued = false;
    if (lines.length) ctx.print(lines.splice(0).join('\n'));
  };
  const onRecord = (record: Buffer) => {
    const ev = decodeExitRecord(record);
    collector?.record(ev);
    // -p: the process's own end is the last thing there is to see (threads go on with
    // --per-thread), unless a Prometheus is still to read the counts.
    if (o.pid !== undefined && !o['per-thread'] && !metrics) ctx.stop();
    if (metrics?.only) return;
    if (o.json) lines.push(jsonLine(ev, isoMs(wallAt(ev.ts), o.utc), o.label));
    else lines.push(rowLine(ev, columns, columns.timestamp ? clockMs(wallAt(ev.ts), o.utc) : ''));
    if (!flushQueued) {
      flushQueued = true;
      setImmediate(flush);
    }
  };

  // Open before attaching: a perf buffer drops what arrives before its readers exist.
  const events = openEvents(bpf, program.ringBuffer, onRecord);
  let lostReported = 0n;
  const reportLost = () => {
    const lost = events.lost();
    if (lost > lostReported) {
      ctx.warn(`lost ${lost - lostReported} events (the ${events.kind} buffer was full)`);
      lostReported = lost;
    }
  };
  const collector = metrics ? exitsnoopCollector(metrics.seriesLimit, events) : null;
  if (collector) metrics!.add(collector);

  // bpf_ktime_get_ns() and process.hrtime() both read CLOCK_MONOTONIC: one offset turns an exit's
  // timestamp into wall time.
  wallOffsetMs = Date.now() - Number(process.hrtime.bigint()) / 1e6;
  if (!o.json && !metrics?.only) ctx.print(headerLine(columns));
  ctx.attach(bpf, program);
  // A process that ended between the option check and the attach would be waited for in vain.
  if (o.pid !== undefined && !fs.existsSync(`/proc/${o.pid}`)) {
    ctx.warn(`process ${o.pid} ended before tracing began`);
    ctx.stop();
  }
  const lostTimer = setInterval(reportLost, 1000);

  await ctx.stopped;
  clearInterval(lostTimer);
  events.flush();
  flush();
  reportLost();
});
