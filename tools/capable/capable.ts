#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// capable  Trace security capability checks (cap_capable()).
//          bcc's capable on bpfkit: one line per check, with libbpf-tools' VERDICT (allow/deny).
//
// USAGE: capable [-h] [-v] [-p PID] [-K] [-U] [-x] [--cgroupmap CGROUPMAP] [--mntnsmap MNTNSMAP]
//                [--unique] [--metrics ADDR] [--metrics-and-print] [--series-limit N] [--json]
//                [--explain] [--ebpf] [--no-cache]
//
// From the capability:cap_capable tracepoint (Linux 6.14+), which has no opts: AUDIT and INSETID
// show N/A there and every check is shown, as with -v. What it traces and why, the differences
// from bcc, --json and the metrics: tools/capable/README.md; real runs: capable_example.txt.
//
// Copyright 2016 Netflix, Inc. (bcc's capable, by Brendan Gregg, whose output this reproduces).
import fs from 'node:fs';
import type { BPF, StackTraceTable } from 'bcc-node-bindings';
import { runTool } from '../../lib/run/tool.ts';
import { CGROUP_MAP, MNTNS_MAP, containerFilters, openPinnedMap } from '../../lib/kernel/pinned-maps.ts';
import { startMetrics } from '../../lib/metrics/agent.ts';
import { openEvents } from '../../lib/run/event-channel.ts';
import { EventClock, LineBatch, streamUntilStopped } from '../../lib/run/event-output.ts';
import { MISSED_KERNEL_STACK, MISSED_USER_STACK } from '../../lib/output/stacks.ts';
import { spec, type Options } from './options.ts';
import { configureCapable, type CapableProgram } from './program.ts';
import { decodeCapRecord, headerLine, jsonLine, rowLine, stackLines } from './events.ts';
import { CapStacks } from './stacks.ts';
import { capableCollector } from './metrics.ts';

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  // --metrics: checks counted per capability and verdict in the kernel (metrics.ts).
  const metrics = await startMetrics(ctx);
  const printing = !metrics?.only;

  const cgroupMap = o.cgroupmap ? openPinnedMap(o.cgroupmap, CGROUP_MAP) : null;
  const mntnsMap = o.mntnsmap ? openPinnedMap(o.mntnsmap, MNTNS_MAP) : null;
  const containers = containerFilters(cgroupMap, mntnsMap, !o.ebpf);
  let bpf: BPF;
  let program: CapableProgram;
  try {
    program = configureCapable({
      verbose: o.verbose, pid: o.pid, kernelStack: o['kernel-stack'], userStack: o['user-stack'], unique: o.unique,
      events: printing, count: metrics !== null, containers: containers.defines, self: process.pid,
    });
    bpf = ctx.load({ ...program, autoAttach: false });
  } finally {
    containers.unpin();
    for (const map of [cgroupMap, mntnsMap]) if (map) fs.closeSync(map.fd);
  }
  if (metrics) metrics.add(capableCollector(bpf, metrics.seriesLimit));
  if (!printing) {
    ctx.attach(bpf, program);
    await metrics!.serveUntilStopped();
    return;
  }

  if (!program.hasOpts && !o.quiet) {
    ctx.warn('the capability:cap_capable tracepoint gives no opts: AUDIT and INSETID show N/A, and non-audit checks are shown too');
  }
  const stackOptions = o['kernel-stack'] || o['user-stack'];
  const stacks = stackOptions ? new CapStacks(bpf.table<StackTraceTable>('stacks')) : null;
  const times = new EventClock();
  const out = new LineBatch(ctx.print);
  const onRecord = (record: Buffer) => {
    const ev = decodeCapRecord(record);
    const kernel = o['kernel-stack'] ? stacks!.kernel(ev.kernelStackId) : undefined;
    const user = o['user-stack'] ? stacks!.user(ev.pid, ev.userStackId) : undefined;
    const clock = times.clock(ev.ts);
    if (o.json) {
      out.push(jsonLine(ev, clock, { ...(kernel !== undefined ? { kernel } : {}), ...(user !== undefined ? { user } : {}) }));
      return;
    }
    const lines = [rowLine(ev, clock, o.extra)];
    if (kernel !== undefined) lines.push(...stackLines(kernel, MISSED_KERNEL_STACK));
    if (user !== undefined) lines.push(...stackLines(user, MISSED_USER_STACK));
    out.push(lines.join('\n'));
  };
  // Open before attaching: a perf buffer drops what arrives before its readers exist.
  const events = openEvents(bpf, program.ringBuffer, onRecord);
  await streamUntilStopped(ctx, bpf, program, events, { header: !o.json ? headerLine(o.extra) : null, out, clock: times });
});
