// What runqlat prints for one interval, from what it drained out of the kernel's maps. Text goes
// through the binding's printer (bcc's print_log2_hist, byte for byte, with bcc's section headers
// "pid = 185", "tid = 185", "pidns = 4026531836"), JSON through its histogramJson (bcc's
// print_json_hist dict) plus the number of waits and their exact sum. Kept apart from the tool so
// tests can feed it fixed buckets.
import { formatLog2Histogram, formatLog2Sections, histogramJson, type JsonHistogram } from 'bcc-node-bindings';
import { clock } from '../../lib/output/format.ts';
import type { Grouping } from './program.ts';

/** bcc's section header for each grouping (none has no sections). */
export const SECTION_HEADER: Record<Exclude<Grouping, 'none'>, string> = { pid: 'pid', tid: 'tid', pidns: 'pidns' };

/** One histogram: the waits of one process, thread or PID namespace (or all of them). */
export interface Section {
  /** The PID, TID or namespace inode; 0 when not grouped. */
  id: bigint;
  slots: bigint[];
  /** The waits' sum in nanoseconds and how many there were (when the program adds them up). */
  sumNs: bigint;
  count: bigint;
}

export interface Interval {
  grouping: Grouping;
  unit: 'usecs' | 'msecs';
  sections: Section[];
  /** When the interval ended. */
  time: Date;
}

/** The kernel map entries of one interval, as the C program keys them. */
export interface Drained {
  /** dist: {group, slot} → count. */
  dist: Array<[{ group: number | bigint; slot: number | bigint }, number | bigint]>;
  /** totals: group → {ns, count}. */
  totals?: Array<[number | bigint, { ns: number | bigint; count: number | bigint }]>;
}

/** Map entries grouped into sections, in numeric order (bcc prints them in hash order). */
export function sectionsFrom(drained: Drained): Section[] {
  const byId = new Map<bigint, Section>();
  const section = (group: number | bigint): Section => {
    const id = BigInt(group);
    let s = byId.get(id);
    if (!s) byId.set(id, (s = { id, slots: [], sumNs: 0n, count: 0n }));
    return s;
  };
  for (const [key, value] of drained.dist) {
    const s = section(key.group);
    const slot = Number(key.slot);
    s.slots[slot] = (s.slots[slot] ?? 0n) + BigInt(value);
  }
  for (const [group, t] of drained.totals ?? []) {
    const s = section(group);
    s.sumNs += BigInt(t.ns);
    s.count += BigInt(t.count);
  }
  const sections = [...byId.values()];
  for (const s of sections) for (let i = 0; i < s.slots.length; i++) s.slots[i] ??= 0n;
  return sections.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** bcc's text for one interval: a blank line, the time with -T, the histogram(s). */
export function formatInterval(interval: Interval, opts: { timestamp?: boolean } = {}): string {
  let out = '\n';
  if (opts.timestamp) out += `${clock(interval.time).padEnd(8)}\n`;
  if (interval.grouping === 'none') {
    out += formatLog2Histogram(interval.sections[0]?.slots ?? [], interval.unit);
  } else {
    out += formatLog2Sections(interval.sections.map((s) => ({ label: s.id, slots: s.slots })), interval.unit, {
      sectionHeader: SECTION_HEADER[interval.grouping], sectionPrint: (label) => String(label),
    });
  }
  return out;
}

export interface RunqlatJson extends JsonHistogram {
  pid?: bigint;
  tid?: bigint;
  pidns?: bigint;
  /** Waits in this histogram, and their sum in nanoseconds (exact: summed before bucketing). */
  count: bigint;
  sum_ns: bigint;
}

/**
 * bcc's print_json_hist objects for one interval, {ts, val_type, data: [{interval-start,
 * interval-end, count}…]}, with "pid", "tid" or "pidns" when grouped, and count and sum_ns.
 * Ungrouped, one object is printed even when empty; grouped, one per process (thread, namespace).
 */
export function jsonInterval(interval: Interval): RunqlatJson[] {
  const sections = interval.grouping === 'none' && interval.sections.length === 0
    ? [{ id: 0n, slots: [], sumNs: 0n, count: 0n }]
    : interval.sections;
  return sections.map((s) => {
    const obj = (interval.grouping === 'none'
      ? histogramJson(s.slots, interval.unit, 'log2', { ts: interval.time })
      : histogramJson(s.slots, interval.unit, 'log2', { ts: interval.time, sectionHeader: SECTION_HEADER[interval.grouping], sectionLabel: s.id })) as RunqlatJson;
    obj.count = s.count;
    obj.sum_ns = s.sumNs;
    return obj;
  });
}
