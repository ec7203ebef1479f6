#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// bashreadline  Print commands entered into bash, system-wide.
//               bcc's bashreadline on bpfkit: a uretprobe on readline's return in bash (or
//               the libreadline it links) prints each line an interactive bash reads.
//
// USAGE: bashreadline [-h] [-s SHARED] [--json] [--explain] [--ebpf] [--no-cache]
//
// A line is shown as typed, whether or not the command then runs or fails. What it traces and
// why, the differences from bcc and --json: tools/bashreadline/README.md; real runs:
// tools/bashreadline/bashreadline_example.txt.
//
// Copyright 2016 Netflix, Inc. (bcc's bashreadline, by Brendan Gregg, whose output this reproduces).
import { EventClock, LineBatch, streamUntilStopped } from '../../lib/run/event-output.ts';
import { runTool } from '../../lib/run/tool.ts';
import { openEvents } from '../../lib/run/event-channel.ts';
import { spec, type Options } from './options.ts';
import { configureBashreadline } from './program.ts';
import { decodeLineRecord, headerLine, jsonLine, rowLine } from './events.ts';

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  const program = configureBashreadline({ shared: o.shared });
  const bpf = ctx.load({ ...program, autoAttach: false });

  const times = new EventClock();
  const out = new LineBatch(ctx.print);
  const onRecord = (record: Buffer) => {
    const ev = decodeLineRecord(record);
    // In a shared libreadline the probe also fires for other programs' prompts (program.ts).
    if (program.bashOnly && ev.comm !== 'bash') return;
    const time = times.clock(ev.ts);
    out.push(o.json ? jsonLine(ev, time, times.seconds(ev.ts)) : rowLine(ev, time));
  };

  // Open before attaching: a perf buffer drops what arrives before its readers exist.
  const events = openEvents(bpf, program.ringBuffer, onRecord);
  await streamUntilStopped(ctx, bpf, program, events, { header: o.json ? null : headerLine(), out, clock: times });
});
