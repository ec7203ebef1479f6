// tcpretrans's metrics: retransmits per flow, read from the `counts` map of tcpretrans.bpf.c at
// scrape time (counted in the kernel; no record crosses to user space for them).
//
//   bpfkit_tcp_retransmits_total{laddr,raddr}    successful retransmits, by flow (ADDR:PORT,
//                                                 IPv6 as [ADDR]:PORT), this host's side first
//   bpfkit_tcp_loss_probes_total{laddr,raddr}    tail loss probes (tcpretrans -l --metrics, where
//                                                 the kernel has kprobes)
//
// The map is never drained: each value is the flow's count since the tool started. One
// series-limit unit is one flow; events a full map could not count are
// bpfkit_lost_events_total{tool="tcpretrans"}. The tool's --metrics and the exporter
// (exporterMetrics) build the same collector.
import { isBpfError, type ArrayTable, type BPF, type HashTable } from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { SeriesBook, counterFamily, type Collector } from '../../lib/metrics/agent.ts';
import type { MetricFamily } from '../../lib/metrics/exposition.ts';
import { flowCounts, type CountKey, type FlowCount } from './events.ts';
import { EXPORTER_CONFIG, configureTcpretrans, type TcpretransProgram } from './program.ts';

function endpoint(ip: 4 | 6, addr: string, port: number): string {
  return ip === 6 ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** The flows counted so far (for -c's table, and the collector). */
export function readCounts(bpf: BPF): FlowCount[] {
  return flowCounts(bpf.table<HashTable<CountKey, bigint>>('counts').entries());
}

export function tcpretransCollector(bpf: BPF, seriesLimit: number, lossProbes: boolean): Collector {
  const book = new SeriesBook(seriesLimit);
  const dropped = bpf.table<ArrayTable<bigint>>('dropped');
  return {
    tool: 'tcpretrans',
    collect(): MetricFamily[] {
      const retransmits = counterFamily('bpfkit_tcp_retransmits_total', 'TCP retransmits, by flow (this host\'s address first)', []);
      const probes = counterFamily('bpfkit_tcp_loss_probes_total', 'TCP tail loss probes, by flow (this host\'s address first)', []);
      for (const r of readCounts(bpf)) {
        const labels = { laddr: endpoint(r.ip, r.laddr, r.lport), raddr: endpoint(r.ip, r.raddr, r.rport) };
        const id = `${labels.laddr}|${labels.raddr}`;
        if (!book.admit(id)) continue;
        retransmits.samples.push({ labels, value: book.monotonic(`R|${id}`, r.retransmits) });
        if (lossProbes) probes.samples.push({ labels, value: book.monotonic(`L|${id}`, r.lossProbes) });
      }
      return lossProbes ? [retransmits, probes] : [retransmits];
    },
    lost: () => {
      let n = 0n;
      for (const v of dropped.values()) n += BigInt(v);
      return n;
    },
    dropped: () => book.dropped,
  };
}

/** tcpretrans's program with the exporter's configuration (EXPORTER_CONFIG), attached, and its collector. */
export async function exporterMetrics(ctx: ToolContext<unknown>, seriesLimit: number): Promise<Collector> {
  let program: TcpretransProgram;
  try {
    program = configureTcpretrans(EXPORTER_CONFIG);
  } catch (err) {
    if (isBpfError(err) && err.code === 'NOT_SUPPORTED') throw new MissingPrerequisite(`tcpretrans: ${err.message}`);
    throw err;
  }
  const bpf = ctx.load({ ...program, autoAttach: false });
  ctx.attach(bpf, program);
  return tcpretransCollector(bpf, seriesLimit, false);
}
