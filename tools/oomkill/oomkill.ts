#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// oomkill  Trace the OOM killer.
//          bcc's oomkill on bpfkit: one line per OOM kill, with the load averages at the time.
//
// USAGE: oomkill [-h] [--metrics ADDR] [--metrics-and-print] [--series-limit N] [--json]
//                [--explain] [--ebpf] [--no-cache]
//
// Each line names the task that was running when the kernel ran out of memory (its allocation
// triggered the kill), the victim, its pages, and /proc/loadavg: was the system getting busier?
// What it traces and why, the differences from bcc, --json and the metrics: tools/oomkill/README.md;
// real runs: tools/oomkill/oomkill_example.txt.
//
// Copyright 2016 Netflix, Inc. (bcc's oomkill, by Brendan Gregg, whose output this reproduces).
import { EventClock, streamUntilStopped } from '../../lib/run/event-output.ts';
import { runTool } from '../../lib/run/tool.ts';
import { startMetrics } from '../../lib/metrics/agent.ts';
import { openEvents } from '../../lib/run/event-channel.ts';
import { spec, type Options } from './options.ts';
import { configureOomkill } from './program.ts';
import { HEADER, commFromProc, decodeOomRecord, jsonLine, killLine, pageSizeKb, readLoadavg } from './events.ts';
import { oomkillCollector } from './metrics.ts';

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  // --metrics: kills counted per victim name from the same records (metrics.ts).
  const metrics = await startMetrics(ctx);
  const program = configureOomkill();
  const bpf = ctx.load({ ...program, autoAttach: false });

  // The output loop: one record per victim; the load averages are read as the line is printed,
  // as bcc does.
  const times = new EventClock();
  let pageKb: number | undefined;
  const onRecord = (record: Buffer) => {
    const ev = decodeOomRecord(record);
    // A pre-6.9 tracepoint names only the victim's PID: its name, while /proc still has it.
    if (ev.victimComm === null) ev.victimComm = commFromProc(ev.victimPid);
    collector?.record(ev);
    if (metrics?.only) return;
    pageKb ??= pageSizeKb();
    const time = times.clock(ev.ts);
    const loadavg = readLoadavg();
    ctx.print(o.json ? jsonLine(ev, time, pageKb, loadavg) : killLine(ev, time, pageKb, loadavg));
  };

  // Open before attaching: a perf buffer drops what arrives before its readers exist.
  const events = openEvents(bpf, program.ringBuffer, onRecord);
  const collector = metrics ? oomkillCollector(metrics.seriesLimit, events) : null;
  if (collector) metrics!.add(collector);
  await streamUntilStopped(ctx, bpf, program, events, { header: !o.json && !metrics?.only ? HEADER : null, clock: times });
});
