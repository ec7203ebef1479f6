#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// tcpconnect  Trace TCP connects.
//             bcc's tcpconnect on bpfkit: every connect() that sent a SYN, refused ones included.
//
// USAGE: tcpconnect [-h] [-t] [-p PID] [-P PORT] [-4 | -6] [-L] [-U] [-u UID] [-c]
//                   [--cgroupmap CGROUPMAP] [--mntnsmap MNTNSMAP] [--json] [--explain] [--ebpf]
//                   [--metrics ADDR]
//
// What it traces and why (the process is taken inside connect(), never in softirq), the
// differences from bcc (no -d), --json and the metrics: tools/tcpconnect/README.md; real runs:
// tools/tcpconnect/tcpconnect_example.txt.
//
// After bcc's tcpconnect (Brendan Gregg, 2015), whose output this reproduces; the code is bpfkit's own.
import fs from 'node:fs';
import type { ArrayTable, BPF, HashTable } from 'bcc-node-bindings';
import { runTool } from '../../lib/run/tool.ts';
import { UsageError } from '../../lib/run/cli.ts';
import { CGROUP_MAP, MNTNS_MAP, containerFilters, openPinnedMap } from '../../lib/kernel/pinned-maps.ts';
import { startMetrics } from '../../lib/metrics/agent.ts';
import { openEvents } from '../../lib/run/event-channel.ts';
import { EventClock, LineBatch, streamUntilStopped } from '../../lib/run/event-output.ts';
import { DNS_UNSUPPORTED, spec, type Options } from './options.ts';
import { configureTcpconnect, type TcpconnectProgram } from './program.ts';
import {
  COUNT_HEADER, FirstEventClock, countJson, countLine, countRows, decodeConnectRecord, headerLine, jsonLine, rowLine, type ColumnOptions,
} from './events.ts';
import { tcpconnectCollector } from './metrics.ts';

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  if (o.ipv4 && o.ipv6) throw new UsageError('argument -6/--ipv6: not allowed with argument -4/--ipv4');
  if (o.dns) throw new UsageError(DNS_UNSUPPORTED);
  if (o.count && o.metrics) throw new UsageError('argument -c/--count: not allowed with argument --metrics');
  // --metrics: connects counted per command and port from the same records (metrics.ts).
  const metrics = await startMetrics(ctx);

  const cgroupMap = o.cgroupmap ? openPinnedMap(o.cgroupmap, CGROUP_MAP) : null;
  const mntnsMap = o.mntnsmap ? openPinnedMap(o.mntnsmap, MNTNS_MAP) : null;
  const containers = containerFilters(cgroupMap, mntnsMap, !o.ebpf);
  let bpf: BPF;
  let program: TcpconnectProgram;
  try {
    program = configureTcpconnect({
      pid: o.pid, uid: o.uid, family: o.ipv4 ? 4 : o.ipv6 ? 6 : undefined, portFilter: o.port !== undefined,
      count: o.count, containers: containers.defines,
    });
    bpf = ctx.load({ ...program, autoAttach: false });
  } finally {
    containers.unpin();
    for (const map of [cgroupMap, mntnsMap]) if (map) fs.closeSync(map.fd);
  }
  // The ports before attaching, so that nothing unfiltered is seen.
  if (o.port) {
    const ports = bpf.table<HashTable<number, number>>('ports');
    for (const port of o.port) ports.set(port, 1);
  }
  const quietStart = o.json || metrics?.only;
  if (!quietStart) ctx.print('Tracing connect ... Hit Ctrl-C to end');

  if (o.count) {
    ctx.attach(bpf, program);
    // Nothing else is pending until Ctrl-C (no buffer to read): without this, node would exit.
    const idle = setInterval(() => {}, 1 << 30);
    await ctx.stopped;
    clearInterval(idle);
    const counts = bpf.table('counts');
    const { keys, values, count } = counts.readAll();
    const rows = countRows(keys, values, count, counts.info.keySize, 8);
    const dropped = bpf.table<ArrayTable<bigint>>('dropped').get(0) ?? 0n;
    if (dropped > 0n) ctx.warn(`${dropped} connects not counted: the table is full (${counts.info.maxEntries} rows)`);
    if (o.json) for (const row of rows) ctx.print(countJson(row));
    else ctx.print(['', COUNT_HEADER, ...rows.map(countLine)].join('\n'));
    return;
  }

  const columns: ColumnOptions = { timestamp: o.timestamp, printUid: o['print-uid'], lport: o.lport };
  const clock = new EventClock();
  const first = new FirstEventClock();
  const out = new LineBatch(ctx.print);
  const onRecord = (record: Buffer) => {
    const ev = decodeConnectRecord(record);
    collector?.record(ev);
    if (metrics?.only) return;
    const seconds = o.json || o.timestamp ? first.seconds(ev.ts) : '';
    out.push(o.json ? jsonLine(ev, clock.clock(ev.ts), seconds) : rowLine(ev, columns, seconds));
  };
  // Open before attaching: a perf buffer drops what arrives before its readers exist.
  const events = openEvents(bpf, program.ringBuffer, onRecord);
  const collector = metrics ? tcpconnectCollector(metrics.seriesLimit, events) : null;
  if (collector) metrics!.add(collector);
  await streamUntilStopped(ctx, bpf, program, events, { header: quietStart ? null : headerLine(columns), out, clock });
});
