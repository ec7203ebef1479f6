#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// tcpretrans  Trace TCP retransmits.
//             bcc's tcpretrans on bpfkit: from the kernel's tcp_retransmit_skb tracepoint (its raw form first).
//
// USAGE: tcpretrans [-h] [-s] [-l] [-c] [-4 | -6] [--metrics ADDR] [--metrics-and-print]
//                   [--series-limit N] [--json] [--explain] [--ebpf] [--no-cache]
//
// This traces the kernel's retransmits, not packets on the wire (use tcpdump for those); -l adds
// tail loss probes where the kernel has kprobes. What it traces and why, the differences from
// bcc, --json and the metrics: tools/tcpretrans/README.md; real runs: tcpretrans_example.txt.
//
// After bcc's tcpretrans (Brendan Gregg, 2016), whose output this reproduces; the code is bpfkit's own.
import type { BPF } from 'bcc-node-bindings';
import { runTool } from '../../lib/run/tool.ts';
import { UsageError } from '../../lib/run/cli.ts';
import { startMetrics } from '../../lib/metrics/agent.ts';
import { openEvents } from '../../lib/run/event-channel.ts';
import { EventClock, LineBatch, LostReporter } from '../../lib/run/event-output.ts';
import { spec, type Options } from './options.ts';
import { configureTcpretrans } from './program.ts';
import { COUNT_HEADER, countJson, countLines, decodeRetransRecord, headerLine, jsonLine, rowLine } from './events.ts';
import { readCounts, tcpretransCollector } from './metrics.ts';

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  if (o.ipv4 && o.ipv6) throw new UsageError('argument -6/--ipv6: not allowed with argument -4/--ipv4');
  // --metrics: retransmits counted per flow in the kernel, read at each scrape (metrics.ts).
  const metrics = await startMetrics(ctx);
  const printing = !metrics?.only;
  const events = printing && !o.count;

  const program = configureTcpretrans({
    events, count: o.count || metrics !== null, lossprobe: o.lossprobe, family: o.ipv4 ? 4 : o.ipv6 ? 6 : undefined,
  });
  const bpf: BPF = ctx.load({ ...program, autoAttach: false });
  if (metrics) metrics.add(tcpretransCollector(bpf, metrics.seriesLimit, o.lossprobe));

  const times = new EventClock();
  const out = new LineBatch(ctx.print);
  const channel = events ? openEvents(bpf, program.ringBuffer, (record: Buffer) => {
    const ev = decodeRetransRecord(record);
    const time = times.clock(ev.ts);
    out.push(o.json ? jsonLine(ev, time) : rowLine(ev, time, o.sequence));
  }) : null;
  const lost = channel ? new LostReporter(channel, ctx.warn) : null;

  times.start();
  if (printing && !o.json) {
    ctx.print('Tracing retransmits ... Hit Ctrl-C to end');
    if (events) ctx.print(headerLine(o.sequence));
  }
  ctx.attach(bpf, program);
  lost?.start();

  // A timer keeps Node's loop alive for -c, which otherwise has nothing pending until Ctrl-C.
  while (await ctx.sleep(2 ** 31 - 1));
  channel?.flush();
  out.flush();
  lost?.stop();
  if (printing && o.count) {
    const rows = readCounts(bpf);
    if (o.json) for (const r of rows) ctx.json(countJson(r));
    else ctx.print(['', COUNT_HEADER, ...countLines(rows)].join('\n'));
  }
});
