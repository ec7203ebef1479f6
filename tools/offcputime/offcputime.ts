#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// offcputime  Summarize off-CPU time by stack trace.
//             bcc's offcputime on bpfkit: sched_switch, times summed per thread and stack in the kernel.
//
// USAGE: offcputime [-h] [-p PID | -t TID | -u | -k] [-U | -K] [-d] [-f] [--stack-storage-size N]
//                   [-m MIN_BLOCK_TIME] [-M MAX_BLOCK_TIME] [--state STATE] [--svg FILE] [duration]
//
// Shows why and how long threads were blocked — I/O, locks, sleeps, paging — by the stack they
// left the CPU from, with the time away in microseconds; -f folds it for flame graphs.
// What it traces and why, the differences from bcc, --json and the metrics: tools/offcputime/README.md;
// real runs: tools/offcputime/offcputime_example.txt.
//
// Copyright 2016 Netflix, Inc. (bcc's offcputime, by Brendan Gregg, whose output this reproduces).
import fs from 'node:fs';
import type { ArrayTable, HashTable, StackTraceTable } from 'bcc-node-bindings';
import { runTool } from '../../lib/run/tool.ts';
import { startMetrics } from '../../lib/metrics/agent.ts';
import { foldedFrames } from '../../lib/output/stacks.ts';
import { flameGraphSvg } from '../../lib/output/flamegraph.ts';
import { checkExclusive, spec, type Options } from './options.ts';
import { configureOffcputime } from './program.ts';
import { framesOf, headerLine, jsonLines, lostStacks, lostWarning, reportText, stackContext, threadContext, type CountKey, type OffcpuSample } from './output.ts';
import { StackNames } from './symbols.ts';
import { offcputimeCollector } from './metrics.ts';

// New processes are looked for this often, so that one that lives a little longer is named.
const POLL_MS = 1000;

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  checkExclusive(o);
  const shown = { user: !o['kernel-stacks-only'], kernel: !o['user-stacks-only'] };
  const layout = { delimiter: o.delimited && shown.user && shown.kernel };
  const metrics = await startMetrics(ctx);

  const program = configureOffcputime({
    tgid: o.pid,
    tid: o.tid,
    threads: o['user-threads-only'] ? 'user' : o['kernel-threads-only'] ? 'kernel' : undefined,
    stacks: shown.user && shown.kernel ? 'both' : shown.user ? 'user' : 'kernel',
    minBlockUs: o['min-block-time'],
    maxBlockUs: o['max-block-time'],
    state: o.state,
    stackStorageSize: o['stack-storage-size'],
  });
  const bpf = ctx.load({ ...program, autoAttach: false });
  if (metrics) metrics.add(offcputimeCollector(bpf, metrics.seriesLimit));
  ctx.attach(bpf, program);
  if (metrics?.only) {
    await metrics.serveUntilStopped();
    return;
  }

  const names = new StackNames(bpf.table<StackTraceTable>('stack_traces'));
  const newTgids = bpf.table<HashTable<number, number>>('new_tgids');
  const rememberNew = () => {
    if (!shown.user) return;
    for (const [tgid] of newTgids.drain()) names.remember(tgid);
  };

  if (!o.folded && !o.json) {
    ctx.print(headerLine(threadContext({ pid: o.pid, tid: o.tid, userThreads: o['user-threads-only'], kernelThreads: o['kernel-threads-only'] }), stackContext(shown), o.duration));
  }
  const end = o.duration === undefined ? Infinity : Date.now() + o.duration * 1000;
  for (let left = end - Date.now(); left > 0; left = end - Date.now()) {
    rememberNew();
    if (!await ctx.sleep(Math.min(POLL_MS, left))) break;
  }
  rememberNew();

  const entries = bpf.table<HashTable<CountKey, bigint>>('counts').entries();
  const samples: OffcpuSample[] = entries.map(([k, us]) => ({
    comm: k.name,
    pid: k.pid,
    tgid: k.tgid,
    kernel: framesOf(k.kernel_stack_id, shown.kernel, (id) => names.kernel(id)),
    user: framesOf(k.user_stack_id, shown.user, (id) => names.user(k.tgid, id)),
    value: Number(us),
  }));
  if (o.json) {
    for (const line of jsonLines(samples)) ctx.print(line);
  } else {
    const text = reportText(samples, o.folded, layout);
    if (text) ctx.print(text.replace(/\n$/, ''));
  }
  const warning = lostWarning(lostStacks(entries.map(([k]) => k), shown));
  if (warning) process.stderr.write(`${warning}\n`);
  const dropped = bpf.table<ArrayTable<bigint>>('dropped');
  const full = dropped.get(0) ?? 0n;
  if (full > 0n) ctx.warn(`${full} off-CPU blocks not counted: the counts map was full`);
  const negative = dropped.get(1) ?? 0n;
  if (negative > 0n) ctx.warn(`skipped ${negative} off-CPU blocks with a negative duration`);
  if (o.svg) {
    const svg = flameGraphSvg(samples.map((s) => ({ frames: foldedFrames(s, layout), value: s.value })), {
      title: 'Off-CPU Time Flame Graph', countName: 'us',
    });
    fs.writeFileSync(o.svg, svg);
  }
});
