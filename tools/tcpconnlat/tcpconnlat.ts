#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// tcpconnlat  Trace TCP connects and show connection latency.
//             bcc's tcpconnlat on bpfkit: SYN_SENT to ESTABLISHED, timed in the kernel.
//
// USAGE: tcpconnlat [-h] [-t] [-p PID] [-L] [-4 | -6] [-v] [--metrics ADDR] [--metrics-and-print]
//                   [--series-limit N] [--json] [--explain] [--ebpf] [--no-cache] [duration_ms]
//
// The latency is the time from the SYN sent to the connection established, as measured locally:
// kernel TCP/IP processing and the network round trip, not the application's run time.
// What it traces and why, the differences from bcc, --json and the metrics: tools/tcpconnlat/
// README.md; real runs: tools/tcpconnlat/tcpconnlat_example.txt.
//
// After bcc's tcpconnlat (Brendan Gregg, 2016), whose output this reproduces; the code is bpfkit's own.
import { runTool } from '../../lib/run/tool.ts';
import { UsageError } from '../../lib/run/cli.ts';
import { buildProgram } from '../../lib/run/program.ts';
import { startMetrics } from '../../lib/metrics/agent.ts';
import { openEvents } from '../../lib/run/event-channel.ts';
import { EventClock, LineBatch, streamUntilStopped } from '../../lib/run/event-output.ts';
import { spec, type Options } from './options.ts';
import { configureTcpconnlat, minLatencyNs } from './program.ts';
import { decodeConnlatRecord, headerLine, jsonLine, rowLine, type ColumnOptions } from './events.ts';
import { tcpconnlatCollector } from './metrics.ts';

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  if (o.ipv4 && o.ipv6) throw new UsageError('argument -6/--ipv6: not allowed with argument -4/--ipv4');
  // --metrics: a latency histogram per command name from the same records (metrics.ts).
  const metrics = await startMetrics(ctx);

  const program = configureTcpconnlat({
    pid: o.pid, family: o.ipv4 ? 4 : o.ipv6 ? 6 : undefined, minLatencyNs: minLatencyNs(o.duration_ms),
  });
  // bcc's -v: the program first, then tracing goes on (--ebpf prints it and stops).
  if (o.verbose && !o.ebpf) ctx.print(buildProgram(program).text);
  const bpf = ctx.load({ ...program, autoAttach: false });

  const columns: ColumnOptions = { timestamp: o.timestamp, lport: o.lport };
  const times = new EventClock();
  const out = new LineBatch(ctx.print);
  const onRecord = (record: Buffer) => {
    const ev = decodeConnlatRecord(record);
    collector?.record(ev);
    if (metrics?.only) return;
    const seconds = o.json || o.timestamp ? times.seconds(ev.ts) : '';
    out.push(o.json ? jsonLine(ev, times.clock(ev.ts), seconds) : rowLine(ev, columns, seconds));
  };

  // Open before attaching: a perf buffer drops what arrives before its readers exist.
  const events = openEvents(bpf, program.ringBuffer, onRecord);
  const collector = metrics ? tcpconnlatCollector(metrics.seriesLimit, events) : null;
  if (collector) metrics!.add(collector);
  await streamUntilStopped(ctx, bpf, program, events, { header: !o.json && !metrics?.only ? headerLine(columns) : null, out, clock: times });
});
