#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// tcptop    Summarize TCP send/recv throughput by host, top-style.
//           bcc's tcptop on bpfkit: the bytes are summed in the kernel, per process and connection.
//
// USAGE: tcptop [-h] [-C] [-S] [-p PID] [-4 | -6] [--cgroupmap PATH] [--mntnsmap PATH]
//               [--sort rx|tx|total] [-n N] [--json] [--chart] [--explain] [interval [count]]
//
// What it traces, and why there:
// - Bytes: the socket layer's tracepoints sock:sock_send_length and sock:sock_recv_length (Linux
//   6.3+), fired once per sendmsg/recvmsg with what the call returned: the bytes the application
//   really handed to TCP or read from it. Peeks (MSG_PEEK) and error-queue reads are not data
//   read. Where they are missing, fexit on tcp_sendmsg/tcp_recvmsg, else kprobes on their entry
//   and return; never tcp_cleanup_rbuf, which counts a read several times (bcc issue #5352).
// - Addresses: sock:inet_sock_set_state hands over a socket's addresses and ports in stable
//   fields at each state change; they are cached by socket. Sockets connected before tcptop
//   started are read once from their struct sock, at field offsets taken from the running
//   kernel's BTF (the compile-time headers may be another kernel's: on this machine they are).
// - The C program is tools/tcptop/tcptop.bpf.c; `--explain` shows which attach points won and why.
//
// Differences from bcc's tcptop, and why:
// - Runs without kprobes or fentry (bcc's current tcptop needs fentry and has no fallback; its
//   old kprobe version over-counts received bytes).
// - RX counts the bytes read by recvmsg/read (and io_uring's receives), not splice() from a
//   socket, which bypasses recvmsg; bcc's fentry version misses it too.
// - An idle interval prints an empty table header instead of nothing, and the screen is never
//   cleared when stdout is not a terminal (bcc runs `clear`, escape codes into a file or pipe).
// - Rows are per process and connection; the command name is the first thread's that moved
//   bytes on it (bcc also splits rows by thread name).
// - New: --sort rx|tx|total, -n/--top N, --json, --chart (total RX and TX KB/s), --explain.
//   --cgroupmap/--mntnsmap take the same pinned maps as bcc's, checked before use (a hash map
//   with bcc's key and value sizes); the user's path never enters the C program, which names
//   a second pin made from tcptop's PID instead (lib/kernel/pinned-maps.ts).
// - A full flow table is reported on stderr with the count of sends/receives not counted.
//
// --json prints one object per interval:
//   {"time":"HH:MM:SS","interval_s":1,"loadavg":[1m,5m,15m],"dropped":0,
//    "flows":[{"pid","comm","family":4|6,"laddr","lport","raddr","rport",
//              "rx_bytes","tx_bytes","rx_kb","tx_kb"}]}
// sorted and cut as the table is; "dropped" counts sends/receives lost to a full flow table.
//
// After bcc's tcptop (Brendan Gregg, 2016), whose screen this reproduces; the code is bpfkit's own.
import {
  fentryUsable, kernelBtf, kernelBtfAvailable, kprobesAvailable, tracepointExists,
  type ArrayTable, type BPF, type HashTable,
} from 'bcc-node-bindings';
import { releaseAtLeast } from '../../lib/kernel/release.ts';
import { runTool } from '../../lib/run/tool.ts';
import { PID_OPTION_RANGE, UsageError, existingPid, type ToolSpec } from '../../lib/run/cli.ts';
import { chooseAttach } from '../../lib/run/attach-plan.ts';
import { mountNamespaceOffsets, taskParentOffsets } from '../../lib/kernel/offsets.ts';
import { CGROUP_MAP, CONTAINER_MAP_OPTIONS, MNTNS_MAP, containerFilters, openPinnedMap } from '../../lib/kernel/pinned-maps.ts';
import { AF_INET, AF_INET6 } from './inet.ts';
import { readLoadavg, summaryLine } from './loadavg.ts';
import { clearsScreen, intervalStart } from '../../lib/output/screen.ts';
import { clock } from '../../lib/output/format.ts';
import { LiveChart } from '../../lib/output/chart.ts';
import {
  SORT_FIELDS, flowJson, flowRows, flowTables, sortRows, totals,
  type FlowKey, type FlowValue, type SortField,
} from './flows.ts';
import { METRICS_OPTIONS, startMetrics, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { metricsFlowEntries, tcptopCollector } from './metrics.ts';

const spec: ToolSpec = {
  name: 'tcptop',
  description: 'Summarize TCP send/recv throughput by host',
  options: [
    { long: 'noclear', short: 'C', type: 'boolean', help: "don't clear the screen" },
    { long: 'nosummary', short: 'S', type: 'boolean', help: 'skip system summary line' },
    { long: 'pid', short: 'p', type: 'int', ...PID_OPTION_RANGE, parse: existingPid, help: 'trace this PID only' },
    ...CONTAINER_MAP_OPTIONS,
    { long: 'ipv4', short: '4', type: 'boolean', help: 'trace IPv4 family only' },
    { long: 'ipv6', short: '6', type: 'boolean', help: 'trace IPv6 family only' },
    { long: 'sort', type: 'string', metavar: 'FIELD', default: 'total', parse: sortField, help: 'sort rows by rx, tx or total bytes (default total)' },
    { long: 'top', short: 'n', type: 'int', min: 1, max: 1_000_000, metavar: 'N', help: 'show only the N busiest connections' },
    {
      long: 'max-flows', type: 'int', min: 16, max: 1 << 20, default: 65536, metavar: 'N', hidden: true,
      help: 'size of the in-kernel flow table (process and connection pairs per interval)',
    },
    ...METRICS_OPTIONS,
  ],
  positionals: [
    { name: 'interval', type: 'int', min: 1, help: 'output interval, in seconds (default 1)' },
    { name: 'count', type: 'int', min: 1, help: 'number of outputs' },
  ],
  chart: true,
  examples: [
    ['tcptop', 'trace TCP send/recv by host'],
    ['tcptop -C', "don't clear the screen"],
    ['tcptop -p 181', 'only trace PID 181'],
    ['tcptop --cgroupmap mappath', 'only trace cgroups in this BPF map'],
    ['tcptop --mntnsmap mappath', 'only trace mount namespaces in the map'],
    ['tcptop -4', 'trace IPv4 family only'],
    ['tcptop -6', 'trace IPv6 family only'],
    ['tcptop -C -S 5 3', 'three 5-second intervals, no summary line'],
    ['tcptop --sort rx -n 10', 'the 10 connections that received most'],
    ['tcptop --json 1 10', 'ten intervals as JSON lines'],
    ['tcptop --chart', 'total RX/TX KB/s over time'],
    ['tcptop --metrics 9435', 'serve bytes per connection to Prometheus on 127.0.0.1:9435'],
  ],
};

interface Options extends MetricsOptions {
  noclear: boolean;
  nosummary: boolean;
  pid?: number;
  cgroupmap?: string;
  mntnsmap?: string;
  ipv4: boolean;
  ipv6: boolean;
  sort: SortField;
  top?: number;
  'max-flows': number;
  interval?: number;
  count?: number;
}

function sortField(value: string): SortField {
  if (!(SORT_FIELDS as readonly string[]).includes(value)) throw new UsageError(`expected one of ${SORT_FIELDS.join(', ')}, got ${JSON.stringify(value)}`);
  return value as SortField;
}

// `flows` is sized by --max-flows (hidden; default 65536: tens of thousands of connections per
// interval, each local connection being two flows, one per end), and allocates per entry.
// `socks` is a cache of addresses: too small only costs struct reads again.
const MAX_SOCKETS = 32768;

// Must match BYTES_FROM_* in tools/tcptop/tcptop.bpf.c.
const BYTES_FROM = { SOCK_TP: 1, FEXIT: 2, KPROBES: 3 } as const;

/** tcp_recvmsg lost its `nonblock` argument in 5.19; only the fexit and kprobe fallbacks care. */
function tcpRecvmsgHasNonblock(): boolean {
  return !releaseAtLeast(5, 19);
}

/** struct sock fields the program reads for sockets it did not see change state. */
function sockOffsets(): Record<string, number> {
  const btf = kernelBtf();
  const off = (field: string) => btf.offsetOf('sock', `__sk_common.${field}`);
  return {
    SK_FAMILY_OFF: off('skc_family'),
    SK_NUM_OFF: off('skc_num'),
    SK_DPORT_OFF: off('skc_dport'),
    SK_RCV_SADDR_OFF: off('skc_rcv_saddr'),
    SK_DADDR_OFF: off('skc_daddr'),
    // Without CONFIG_IPV6 these fields do not exist and no socket is AF_INET6.
    SK_V6_RCV_SADDR_OFF: btf.fieldLocation('sock', '__sk_common.skc_v6_rcv_saddr')?.offset ?? 0,
    SK_V6_DADDR_OFF: btf.fieldLocation('sock', '__sk_common.skc_v6_daddr')?.offset ?? 0,
  };
}

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  if (o.ipv4 && o.ipv6) throw new UsageError('argument -6/--ipv6: not allowed with argument -4/--ipv4');
  if (o.json && o.chart) throw new UsageError('argument --chart: not allowed with argument --json');
  const intervalS = o.interval ?? 1;
  const count = o.count ?? Infinity;
  // --metrics: the flow table is read at each scrape and never drained (see tools/tcptop/metrics.ts).
  const metrics = await startMetrics(ctx);

  // --- where to attach: best first, the reasons for the others kept for --explain ---
  const bytes = chooseAttach('bytes sent and received', [
    {
      label: 'tracepoints sock:sock_send_length + sock:sock_recv_length',
      unavailable: () => tracepointExists('sock', 'sock_send_length') && tracepointExists('sock', 'sock_recv_length')
        ? null : 'not in this kernel (Linux 6.3+)',
      value: BYTES_FROM.SOCK_TP,
    },
    { label: 'fexit tcp_sendmsg + tcp_recvmsg', unavailable: () => fentryUsable() ? null : 'this kernel refuses fentry/fexit', value: BYTES_FROM.FEXIT },
    { label: 'kprobes on entry and return of tcp_sendmsg + tcp_recvmsg', unavailable: () => kprobesAvailable() ? null : 'this kernel has no kprobes', value: BYTES_FROM.KPROBES },
  ]);
  const addresses = chooseAttach('connection addresses', [
    {
      label: 'tracepoint sock:inet_sock_set_state (cached per socket), struct sock for older sockets',
      unavailable: () => tracepointExists('sock', 'inet_sock_set_state') ? null : 'not in this kernel (Linux 4.16+)',
      value: true,
    },
    { label: 'struct sock fields, read at the first send or receive', unavailable: () => null, value: false },
  ]);
  const offsets = chooseAttach('struct sock field offsets', [
    {
      label: "the running kernel's BTF", unavailable: () => kernelBtfAvailable() ? null : 'no /sys/kernel/btf/vmlinux',
      value: sockOffsets as () => Record<string, number>,
    },
    {
      label: 'the kernel headers libbcc compiles with (right only when they are the running kernel\'s)',
      unavailable: () => null, value: () => ({ SK_OFFSETS_FROM_HEADERS: 1 }),
    },
  ]);

  // --- configuration → program ---
  const cgroupMap = o.cgroupmap ? openPinnedMap(o.cgroupmap, CGROUP_MAP) : null;
  const mntnsMap = o.mntnsmap ? openPinnedMap(o.mntnsmap, MNTNS_MAP) : null;
  const containers = containerFilters(cgroupMap, mntnsMap, !o.ebpf);
  let bpf: BPF;
  try {
    bpf = ctx.load({
      file: 'tcptop.bpf.c',
      defines: {
        BYTES_FROM: bytes.value,
        TRACK_STATE: addresses.value,
        ...offsets.value(),
        TCP_RECVMSG_NONBLOCK: tcpRecvmsgHasNonblock(),
        FILTER_PID: o.pid ?? 0,
        FILTER_FAMILY: o.ipv4 ? AF_INET : o.ipv6 ? AF_INET6 : 0,
        ...containers.defines,
        ...(mntnsMap ? { ...taskParentOffsets(), ...mountNamespaceOffsets() } : {}),
        MAX_FLOWS: metrics?.only ? metricsFlowEntries(metrics.seriesLimit) : o['max-flows'],
        MAX_SOCKETS,
      },
      attachments: [bytes.choice, addresses.choice, offsets.choice],
    });
  } finally {
    containers.unpin();
  }

  const collector = metrics ? tcptopCollector(bpf, metrics.seriesLimit) : null;
  if (metrics && collector) {
    metrics.add(collector);
    if (metrics.only) return metrics.serveUntilStopped();
  }

  // --- output loop ---
  const flows = bpf.table<HashTable<FlowKey, FlowValue>>('flows');
  const dropped = bpf.table<ArrayTable<bigint>>('dropped');
  const clear = clearsScreen(o.noclear);
  const chart = o.chart ? new LiveChart({ title: `tcptop: total TCP throughput, KB/s every ${intervalS}s` }) : null;
  if (!o.json && !chart) ctx.print(`Tracing... Output every ${intervalS} secs. Hit Ctrl-C to end`);

  const start = Date.now();
  let droppedBefore = 0n;
  for (let shown = 0; shown < count;) {
    // Deadlines from the start, so that a slow interval does not delay the next ones.
    const running = await ctx.sleep(start + (shown + 1) * intervalS * 1000 - Date.now());
    const drained = flows.drain();
    collector?.absorb(drained);
    const rows = flowRows(drained);
    const droppedNow = dropped.get(0) ?? 0n;
    const lost = Number(droppedNow - droppedBefore);
    droppedBefore = droppedNow;
    if (lost > 0) ctx.warn(`${lost} sends/receives not counted: the flow table is full (${o['max-flows']} flows in one interval)`);
    const shownRows = sortRows(rows, o.sort, o.top);
    const now = new Date();

    if (o.json) {
      const load = readLoadavg();
      ctx.json({
        time: clock(now), interval_s: intervalS, loadavg: [load.load1, load.load5, load.load15],
        dropped: lost, flows: shownRows.map(flowJson),
      });
    } else if (chart) {
      const sum = totals(rows);
      chart.push({ 'RX KB/s': sum.rxBytes / 1024 / intervalS, 'TX KB/s': sum.txBytes / 1024 / intervalS });
      chart.draw();
    } else {
      let text = intervalStart(clear);
      if (!o.nosummary) text += `${summaryLine(clock(now), readLoadavg())}\n`;
      text += flowTables(shownRows, o.ipv6 ? 6 : 4).join('\n');
      ctx.print(text);
    }
    shown++;
    if (!running) break; // Ctrl-C: the partial interval above was the last, as bcc's
  }
});

