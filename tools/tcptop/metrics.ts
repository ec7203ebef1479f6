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
import { kernelBtf, kernelBtfAvailable, tracepointExists, type ArrayTable, type BPF, type HashTable } from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import { flowRows, type FlowKey, type FlowRow, type FlowValue } from './flows.ts';
import { RunningTotals, SeriesBook, counterFamily, type Collector } from '../../lib/metrics/agent.ts';
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
  const drained = new RunningTotals<Totals>((a, b) => ({ ...a, rx: a.rx + b.rx, tx: a.tx + b.tx }));
  const toTotals = (r: FlowRow): Totals => ({ rx: BigInt(r.rxBytes), tx: BigInt(r.txBytes), comm: r.comm, row: r });

  return {
    tool: 'tcptop',
    absorb(entries) {
      for (const r of flowRows(entries)) drained.absorb(flowId(r), toTotals(r));
    },
    collect(): MetricFamily[] {
      const all = new RunningTotals<Totals>((a, b) => ({ ...a, rx: a.rx + b.rx, tx: a.tx + b.tx }));
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

/** tcptop's program with the exporter's configuration: every process, both families. */
export function loadTcptopMetrics(ctx: ToolContext<unknown>, seriesLimit: number): TcptopMetrics {
  // The exporter needs the socket tracepoints (Linux 6.3+) and BTF; tcptop itself has the fallbacks.
  if (!tracepointExists('sock', 'sock_send_length') || !tracepointExists('sock', 'sock_recv_length')) {
    throw new Error('tcptop metrics in the exporter need the sock:sock_send_length/sock_recv_length tracepoints (Linux 6.3+); run `tcptop --metrics` instead');
  }
  const btf = kernelBtfAvailable() ? kernelBtf() : null;
  const off = (field: string) => btf?.fieldLocation('sock', `__sk_common.${field}`)?.offset ?? 0;
  const bpf = ctx.load({
    file: 'tcptop.bpf.c',
    defines: {
      BYTES_FROM: 1,
      TRACK_STATE: tracepointExists('sock', 'inet_sock_set_state'),
      ...(btf ? {
        SK_FAMILY_OFF: off('skc_family'), SK_NUM_OFF: off('skc_num'), SK_DPORT_OFF: off('skc_dport'),
        SK_RCV_SADDR_OFF: off('skc_rcv_saddr'), SK_DADDR_OFF: off('skc_daddr'),
        SK_V6_RCV_SADDR_OFF: off('skc_v6_rcv_saddr'), SK_V6_DADDR_OFF: off('skc_v6_daddr'),
      } : { SK_OFFSETS_FROM_HEADERS: 1 }),
      TCP_RECVMSG_NONBLOCK: false,
      FILTER_PID: 0,
      FILTER_FAMILY: 0,
      FILTER_CGROUP_MAP: false,
      FILTER_MNTNS_MAP: false,
      MAX_FLOWS: metricsFlowEntries(seriesLimit),
      MAX_SOCKETS: 32768,
    },
  });
  return tcptopCollector(bpf, seriesLimit);
}
