// offcputime's metrics: off-CPU time per command name, summed over its threads and stacks from
// the `counts` map when a scrape arrives (the map is never cleared, so the sums only grow).
//
//   bpfkit_offcpu_seconds_total{comm}   time threads of that name spent blocked off CPU, counted
//                                       when each block ended (-m/-M and the filters apply)
//
// comm is bounded by --series-limit; blocks the full map could not count are
// bpfkit_lost_events_total{tool="offcputime"}. Stacks are not exported: unbounded, and their
// names cost a symboliser in the scrape path.
import type { ArrayTable, BPF, HashTable } from 'bcc-node-bindings';
import { SeriesBook, type Collector } from '../../lib/metrics/agent.ts';
import type { MetricFamily } from '../../lib/metrics/exposition.ts';
import type { CountKey } from './output.ts';

/** µs per command name, in the map's order. */
export function secondsByComm(entries: ReadonlyArray<[CountKey, bigint]>): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const [key, us] of entries) out.set(key.name, (out.get(key.name) ?? 0n) + us);
  return out;
}

export function offcputimeCollector(bpf: BPF, seriesLimit: number): Collector {
  const book = new SeriesBook(seriesLimit);
  const counts = bpf.table<HashTable<CountKey, bigint>>('counts');
  const dropped = bpf.table<ArrayTable<bigint>>('dropped');
  return {
    tool: 'offcputime',
    collect(): MetricFamily[] {
      const samples = [];
      for (const [comm, us] of secondsByComm(counts.entries())) {
        if (!book.admit(comm)) continue;
        // Summed exactly in µs; a scrape never sees the counter go down (the agent's clamp).
        samples.push({ labels: { comm }, value: Number(book.monotonic(comm, us)) / 1e6 });
      }
      return [{ name: 'bpfkit_offcpu_seconds_total', help: 'Time threads spent blocked off CPU, by command name', type: 'counter', samples }];
    },
    lost: () => dropped.get(0) ?? 0n,
    dropped: () => book.dropped,
  };
}
