#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// tcpdrop  Trace TCP drops by the kernel, with the reason and kernel stack.
//          bcc's tcpdrop on bpfkit: skb:kfree_skb filtered to TCP in the kernel.
//
// USAGE: tcpdrop [-h] [-4 | -6] [--metrics ADDR] [--metrics-and-print] [--series-limit N]
//                [--json] [--explain] [--ebpf] [--no-cache]
//
// Each drop: the packet's addresses, ports and flags, its socket's state, the kernel's drop
// reason (enum skb_drop_reason, Linux 5.17+) and the kernel stack that dropped it.
// What it traces and why, the differences from bcc, --json and the metrics: tools/tcpdrop/README.md;
// real runs: tools/tcpdrop/tcpdrop_example.txt.
//
// Copyright 2018 Netflix, Inc. (bcc's tcpdrop, by Brendan Gregg, whose output this reproduces).
import type { StackTraceTable } from 'bcc-node-bindings';
import { runTool } from '../../lib/run/tool.ts';
import { UsageError } from '../../lib/run/cli.ts';
import { startMetrics } from '../../lib/metrics/agent.ts';
import { openEvents } from '../../lib/run/event-channel.ts';
import { EventClock, LineBatch, streamUntilStopped } from '../../lib/run/event-output.ts';
import { ksym } from '../../lib/kernel/ksyms.ts';
import { spec, type Options } from './options.ts';
import { configureTcpdrop } from './program.ts';
import { decodeDropRecord, dropLines, headerLine, jsonLine, reasonText } from './events.ts';
import { StackReader } from './stacks.ts';
import { tcpdropCollector } from './metrics.ts';

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  if (o.ipv4 && o.ipv6) throw new UsageError('argument -6/--ipv6: not allowed with argument -4/--ipv4');
  // --metrics: drops counted per reason and state in the kernel (metrics.ts).
  const metrics = await startMetrics(ctx);
  const printing = !metrics?.only;

  const program = configureTcpdrop({ ipVersion: o.ipv4 ? 4 : o.ipv6 ? 6 : undefined, events: printing, count: metrics !== null });
  const bpf = ctx.load({ ...program, autoAttach: false });
  if (metrics) metrics.add(tcpdropCollector(bpf, program, metrics.seriesLimit));
  if (!printing) {
    ctx.attach(bpf, program);
    await metrics!.serveUntilStopped();
    return;
  }

  const stacks = new StackReader(bpf.table<StackTraceTable>('stacks'), ksym);
  const times = new EventClock();
  const out = new LineBatch(ctx.print);
  const onRecord = (record: Buffer) => {
    const ev = decodeDropRecord(record);
    const reason = reasonText(ev.reason, program.reasons, program.hasReason);
    const frames = stacks.frames(ev.stackId);
    const clock = times.clock(ev.ts);
    out.push(o.json ? jsonLine(ev, clock, reason, program.hasReason, frames) : dropLines(ev, clock, reason, frames));
  };
  // Open before attaching: a perf buffer drops what arrives before its readers exist.
  const events = openEvents(bpf, program.ringBuffer, onRecord);
  if (!program.hasReason) ctx.warn('this kernel gives no drop reasons (skb:kfree_skb has them from Linux 5.17): REASON shows -');
  await streamUntilStopped(ctx, bpf, program, events, { header: !o.json ? headerLine() : null, out, clock: times });
});
