#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// biosnoop  Trace block device I/O with PID and latency.
//           bcc's biosnoop on bpfkit: one row per completed request, with the process that created it.
//
// USAGE: biosnoop [-h] [-Q] [-d DISK] [-P] [-t] [-m MIN] [--json] [--explain] [--ebpf] [--no-cache]
//                 [duration]
//
// What it traces and why, the differences from bcc and the --json fields: tools/biosnoop/README.md;
// real runs: tools/biosnoop/biosnoop_example.txt.
//
// Copyright (c) 2015 Brendan Gregg (bcc's biosnoop, whose output this reproduces).
import { runTool } from '../../lib/run/tool.ts';
import { openEvents } from '../../lib/run/event-channel.ts';
import { EventClock, LineBatch, streamUntilStopped } from '../../lib/run/event-output.ts';
import { DiskNames } from '../../lib/block/disks.ts';
import { spec, type Options } from './options.ts';
import { configureBiosnoop } from './program.ts';
import { decodeIoRecord, headerLine, jsonLine, rowLine, secondsSince, wallClockMs, type ColumnOptions } from './events.ts';

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  const program = configureBiosnoop({ disk: o.disk?.dev, pattern: o.pattern, minMs: o.min });
  const bpf = ctx.load({ ...program, autoAttach: false });

  // The output loop: one record per completed request, lines gathered and written once per drain.
  const columns: ColumnOptions = { queue: o.queue, pattern: o.pattern, timestamp: o.timestamp };
  const disks = new DiskNames();
  // bcc prints a disk it cannot name as "<unknown>".
  const diskName = (dev: number) => { const name = disks.name(dev); return name === '?' ? '<unknown>' : name; };
  const times = new EventClock();
  const out = new LineBatch(ctx.print);
  // TIME(s) counts from the first completion seen, as bcc's does.
  let first = -1n;
  const onRecord = (record: Buffer) => {
    const ev = decodeIoRecord(record);
    if (first < 0n) first = ev.ts;
    if (o.json) {
      out.push(jsonLine(ev, first, wallClockMs(times.date(ev.ts)), diskName(ev.dev), o.pattern));
    } else {
      const time = o.timestamp ? wallClockMs(times.date(ev.ts)) : secondsSince(ev.ts, first);
      out.push(rowLine(ev, columns, time, diskName(ev.dev)));
    }
  };

  // Open before attaching: a perf buffer drops what arrives before its readers exist.
  const events = openEvents(bpf, program.ringBuffer, onRecord);
  await streamUntilStopped(ctx, bpf, program, events, {
    header: o.json ? null : headerLine(columns),
    out,
    clock: times,
    // libbpf-tools' duration counts from when tracing began.
    attached: () => { if (o.duration) void ctx.sleep(o.duration * 1000).then((whole) => { if (whole) ctx.stop(); }); },
  });
});
