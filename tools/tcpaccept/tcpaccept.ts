#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// tcpaccept  Trace TCP accepts.
//            bcc's tcpaccept on bpfkit: one record per accepted connection, named after the
//            process that called accept(), found at the syscall's exit.
//
// USAGE: tcpaccept [-h] [-T] [-t] [-p PID] [-P PORT] [-4 | -6] [--cgroupmap CGROUPMAP]
//                  [--mntnsmap MNTNSMAP] [--metrics ADDR] [--metrics-and-print] [--json]
//                  [--explain] [--ebpf]
//
// What it traces and why, the differences from bcc, --json and the metrics: tools/tcpaccept/README.md;
// real runs: tools/tcpaccept/tcpaccept_example.txt.
//
// After bcc's tcpaccept (Brendan Gregg, 2015), whose output this reproduces; the code is bpfkit's own.
import fs from 'node:fs';
import type { BPF, HashTable } from 'bcc-node-bindings';
import { runTool } from '../../lib/run/tool.ts';
import { UsageError } from '../../lib/run/cli.ts';
import { CGROUP_MAP, MNTNS_MAP, containerFilters, openPinnedMap } from '../../lib/kernel/pinned-maps.ts';
import { startMetrics } from '../../lib/metrics/agent.ts';
import { openEvents } from '../../lib/run/event-channel.ts';
import { EventClock, LineBatch, streamUntilStopped } from '../../lib/run/event-output.ts';
import { spec, type Options } from './options.ts';
import { configureTcpaccept, type TcpacceptProgram } from './program.ts';
import { decodeAcceptRecord, headerLine, jsonLine, rowLine, secondsSince, type ColumnOptions } from './events.ts';
import { tcpacceptCollector } from './metrics.ts';

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  if (o.ipv4 && o.ipv6) throw new UsageError('argument -6/--ipv6: not allowed with argument -4/--ipv4');
  // --metrics: accepts counted per command and local port from the same records (metrics.ts).
  const metrics = await startMetrics(ctx);

  const cgroupMap = o.cgroupmap ? openPinnedMap(o.cgroupmap, CGROUP_MAP) : null;
  const mntnsMap = o.mntnsmap ? openPinnedMap(o.mntnsmap, MNTNS_MAP) : null;
  const containers = containerFilters(cgroupMap, mntnsMap, !o.ebpf);
  let bpf: BPF;
  let program: TcpacceptProgram;
  try {
    program = configureTcpaccept({
      pid: o.pid, family: o.ipv4 ? 4 : o.ipv6 ? 6 : undefined, ports: o.port, containers: containers.defines,
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

  // The output loop: one record per accept, lines gathered and written once per drain.
  const columns: ColumnOptions = { time: o.time, timestamp: o.timestamp };
  const wantClock = o.json || o.time;
  const wantSeconds = o.json || o.timestamp;
  const times = new EventClock();
  const out = new LineBatch(ctx.print);
  let firstTs = -1n;
  const onRecord = (record: Buffer) => {
    const ev = decodeAcceptRecord(record);
    collector?.record(ev);
    if (metrics?.only) return;
    // TIME(s) counts from the first accept seen, as bcc's does.
    if (firstTs < 0n) firstTs = ev.ts;
    const time = wantClock ? times.clock(ev.ts) : '';
    const seconds = wantSeconds ? secondsSince(ev.ts, firstTs) : '';
    out.push(o.json ? jsonLine(ev, time, seconds) : rowLine(ev, columns, time, seconds));
  };

  // Open before attaching: a perf buffer drops what arrives before its readers exist.
  const events = openEvents(bpf, program.ringBuffer, onRecord);
  const collector = metrics ? tcpacceptCollector(metrics.seriesLimit, events) : null;
  if (collector) metrics!.add(collector);
  await streamUntilStopped(ctx, bpf, program, events, { header: !o.json && !metrics?.only ? headerLine(columns) : null, out, clock: times });
});
