// capable's metrics: capability checks by capability and verdict, counted in the kernel
// (capable.bpf.c's per-CPU `checks`, COUNT_CHECKS) so that a loop of checks costs no record. A
// scrape reads the map; it is never cleared.
//
//   bpfkit_capability_checks_total{cap,verdict}   cap: the capability's name ("CAP_SYS_NICE"),
//                                                 its number where this toolkit names none, "other"
//                                                 beyond 63; verdict: "allow" or "deny"
//
// Every check that passes -p and the container filters is counted, audited or not and whatever
// --unique hides (the tracepoint cannot tell audited checks apart, so neither rung filters them
// here). Bounded: ~41 capabilities × 2 verdicts; one series-limit unit is one pair. The tool's
// --metrics and the exporter (exporterMetrics) build the same collector.
import { isBpfError, type BPF, type PerCpuTable } from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { SeriesBook, counterFamily, type Collector } from '../../lib/metrics/agent.ts';
import type { MetricFamily } from '../../lib/metrics/exposition.ts';
import { CAPABILITIES, verdict } from './events.ts';
import { EXPORTER_CONFIG, configureCapable } from './program.ts';

/** capable.bpf.c's CAP_SLOTS: capabilities 0 to 63, and one slot for any beyond. */
export const CAP_SLOTS = 65;

/** A `checks` slot (cap * 2 + denied) as its labels. */
export function slotLabels(slot: number): { cap: string; verdict: 'allow' | 'deny' } {
  const cap = Math.floor(slot / 2);
  const name = cap === CAP_SLOTS - 1 ? 'other' : CAPABILITIES[cap] ?? String(cap);
  return { cap: name, verdict: verdict(slot % 2) };
}

/** The non-zero slots as samples, in slot order. */
export function checkSamples(entries: Array<[number, bigint]>): Array<{ cap: string; verdict: string; value: bigint }> {
  return entries.filter(([, v]) => v > 0n).sort(([a], [b]) => a - b).map(([slot, value]) => ({ ...slotLabels(slot), value }));
}

export function capableCollector(bpf: BPF, seriesLimit: number): Collector {
  const book = new SeriesBook(seriesLimit);
  const checks = bpf.table<PerCpuTable<number, bigint>>('checks');
  return {
    tool: 'capable',
    collect(): MetricFamily[] {
      const samples = [];
      for (const s of checkSamples(checks.summedEntries())) {
        const id = `${s.cap}|${s.verdict}`;
        if (!book.admit(id)) continue;
        samples.push({ labels: { cap: s.cap, verdict: s.verdict }, value: book.monotonic(id, s.value) });
      }
      return [counterFamily('bpfkit_capability_checks_total', 'Security capability checks (cap_capable()), by capability and verdict', samples)];
    },
    // A per-CPU array has a slot for every check: nothing is ever left uncounted.
    lost: () => 0n,
    dropped: () => book.dropped,
  };
}

/** capable in `bpfkit exporter`: counts only (no records, no stacks). */
export async function exporterMetrics(ctx: ToolContext<unknown>, seriesLimit: number): Promise<Collector> {
  let program;
  try {
    program = configureCapable({ ...EXPORTER_CONFIG, self: process.pid });
  } catch (err) {
    if (isBpfError(err) && err.code === 'NOT_SUPPORTED') throw new MissingPrerequisite(`capable: ${err.message}`);
    throw err;
  }
  const bpf = ctx.load({ ...program, autoAttach: false });
  ctx.attach(bpf, program);
  return capableCollector(bpf, seriesLimit);
}
