#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// killsnoop  Trace signals issued by the kill() syscall.
//            bcc's killsnoop on bpfkit: kill, tkill, tgkill, pidfd_send_signal and
//            rt_(tg)sigqueueinfo, one record per call with its result.
//
// USAGE: killsnoop [-h] [-x] [-p PID] [-T TPID] [-s SIGNAL] [-n] [--metrics ADDR]
//                  [--metrics-and-print] [--series-limit N] [--json] [--explain] [--ebpf] [--no-cache]
//
// Signals the kernel sends itself (SIGSEGV, SIGPIPE, SIGCHLD, a timer's) are not syscalls and are
// not shown. What it traces and why, the differences from bcc, --json and the metrics:
// tools/killsnoop/README.md; real runs: tools/killsnoop/killsnoop_example.txt.
//
// Copyright (c) 2015 Brendan Gregg (bcc's killsnoop, whose output this reproduces).
import fs from 'node:fs';
import { EventClock, LineBatch, streamUntilStopped } from '../../lib/run/event-output.ts';
import { runTool } from '../../lib/run/tool.ts';
import { startMetrics } from '../../lib/metrics/agent.ts';
import { openEvents } from '../../lib/run/event-channel.ts';
import { spec, type Options } from './options.ts';
import { configureKillsnoop } from './program.ts';
import { decodeSignalRecord, headerLine, jsonLine, pidWidth, rowLine } from './events.ts';
import { killsnoopCollector } from './metrics.ts';

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  // --metrics: signals and failures counted from the same records (metrics.ts).
  const metrics = await startMetrics(ctx);
  const program = configureKillsnoop({ failedOnly: o.failed, pid: o.pid, tpid: o.tpid, signals: o.signal });
  const bpf = ctx.load({ ...program, autoAttach: false });

  let width = 6;
  try { width = pidWidth(Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim())); } catch { /* bcc's default */ }
  const times = new EventClock();
  const out = new LineBatch(ctx.print);
  const onRecord = (record: Buffer) => {
    const ev = decodeSignalRecord(record);
    collector?.record(ev);
    if (metrics?.only) return;
    const time = times.clock(ev.ts);
    out.push(o.json ? jsonLine(ev, time, times.seconds(ev.ts)) : rowLine(ev, width, time, o.name));
  };

  // Open before attaching: a perf buffer drops what arrives before its readers exist.
  const events = openEvents(bpf, program.ringBuffer, onRecord);
  const collector = metrics ? killsnoopCollector(metrics.seriesLimit, events) : null;
  if (collector) metrics!.add(collector);
  await streamUntilStopped(ctx, bpf, program, events, { header: !o.json && !metrics?.only ? headerLine(width) : null, out, clock: times });
});
