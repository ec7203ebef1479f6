#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// opensnoop  Trace open() syscalls.
//            bcc's opensnoop on bpfkit: open, openat and openat2, one record per call.
//
// USAGE: opensnoop [-h] [-T] [-U] [-x] [-p PID] [-t TID] [--cgroupmap CGROUPMAP]
//                  [--mntnsmap MNTNSMAP] [-u UID] [-d DURATION] [-n NAME] [-e]
//                  [-f FLAG_FILTER] [-F] [-b BUFFER_PAGES] [--metrics ADDR]
//                  [--metrics-and-print] [--series-limit N] [--json] [--explain] [--ebpf] [--no-cache]
//
// What it traces and why, the differences from bcc, --json and the metrics: tools/opensnoop/README.md;
// real runs: tools/opensnoop/opensnoop_example.txt.
//
// Copyright (c) 2015 Brendan Gregg (bcc's opensnoop, whose output this reproduces).
import fs from 'node:fs';
import type { BPF, PerfEventArray } from 'bcc-node-bindings';
import { LineBatch, LostReporter } from '../../lib/run/event-output.ts';
import { runTool } from '../../lib/run/tool.ts';
import { CGROUP_MAP, MNTNS_MAP, containerFilters, openPinnedMap } from '../../lib/kernel/pinned-maps.ts';
import { startMetrics } from '../../lib/metrics/agent.ts';
import { DRAIN_DELAY_MS, openEvents, type EventChannel } from '../../lib/run/event-channel.ts';
import { spec, type Options } from './options.ts';
import { configureOpensnoop, type OpensnoopProgram } from './program.ts';
import { decodeOpenRecord, headerLine, jsonLine, rowLine, secondsSince, type ColumnOptions } from './events.ts';
import { opensnoopCollector } from './metrics.ts';

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  // --metrics: opens counted in the kernel by comm and errno (metrics.ts).
  const metrics = await startMetrics(ctx);
  const records = !metrics?.only;

  const cgroupMap = o.cgroupmap ? openPinnedMap(o.cgroupmap, CGROUP_MAP) : null;
  const mntnsMap = o.mntnsmap ? openPinnedMap(o.mntnsmap, MNTNS_MAP) : null;
  const containers = containerFilters(cgroupMap, mntnsMap, !o.ebpf);
  let bpf: BPF;
  let program: OpensnoopProgram;
  try {
    program = configureOpensnoop({
      records, count: metrics !== null, failedOnly: o.failed, pid: o.pid, tid: o.tid, uid: o.uid,
      flags: o.flag_filter, fullPath: o['full-path'], containers: containers.defines, bufferPages: o['buffer-pages'],
    });
    bpf = ctx.load({ ...program, autoAttach: false });
  } finally {
    containers.unpin();
    for (const map of [cgroupMap, mntnsMap]) if (map) fs.closeSync(map.fd);
  }

  // The output loop: one record per open, lines gathered and written once per drain.
  const columns: ColumnOptions = {
    timestamp: o.timestamp, printUid: o['print-uid'], tid: o.tid !== undefined, extended: o.extended_fields, fullPath: o['full-path'],
  };
  const wantSeconds = o.json || o.timestamp;
  let firstTs = -1n;
  const out = new LineBatch(ctx.print);
  const onRecord = (record: Buffer) => {
    const ev = decodeOpenRecord(record);
    // TIME(s) counts from the first open seen, as bcc's does (filtered ones included).
    if (firstTs < 0n) firstTs = ev.ts;
    if (o.name !== undefined && !ev.comm.includes(o.name)) return;
    const seconds = wantSeconds ? secondsSince(ev.ts, firstTs) : '';
    out.push(o.json ? jsonLine(ev, seconds, o['full-path']) : rowLine(ev, columns, seconds));
  };

  // Open before attaching: a perf buffer drops what arrives before its readers exist.
  const events = !records ? null : o['buffer-pages'] && !program.ringBuffer
    ? openPerfEvents(bpf, o['buffer-pages'], onRecord) : openEvents(bpf, program.ringBuffer, onRecord);
  const lost = events ? new LostReporter(events, ctx.warn) : null;
  if (metrics) metrics.add(opensnoopCollector(bpf, metrics.seriesLimit, events, o.name));

  if (records && !o.json) ctx.print(headerLine(columns));
  ctx.attach(bpf, program);
  lost?.start();

  if (o.duration) {
    if (await ctx.sleep(o.duration * 1000)) ctx.stop();
  }
  await ctx.stopped;
  events?.flush();
  out.flush();
  lost?.stop();
});

/** -b with a perf buffer: bcc's page count per CPU (openEvents gives every tool 64). */
function openPerfEvents(bpf: BPF, pageCount: number, onRecord: (record: Buffer) => void): EventChannel {
  let lost = 0n;
  const events = bpf.table<PerfEventArray<Buffer>>('events').open(onRecord, {
    raw: true, coalesceMs: DRAIN_DELAY_MS, pageCount, onLost: (n) => { lost += BigInt(n); },
  });
  return { kind: 'perf', flush: () => events.flush(), lost: () => lost };
}
