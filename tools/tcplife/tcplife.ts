#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// tcplife   Trace the lifespan of TCP sessions and summarize.
//           bcc's tcplife on bpfkit: one row per closed connection, from the TCP state machine.
//
// USAGE: tcplife [-h] [-T] [-t] [-w] [-s] [-p PID] [-L LOCALPORT] [-D REMOTEPORT] [-4 | -6]
//                [--metrics ADDR] [--metrics-and-print] [--series-limit N] [--json] [--explain] [--ebpf]
//
// Bytes are read from the socket when it closes (no send or receive is traced); the owner is
// the process that connect()s or accept()s the socket, which bcc's tool gets wrong for passive
// opens. What it traces and why, the differences from bcc, --json and the metrics:
// tools/tcplife/README.md; real runs: tools/tcplife/tcplife_example.txt.
//
// After bcc's tcplife (Brendan Gregg, 2016; idea by Julia Evans), whose output this reproduces.
import type { BPF, HashTable } from 'bcc-node-bindings';
import { runTool } from '../../lib/run/tool.ts';
import { UsageError } from '../../lib/run/cli.ts';
import { startMetrics } from '../../lib/metrics/agent.ts';
import { openEvents } from '../../lib/run/event-channel.ts';
import { EventClock, LineBatch, streamUntilStopped } from '../../lib/run/event-output.ts';
import { toJson } from '../../lib/run/tool.ts';
import { spec, type Options } from './options.ts';
import { configureTcplife } from './program.ts';
import { FirstEventSeconds, decodeLifeRecord, headerLine, jsonObject, rowLine, type ColumnOptions } from './events.ts';
import { tcplifeCollector } from './metrics.ts';

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  if (o.ipv4 && o.ipv6) throw new UsageError('argument -6/--ipv6: not allowed with argument -4/--ipv4');
  // --metrics: connections, bytes and lifetimes per command from the same records (metrics.ts).
  const metrics = await startMetrics(ctx);

  const program = configureTcplife({
    pid: o.pid, family: o.ipv4 ? 4 : o.ipv6 ? 6 : undefined, localPorts: o.localport, remotePorts: o.remoteport,
  });
  const bpf: BPF = ctx.load({ ...program, autoAttach: false });
  // The port lists before attaching, so that nothing unfiltered is seen.
  for (const [table, ports] of [['lports', o.localport], ['rports', o.remoteport]] as const) {
    if (!ports) continue;
    const map = bpf.table<HashTable<number, number>>(table);
    for (const port of ports) map.set(port, 1);
  }

  const columns: ColumnOptions = { layout: o.csv ? 'csv' : o.wide ? 'wide' : 'default', time: o.time, timestamp: o.timestamp };
  const times = new EventClock();
  const seconds = new FirstEventSeconds();
  const out = new LineBatch(ctx.print);
  const onRecord = (record: Buffer) => {
    const ev = decodeLifeRecord(record);
    collector?.record(ev);
    if (metrics?.only) return;
    const clock = o.json || o.time ? times.clock(ev.ts) : '';
    const secs = o.json || o.timestamp ? seconds.text(ev.ts) : '';
    out.push(o.json ? toJson(jsonObject(ev, clock, secs)) : rowLine(ev, columns, clock, secs));
  };

  // Open before attaching: a perf buffer drops what arrives before its readers exist.
  const events = openEvents(bpf, program.ringBuffer, onRecord);
  const collector = metrics ? tcplifeCollector(metrics.seriesLimit, events) : null;
  if (collector) metrics!.add(collector);
  await streamUntilStopped(ctx, bpf, program, events, { header: !o.json && !metrics?.only ? headerLine(columns) : null, out, clock: times });
});
