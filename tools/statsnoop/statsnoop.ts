#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// statsnoop  Trace stat() syscalls.
//            bcc's statsnoop on bpfkit: one record per call, sent at the syscall's exit.
//
// USAGE: statsnoop [-h] [-T] [-t] [-s] [-x] [-p PID] [--json] [--explain] [--ebpf] [--no-cache]
//
// Traces every syscall that looks a path up only to report on it: stat, lstat, newfstatat,
// statx, statfs and the access calls (access, faccessat, faccessat2), each where the kernel has
// it. What it traces and why, the differences from bcc and --json: tools/statsnoop/README.md;
// real runs: tools/statsnoop/statsnoop_example.txt.
//
// Copyright 2016 Netflix, Inc. (bcc's statsnoop, by Brendan Gregg, whose output this reproduces).
import { EventClock, LineBatch, streamUntilStopped } from '../../lib/run/event-output.ts';
import { runTool } from '../../lib/run/tool.ts';
import { openEvents } from '../../lib/run/event-channel.ts';
import { spec, type Options } from './options.ts';
import { configureStatsnoop } from './program.ts';
import { STAT_EVENT_OFFSETS, decodeStatRecord, headerLine, jsonLine, rowLine, type ColumnOptions } from './events.ts';

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  const program = configureStatsnoop({ pid: o.pid, failedOnly: o.failed });
  const bpf = ctx.load({ ...program, autoAttach: false });

  // The output loop: one record per call, lines gathered and written once per drain.
  const columns: ColumnOptions = { time: o.time, timestamp: o.timestamp, sysname: o.sysname };
  const wantClock = o.json || o.time;
  const wantSeconds = o.json || o.timestamp;
  // bcc's TIME(s) counts from the first call shown.
  let firstNs = -1n;
  const times = new EventClock();
  const out = new LineBatch(ctx.print);
  // The tool's own calls (node checks tracefs while it attaches) are not the machine's activity.
  const self = process.pid;
  const onRecord = (record: Buffer) => {
    if (record.readUInt32LE(STAT_EVENT_OFFSETS.pid) === self) return;
    const ev = decodeStatRecord(record);
    if (firstNs < 0n) firstNs = ev.ts;
    const time = wantClock ? times.clock(ev.ts) : '';
    const seconds = wantSeconds ? (Number(ev.ts - firstNs) / 1e9).toFixed(9) : '';
    out.push(o.json ? jsonLine(ev, time, seconds) : rowLine(ev, columns, time, seconds));
  };

  // Open before attaching: a perf buffer drops what arrives before its readers exist.
  const events = openEvents(bpf, program.ringBuffer, onRecord);
  await streamUntilStopped(ctx, bpf, program, events, { header: !o.json ? headerLine(columns) : null, out, clock: times });
});
