#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// setuids  Trace the setuid family of syscalls: privilege changes.
//          bpftrace's setuids.bt on bpfkit: setuid, setgid, setreuid, setregid, setresuid,
//          setresgid, setfsuid and setfsgid, one line per call with the caller's uid, the
//          new ids asked for and the result.
//
// USAGE: setuids [-h] [-p PID] [-T] [--json] [--explain] [--ebpf] [--no-cache]
//
// What it traces and why, the differences from bpftrace and --json: tools/setuids/README.md;
// real runs: tools/setuids/setuids_example.txt.
//
// Copyright (c) 2019 Brendan Gregg (bpftrace's setuids.bt, whose output this reproduces).
import { EventClock, LineBatch, streamUntilStopped } from '../../lib/run/event-output.ts';
import { runTool } from '../../lib/run/tool.ts';
import { openEvents } from '../../lib/run/event-channel.ts';
import { spec, type Options } from './options.ts';
import { configureSetuids } from './program.ts';
import { decodeSetidRecord, headerLine, jsonLine, rowLine } from './events.ts';

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  const program = configureSetuids({ pid: o.pid });
  const bpf = ctx.load({ ...program, autoAttach: false });

  const columns = { timestamp: o.timestamp };
  const times = new EventClock();
  const out = new LineBatch(ctx.print);
  const onRecord = (record: Buffer) => {
    const ev = decodeSetidRecord(record);
    const time = times.clock(ev.ts);
    const seconds = times.seconds(ev.ts);
    out.push(o.json ? jsonLine(ev, time, seconds) : rowLine(ev, columns, time, seconds));
  };

  // Open before attaching: a perf buffer drops what arrives before its readers exist.
  const events = openEvents(bpf, program.ringBuffer, onRecord);
  await streamUntilStopped(ctx, bpf, program, events, { header: o.json ? null : headerLine(columns), out, clock: times });
});
