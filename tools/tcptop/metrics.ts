// tcptop's metrics: bytes sent and received per process and connection, read from the `flows`
// map of tools/tcptop/tcptop.bpf.c at scrape time, plus a per-process roll-up.
//
//   bpfkit_tcp_sent_bytes_total{pid,comm,laddr,raddr}       (addresses as ADDR:PORT)
//   bpfkit_tcp_received_bytes_total{pid,comm,laddr,raddr}
//   bpfkit_tcp_process_sent_bytes_total{pid,comm}           every flow of the process, also
//   bpfkit_tcp_process_received_bytes_total{pid,comm}       those beyond the series limit
//
// One series-limit unit is one flow. The flow map is never drained in metrics mode, so it is
// sized to the limit (twice, as each local connection is two flows); a full map counts the
// sends/receives it could not keep in bpfkit_lost_events_total{tool="tcptop"}.
import { isBpfError, type ArrayTable, type BPF, type HashTable } from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import type { ToolProgram } from '../../lib/run/program.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { configureTcptop } from './program.ts';
import { flowRows, type FlowKey, type FlowRow, type FlowValue } from './flows.ts';
import { DrainedTotals, SeriesBook, counterFamily, type Collector } from '../../lib/metrics/agent.ts';
import type { MetricFamily } from '../../lib/metrics/exposition.ts';

type Totals = { rx: bigint; tx: bigint; comm: string; row: FlowRow };

export interface TcptopMetrics extends Collector {
  /** The tool's interval output drained these entries: keep them in the totals. */
  absorb(entries: Array<[FlowKey, FlowValue]>): void;
}

function flowId(r: FlowRow): string {
  return `${r.pid}|${r.laddr}|${r.lport}|${r.raddr}|${r.rport}`;
}

function hostPort(family: 4 | 6, addr: string, port: number): string {
  return family === 6 ? `[${addr}]:${port}` : `${addr}:${port}`;
}

export function tcptopCollector(bpf: BPF, seriesLimit: number): TcptopMetrics {
  const flows = bpf.table<HashTable<FlowKey, FlowValue>>('flows');
  const dropped = bpf.table<ArrayTable<bigint>>('dropped');
  const book = new SeriesBook(seriesLimit);
  const drained = new DrainedTotals<Totals>((a, b) => ({ ...a, rx: a.rx + b.rx, tx: a.tx + b.tx }));
  const toTotals = (r: FlowRow): Totals => ({ rx: BigInt(r.rxBytes), tx: BigInt(r.txBytes), comm: r.comm, row: r });

  return {
    tool: 'tcptop',
    absorb(entries) {
      for (const r of flowRows(entries)) drained.absorb(flowId(r), toTotals(r));
    },
    collect(): MetricFamily[] {
      const all = new DrainedTotals<Totals>((a, b) => ({ ...a, rx: a.rx + b.rx, tx: a.tx + b.tx }));
      for (const [id, t] of drained.entries()) all.absorb(id, t);
      for (const r of flowRows(flows.entries())) all.absorb(flowId(r), toTotals(r));
      const sent = counterFamily('bpfkit_tcp_sent_bytes_total', 'TCP bytes sent by the process on the connection', []);
      const received = counterFamily('bpfkit_tcp_received_bytes_total', 'TCP bytes received by the process on the connection', []);
      const perProcess = new Map<string, { pid: number; comm: string; rx: bigint; tx: bigint }>();
      for (const [id, t] of all.entries()) {
        const r = t.row;
        const proc = `${r.pid}|${t.comm}`;
        const p = perProcess.get(proc) ?? { pid: r.pid, comm: t.comm, rx: 0n, tx: 0n };
        p.rx += t.rx;
        p.tx += t.tx;
        perProcess.set(proc, p);
        if (!book.admit(id)) continue;
        const labels = { pid: String(r.pid), comm: t.comm, laddr: hostPort(r.family, r.laddr, r.lport), raddr: hostPort(r.family, r.raddr, r.rport) };
        sent.samples.push({ labels, value: book.monotonic(`tx|${id}`, t.tx) });
        received.samples.push({ labels, value: book.monotonic(`rx|${id}`, t.rx) });
      }
      const procSent = counterFamily('bpfkit_tcp_process_sent_bytes_total', 'TCP bytes sent by the process, all connections', []);
      const procReceived = counterFamily('bpfkit_tcp_process_received_bytes_total', 'TCP bytes received by the process, all connections', []);
      for (const [proc, p] of perProcess) {
        const labels = { pid: String(p.pid), comm: p.comm };
        procSent.samples.push({ labels, value: book.monotonic(`ptx|${proc}`, p.tx) });
        procReceived.samples.push({ labels, value: book.monotonic(`prx|${proc}`, p.rx) });
      }
      return [sent, received, procSent, procReceived];
    },
    lost: () => dropped.get(0) ?? 0n,
    dropped: () => book.dropped,
  };
}

/** Flow map size for metrics mode: room for the limit's flows, both ends of local connections. */
export function metricsFlowEntries(seriesLimit: number): number {
  return Math.max(16, Math.min(1 << 20, seriesLimit * 2));
}

/**
 * tcptop in `bpfkit exporter`: every process, both families, no container filter, the flow table
 * sized to the series limit; the tool's own configuration and attach, on `kernel`.
 */
export async function exporterMetrics(ctx: ToolContext<unknown>, seriesLimit: number, kernel: KernelView = liveKernel()): Promise<Collector> {
  let program: ToolProgram;
  try {
    program = configureTcptop({ maxFlows: metricsFlowEntries(seriesLimit) }, kernel);
  } catch (err) {
    if (isBpfError(err, 'NOT_SUPPORTED')) throw new MissingPrerequisite(`tcptop: ${err.message}`);
    throw err;
  }
  const bpf = ctx.load({ ...program, autoAttach: false });
  ctx.attach(bpf, program);
  return tcptopCollector(bpf, seriesLimit);
}
