// secwatch's metrics: alerts by rule and the actions taken, counted in the kernel (secwatch.bpf.c's
// per-CPU arrays `alert_counts` and `action_counts`, indexed by a rule's bit, its index in the
// program's rules), so that a scrape is exact whatever the ring buffer drops. A scrape reads the
// maps; they are never cleared.
//
//   bpfkit_secwatch_alerts_total{rule,priority}   rule: the rule's id; priority: Falco's
//   bpfkit_secwatch_actions_total{rule,action}    action: "kill" or "deny", as the program enforces
//                                                 the rule (a deny that fell back is a kill)
//
// The kernel counts a rule's matches. A rule with a condition the kernel cannot decide (model.ts
// USER_SPACE_CONDITIONS, e.g. pathSuffix) matches in the kernel more often than it alerts: the
// entry counts, per rule bit, the matches user space turned down (`rejected`), and alerts are
// matches − rejected. A scrape between a match and user space's verdict on it counts it, and the
// monotonic clamp keeps it: the excess is at most the rejections in flight at a scrape. In the
// exporter no record reaches user space, so there such a rule counts all its kernel matches.
//
// --dry-run adds nothing to action_counts: the kernel counts only actions it took. Lost events are
// the ring buffer's (the entry's event channel knows them); in the exporter the program emits no
// records and loses none. Bounded: at most 64 rules, each with one alerts series and one actions series.
import { isBpfError, type BPF, type PerCpuTable } from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { SeriesBook, counterFamily, type Collector } from '../../lib/metrics/agent.ts';
import type { Labels, MetricFamily } from '../../lib/metrics/exposition.ts';
import type { Rule } from './model.ts';
import { enforcedAction } from './alerts.ts';
import { configureSecwatch } from './program.ts';
import { loadRules } from './rules.ts';

interface Sample {
  labels: Labels;
  value: bigint;
}

/** The non-zero slots of a rule-indexed count, by rule bit (slots beyond the rules are ignored). */
function countsByBit(entries: Array<[number, bigint]>, rules: readonly Rule[]): Map<number, bigint> {
  const counts = new Map<number, bigint>();
  for (const [bit, value] of entries) if (bit < rules.length && value > 0n) counts.set(bit, value);
  return counts;
}

/** Alerts per rule: kernel matches less those user space turned down, in rule order. */
export function alertSamples(matches: Array<[number, bigint]>, rules: readonly Rule[], rejected?: ReadonlyMap<number, bigint>): Sample[] {
  const counts = countsByBit(matches, rules);
  const samples: Sample[] = [];
  rules.forEach((rule, bit) => {
    const value = (counts.get(bit) ?? 0n) - (rejected?.get(bit) ?? 0n);
    if (value > 0n) samples.push({ labels: { rule: rule.id, priority: rule.priority }, value });
  });
  return samples;
}

/**
 * Actions per rule, in rule order, labelled with the action the program takes (without BPF LSM
 * a deny rule kills); a rule that only alerts has none to count.
 */
export function actionSamples(taken: Array<[number, bigint]>, rules: readonly Rule[], denyByLsm: boolean): Sample[] {
  const counts = countsByBit(taken, rules);
  const samples: Sample[] = [];
  rules.forEach((rule, bit) => {
    const value = counts.get(bit);
    const action = enforcedAction(rule, denyByLsm);
    if (value !== undefined && action !== 'alert') samples.push({ labels: { rule: rule.id, action }, value });
  });
  return samples;
}

/** What the entry knows beyond the maps. */
export interface SecwatchCounts {
  /** Kernel matches user space turned down, by rule bit; live (read at each scrape). */
  rejected?: ReadonlyMap<number, bigint>;
  /** Events the ring buffer dropped. */
  lost?: () => bigint;
  /** program.deny.lsm once attached: whether deny rules deny (else they kill). */
  denyByLsm?: boolean;
}

/** The collector over a loaded and attached secwatch program; `rules` are the program's (their order is the bits). */
export function secwatchCollector(bpf: BPF, rules: readonly Rule[], seriesLimit: number, counts: SecwatchCounts = {}): Collector {
  const book = new SeriesBook(seriesLimit);
  const alerts = bpf.table<PerCpuTable<number, bigint>>('alert_counts');
  const actions = bpf.table<PerCpuTable<number, bigint>>('action_counts');
  const admitted = (family: string, samples: Sample[]): Sample[] => samples.flatMap((s) => {
    const id = `${family}|${Object.values(s.labels).join('|')}`;
    return book.admit(id) ? [{ labels: s.labels, value: book.monotonic(id, s.value) }] : [];
  });
  return {
    tool: 'secwatch',
    collect(): MetricFamily[] {
      return [
        counterFamily('bpfkit_secwatch_alerts_total', 'Alerts raised by secwatch rules, by rule id and priority',
          admitted('alerts', alertSamples(alerts.summedEntries(), rules, counts.rejected))),
        counterFamily('bpfkit_secwatch_actions_total', 'Processes killed or calls denied by secwatch rules, by rule id and action',
          admitted('actions', actionSamples(actions.summedEntries(), rules, counts.denyByLsm ?? false))),
      ];
    },
    lost: counts.lost ?? (() => 0n),
    dropped: () => book.dropped,
  };
}

/**
 * secwatch in `bpfkit exporter`: the default rules, counted in the kernel, no records. A default
 * rule that asks for kill or deny enforces here as it does under `secwatch --metrics`.
 */
export async function exporterMetrics(ctx: ToolContext<unknown>, seriesLimit: number): Promise<Collector> {
  let program;
  try {
    program = configureSecwatch({ rules: loadRules({}), events: false, self: process.pid });
  } catch (err) {
    if (isBpfError(err) && err.code === 'NOT_SUPPORTED') throw new MissingPrerequisite(`secwatch: ${err.message}`);
    throw err;
  }
  const bpf = ctx.load({ ...program, autoAttach: false });
  // attach() writes the rules into the maps first.
  ctx.attach(bpf, program);
  return secwatchCollector(bpf, program.rules, seriesLimit, { denyByLsm: program.deny.lsm });
}
