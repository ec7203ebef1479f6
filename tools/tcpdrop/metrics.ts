// tcpdrop's metrics: TCP drops by the kernel's reason and the socket's state, counted in the
// kernel (tcpdrop.bpf.c's `drops`, COUNT_DROPS) so that a flood of drops costs no record and no
// stack walk. A scrape reads the map; it is never cleared.
//
//   bpfkit_tcp_drops_total{reason,state}   reason: enum skb_drop_reason's name ("NO_SOCKET"), its
//                                          number where BTF names none, "-" where the hook gives
//                                          none; state: the TCP state, "-" without a socket
//
// Both labels are bounded by the kernel's enums (some 130 reasons, 13 states); one series-limit
// unit is one pair. Drops the full map could not count are bpfkit_lost_events_total{tool="tcpdrop"}.
// The tool's --metrics and the exporter (exporterMetrics) build the same collector.
import { isBpfError, type ArrayTable, type BPF, type HashTable } from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { SeriesBook, counterFamily, type Collector } from '../../lib/metrics/agent.ts';
import type { MetricFamily } from '../../lib/metrics/exposition.ts';
import { reasonText, stateText } from './events.ts';
import { EXPORTER_CONFIG, configureTcpdrop, type TcpdropProgram } from './program.ts';

interface DropKey { reason: number; state: number }

/** The pairs as labels, summed where two values share a name (never, for a kernel's own enum). */
export function dropSamples(entries: Array<[DropKey, bigint]>, program: Pick<TcpdropProgram, 'reasons' | 'hasReason'>): Map<string, { reason: string; state: string; value: bigint }> {
  const out = new Map<string, { reason: string; state: string; value: bigint }>();
  for (const [key, value] of entries) {
    const reason = reasonText(key.reason, program.reasons, program.hasReason);
    const state = stateText(key.state);
    const id = `${reason}|${state}`;
    const before = out.get(id);
    out.set(id, { reason, state, value: (before?.value ?? 0n) + value });
  }
  return out;
}

export function tcpdropCollector(bpf: BPF, program: TcpdropProgram, seriesLimit: number): Collector {
  const book = new SeriesBook(seriesLimit);
  const drops = bpf.table<HashTable<DropKey, bigint>>('drops');
  const lost = bpf.table<ArrayTable<bigint>>('count_lost');
  return {
    tool: 'tcpdrop',
    collect(): MetricFamily[] {
      const samples = [];
      for (const [id, s] of dropSamples(drops.entries(), program)) {
        if (!book.admit(id)) continue;
        samples.push({ labels: { reason: s.reason, state: s.state }, value: book.monotonic(id, s.value) });
      }
      return [counterFamily('bpfkit_tcp_drops_total', 'TCP packets dropped by the kernel, by drop reason and socket state', samples)];
    },
    lost: () => lost.get(0) ?? 0n,
    dropped: () => book.dropped,
  };
}

/** tcpdrop in `bpfkit exporter`: both families, counts only (no records, no stacks). */
export async function exporterMetrics(ctx: ToolContext<unknown>, seriesLimit: number): Promise<Collector> {
  let program: TcpdropProgram;
  try {
    program = configureTcpdrop(EXPORTER_CONFIG);
  } catch (err) {
    if (isBpfError(err) && err.code === 'NOT_SUPPORTED') throw new MissingPrerequisite(`tcpdrop: ${err.message}`);
    throw err;
  }
  const bpf = ctx.load({ ...program, autoAttach: false });
  ctx.attach(bpf, program);
  return tcpdropCollector(bpf, program, seriesLimit);
}
