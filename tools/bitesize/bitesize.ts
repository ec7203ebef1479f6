#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// bitesize  Summarize block device I/O size as a histogram per process.
//           For Linux, uses BPF through libbcc (bcc-node-bindings).
//
// USAGE: bitesize [-h] [-T] [-c COMM] [-d DISK] [-j] [--metrics ADDR] [--explain] [--ebpf]
//                 [interval] [count]
//
// Counts every completed block I/O request by its size (log2 Kbytes slots) under the name of the
// process that created it, and prints a histogram per process name: bcc's bitesize.py output,
// with libbpf-tools' -c, -d, -T and interval/count.
//
// What it traces and why, the differences from bcc, the --json fields and the metrics:
// tools/bitesize/README.md; real output: tools/bitesize/bitesize_example.txt.
import type { ArrayTable, HashTable } from 'bcc-node-bindings';
import { runTool } from '../../lib/run/tool.ts';
import { startMetrics } from '../../lib/metrics/agent.ts';
import { spec, type Options } from './options.ts';
import { commFilterKey, configureBitesize } from './program.ts';
import { formatInterval, jsonInterval, sectionsFrom, type Drained } from './output.ts';
import { bitesizeCollector } from './metrics.ts';

// bcc's "forever", until Ctrl-C.
const FOREVER = 99999999;

interface CommSlot { name: string; slot: bigint }
interface CommName { name: string }
interface SizeSum { bytes: bigint; count: bigint }

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  const metrics = await startMetrics(ctx);

  // --- configuration → program ---
  const program = configureBitesize({
    perComm: !metrics?.only,
    perDisk: metrics !== null,
    disk: o.disk?.dev,
    comm: o.comm,
    seriesLimit: metrics?.seriesLimit,
  });
  const bpf = ctx.load({ ...program, autoAttach: false });
  // The name goes into a map before any probe runs: it never becomes C text.
  if (o.comm !== undefined) bpf.table<ArrayTable<{ name: Buffer }>>('comm_filter').set(0, { name: commFilterKey(o.comm) });

  // --- attach ---
  ctx.attach(bpf, program);
  if (metrics) {
    metrics.add(bitesizeCollector(bpf, metrics.seriesLimit));
    if (metrics.only) return metrics.serveUntilStopped();
  }

  // --- output loop ---
  if (!o.json) ctx.print('Tracing block I/O... Hit Ctrl-C to end.');
  const dist = bpf.table<HashTable<CommSlot, bigint>>('dist');
  const sums = bpf.table<HashTable<CommName, SizeSum>>('sums');
  const misses = bpf.table<ArrayTable<bigint>>('misses');
  let missed = 0n;
  let remaining = o.count ?? FOREVER;

  for (;;) {
    const whole = await ctx.sleep((o.interval ?? FOREVER) * 1000);
    const drained: Drained = { dist: dist.drain(), sums: sums.drain() };
    const interval = { time: new Date(), sections: sectionsFrom(drained) };
    if (o.json) {
      for (const obj of jsonInterval(interval)) ctx.json(obj);
    } else {
      const text = formatInterval(interval, { timestamp: o.timestamp, intervals: o.interval !== undefined });
      if (text !== '') ctx.print(text.replace(/\n$/, ''));
    }
    const now = misses.get(1) ?? 0n;
    if (now > missed) ctx.warn(`${now - missed} I/Os not counted: the histogram map is full`);
    missed = now;
    if (!whole || --remaining === 0) break;
  }
});
