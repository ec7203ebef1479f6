#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// fileslower  Trace slow synchronous file reads and writes.
//             bcc's fileslower on bpfkit: every file system at once, from the read/write syscalls.
//
// USAGE: fileslower [-h] [-p PID] [-a] [--metrics ADDR] [--metrics-and-print] [--series-limit N]
//                   [--json] [--explain] [--ebpf] [--no-cache] [min_ms]
//
// By default, a minimum millisecond threshold of 10 is used.
// What it traces and why, the differences from bcc, --json and the metrics: tools/fileslower/README.md;
// real runs: tools/fileslower/fileslower_example.txt.
//
// Copyright 2016 Netflix, Inc. (bcc's fileslower, by Brendan Gregg, whose output this reproduces).
import { runTool } from '../../lib/run/tool.ts';
import { startMetrics } from '../../lib/metrics/agent.ts';
import { openEvents } from '../../lib/run/event-channel.ts';
import { EventClock, LineBatch, streamUntilStopped } from '../../lib/run/event-output.ts';
import { spec, type Options } from './options.ts';
import { DEFAULT_MIN_MS, configureFileslower } from './program.ts';
import { HEADER, decodeSlowIo, jsonLine, rowLine, tracingLine } from './output.ts';
import { fileslowerCollector, unstashed } from './metrics.ts';

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  const minMs = o.min_ms ?? DEFAULT_MIN_MS;
  // --metrics: slow calls counted per command and direction from the same records (metrics.ts).
  const metrics = await startMetrics(ctx);
  const program = configureFileslower({ minMs, pid: o.pid, allFiles: o['all-files'] });
  const bpf = ctx.load({ ...program, autoAttach: false });

  // The output loop: one record per slow call, lines gathered and written once per drain.
  const times = new EventClock();
  const out = new LineBatch(ctx.print);
  const onRecord = (record: Buffer) => {
    const ev = decodeSlowIo(record);
    collector?.record(ev);
    if (metrics?.only) return;
    const seconds = times.seconds(ev.ts);
    out.push(o.json ? jsonLine(ev, seconds) : rowLine(ev, seconds));
  };

  // Open before attaching: a perf buffer drops what arrives before its readers exist.
  const events = openEvents(bpf, program.ringBuffer, onRecord);
  const collector = metrics ? fileslowerCollector(metrics.seriesLimit, events, () => unstashed(bpf)) : null;
  if (collector) metrics!.add(collector);
  if (!o.json && !metrics?.only) ctx.print(tracingLine(minMs));
  await streamUntilStopped(ctx, bpf, program, events, { header: o.json || metrics?.only ? null : HEADER, out, clock: times });
  const notTimed = unstashed(bpf);
  if (notTimed > 0n) ctx.warn(`${notTimed} calls not timed (no entry could be made for them in the table of calls in progress)`);
});
