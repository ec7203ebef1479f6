#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// pktcount  Count packets and bytes per protocol and port with XDP, and drop chosen ones.
//           An XDP program on one interface counts each received packet by protocol and
//           destination port in a per-CPU map; --drop rules (a map, never C text) drop some.
//
// USAGE: pktcount [-h] [--drop PROTO:PORT] [-S] [--metrics ADDR] [--metrics-and-print]
//                 [--series-limit N] [--json] [--explain] [--ebpf] [--no-cache]
//                 interface [interval [count]]
//
// What it counts and why, the XDP program type, --json and the metrics: tools/pktcount/README.md;
// real output: tools/pktcount/pktcount_example.txt. The C program (teaching material for XDP):
// pktcount.bpf.c; the attach choices (native or generic, bpf_link or netlink): program.ts.
//
// bcc has no such tool: its examples/networking/xdp (xdp_drop_count.py) drop and count by protocol.
import type { HashTable, PerCpuTable } from 'bcc-node-bindings';
import { interfaceIndex, validInterfaceName } from 'bcc-node-bindings';
import { runTool } from '../../lib/run/tool.ts';
import { UsageError } from '../../lib/run/cli.ts';
import { clock } from '../../lib/output/format.ts';
import { startMetrics } from '../../lib/metrics/agent.ts';
import { spec, type Options } from './options.ts';
import { configurePktcount } from './program.ts';
import { intervalJson, keyOf, rowsFrom, rowsTable, type PktKey, type PktVal } from './rows.ts';
import { pktcountCollector } from './metrics.ts';

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  const ifname = o.interface;
  // --ebpf prints the same program for any interface.
  if (!o.ebpf) {
    if (ifname === undefined) throw new UsageError('the following arguments are required: interface');
    if (!validInterfaceName(ifname)) throw new UsageError(`argument interface: ${JSON.stringify(ifname)} is not an interface name`);
    if (interfaceIndex(ifname) === null) throw new UsageError(`argument interface: no network interface named ${ifname}`);
  }
  const intervalS = o.interval ?? 1;
  const count = o.count ?? Infinity;
  const metrics = await startMetrics(ctx);

  const program = configurePktcount({
    ifname: ifname ?? '',
    skbMode: o['skb-mode'],
    maxKeys: metrics?.only ? Math.max(o['max-keys'], metrics.seriesLimit) : o['max-keys'],
  });
  const bpf = ctx.load({ ...program, autoAttach: false });
  // Rules before the program is on the interface: no packet passes that a rule names.
  const drops = bpf.table<HashTable<PktKey, number>>('drops');
  for (const rule of o.drop ?? []) drops.set(keyOf(rule.proto, rule.port), 1);
  ctx.attach(bpf, program);

  const collector = metrics ? pktcountCollector(bpf, ifname!, metrics.seriesLimit) : null;
  if (metrics && collector) {
    metrics.add(collector);
    if (metrics.only) return metrics.serveUntilStopped();
  }

  const counts = bpf.table<PerCpuTable<PktKey, PktVal>>('counts');
  const missed = bpf.table<PerCpuTable<number, bigint>>('missed');
  if (!o.json) ctx.print(`Counting packets on ${ifname}... Output every ${intervalS} secs. Hit Ctrl-C to end`);
  const start = Date.now();
  let missedBefore = 0n;
  for (let shown = 0; shown < count;) {
    // Deadlines from the start, so that a slow interval does not delay the next ones.
    const running = await ctx.sleep(start + (shown + 1) * intervalS * 1000 - Date.now());
    const rows = rowsFrom(counts.drain());
    collector?.absorb(rows);
    const missedNow = missed.sum(0) ?? 0n;
    if (missedNow > missedBefore) ctx.warn(`${missedNow - missedBefore} packets not counted: the table is full (${o['max-keys']} protocol and port pairs in one interval)`);
    missedBefore = missedNow;
    const time = clock(new Date());
    if (o.json) ctx.json(intervalJson(time, rows));
    else ctx.print(`\n${time}\n${rowsTable(rows)}`);
    shown++;
    if (!running) break; // Ctrl-C: the partial interval above was the last, as tcptop's
  }
});
