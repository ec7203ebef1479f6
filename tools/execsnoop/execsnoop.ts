#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// execsnoop  Trace new processes via exec() syscalls.
//            bcc's execsnoop on bpfkit: one record per exec, built in the kernel.
//
// USAGE: execsnoop [-h] [-T] [-t] [-x] [--cgroupmap CGROUPMAP] [--mntnsmap MNTNSMAP] [-u USER]
//                  [-q] [-n NAME] [-l LINE] [-U] [-C] [-M] [--max-args MAX_ARGS] [-P PPID]
//                  [-c PATH] [--metrics ADDR] [--metrics-and-print] [--series-limit N] [--json]
//                  [--explain] [--ebpf] [--no-cache]
//
// This won't catch all new processes: an application may fork() but not exec().
// What it traces and why, the differences from bcc, --json and the metrics: tools/execsnoop/README.md;
// real runs: tools/execsnoop/execsnoop_example.txt.
//
// Copyright 2016 Netflix, Inc. (bcc's execsnoop, by Brendan Gregg, whose output this reproduces).
import fs from 'node:fs';
import type { BPF } from 'bcc-node-bindings';
import { runTool } from '../../lib/run/tool.ts';
import { CGROUP_MAP, MNTNS_MAP, containerFilters, openPinnedMap } from '../../lib/kernel/pinned-maps.ts';
import { startMetrics } from '../../lib/metrics/agent.ts';
import { spec, type Options } from './options.ts';
import { configureExecsnoop, type ExecsnoopProgram } from './program.ts';
import { openEvents } from '../../lib/run/event-channel.ts';
import { EventClock, LineBatch, streamUntilStopped } from '../../lib/run/event-output.ts';
import { argsLine, decodeExecRecord, headerLine, jsonLine, rowLine, type ColumnOptions } from './events.ts';
import { execsnoopCollector } from './metrics.ts';

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  const maxArgs = o['max-args'];
  // --metrics: execs counted per command name from the same records (metrics.ts).
  const metrics = await startMetrics(ctx);

  const cgroupMap = o.cgroupmap ? openPinnedMap(o.cgroupmap, CGROUP_MAP) : null;
  const mntnsMap = o.mntnsmap ? openPinnedMap(o.mntnsmap, MNTNS_MAP) : null;
  const containers = containerFilters(cgroupMap, mntnsMap, !o.ebpf);
  let bpf: BPF;
  let program: ExecsnoopProgram;
  try {
    program = configureExecsnoop({
      fails: o.fails, maxArgs, uid: o.uid, ppid: o.ppid, cgroup: o.cgroup !== undefined, containers: containers.defines,
    });
    bpf = ctx.load({ ...program, autoAttach: false });
  } finally {
    containers.unpin();
    for (const map of [cgroupMap, mntnsMap]) if (map) fs.closeSync(map.fd);
  }

  // The cgroup filter before attaching, so that nothing unfiltered is seen.
  if (o.cgroup) {
    const fd = fs.openSync(o.cgroup, 'r');
    try { bpf.table('cgroup_filter').set(0, fd); } finally { fs.closeSync(fd); }
  }

  // The output loop: one record per exec, lines gathered and written once per drain.
  const columns: ColumnOptions = {
    time: o.time, timestamp: o.timestamp, printUid: o['print-uid'], printPcomm: o['print-pcomm'],
    printCpu: o['print-cpu'], quote: o.quote,
  };
  const wantClock = o.json || o.time;
  const wantSeconds = o.json || o.timestamp;
  const times = new EventClock();
  const out = new LineBatch(ctx.print);
  const onRecord = (record: Buffer) => {
    const ev = decodeExecRecord(record, maxArgs);
    if (ev.ret !== 0 && !o.fails) return;
    if (o.name && !o.name.test(ev.comm)) return;
    if (o.line && !o.line.test(argsLine(ev))) return;
    collector?.record(ev);
    if (metrics?.only) return;
    const time = wantClock ? times.clock(ev.ts) : '';
    const seconds = wantSeconds ? times.seconds(ev.ts) : '';
    out.push(o.json ? jsonLine(ev, time, seconds) : rowLine(ev, columns, time, seconds));
  };

  // Open before attaching: a perf buffer drops what arrives before its readers exist.
  const events = openEvents(bpf, program.ringBuffer, onRecord);
  const collector = metrics ? execsnoopCollector(metrics.seriesLimit, events) : null;
  if (collector) metrics!.add(collector);
  await streamUntilStopped(ctx, bpf, program, events, { header: !o.json && !metrics?.only ? headerLine(columns) : null, out, clock: times });
});
