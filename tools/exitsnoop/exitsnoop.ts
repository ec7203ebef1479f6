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
import { EventClock, LineBatch, streamUntilStopped } from '../../lib/run/event-output.ts';
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
  const times = new EventClock();
  const out = new LineBatch(ctx.print);
  const onRecord = (record: Buffer) => {
    const ev = decodeExitRecord(record);
    collector?.record(ev);
    // -p: the process's own end is the last thing there is to see (threads go on with
    // --per-thread), unless a Prometheus is still to read the counts.
    if (o.pid !== undefined && !o['per-thread'] && !metrics) ctx.stop();
    if (metrics?.only) return;
    if (o.json) out.push(jsonLine(ev, isoMs(times.date(ev.ts), o.utc), o.label));
    else out.push(rowLine(ev, columns, columns.timestamp ? clockMs(times.date(ev.ts), o.utc) : ''));
  };

  // Open before attaching: a perf buffer drops what arrives before its readers exist.
  const events = openEvents(bpf, program.ringBuffer, onRecord);
  const collector = metrics ? exitsnoopCollector(metrics.seriesLimit, events) : null;
  if (collector) metrics!.add(collector);
  await streamUntilStopped(ctx, bpf, program, events, {
    header: !o.json && !metrics?.only ? headerLine(columns) : null, out, clock: times,
    attached() {
      // A process that ended between the option check and the attach would be waited for in vain.
      if (o.pid !== undefined && !fs.existsSync(`/proc/${o.pid}`)) {
        ctx.warn(`process ${o.pid} ended before tracing began`);
        ctx.stop();
      }
    },
  });
});
