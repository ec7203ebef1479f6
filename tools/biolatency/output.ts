// What biolatency prints for one interval, from what it drained out of the kernel's maps. Text
// goes through the binding's printers (bcc's print_log2_hist, byte for byte) and JSON through
// its histogramJson (bcc's print_json_hist dict, as real JSON). Kept apart from the tool so tests
// can feed it fixed buckets and compare with bcc's output character for character.
import { formatLog2Histogram, formatLog2Sections, histogramJson, type JsonHistogram } from 'bcc-node-bindings';
import { clock } from '../../lib/output/format.ts';
import { log2Merge } from '../../lib/output/log2-stats.ts';

export type Grouping = 'none' | 'disk' | 'flags';

/** One histogram: every I/O of one disk or flag set (or all of them when not grouped). */
export interface Section {
  /** "sda" for -D, "Sync-Write" for -F, "" when not grouped. */
  label: string;
  slots: bigint[];
  /** -e: the sum of the latencies (in the interval's unit) and how many there were. */
  total: bigint;
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
  /** ext (-e only): group → {total, count}. */
  ext?: Array<[number | bigint, { total: number | bigint; count: number | bigint }]>;
}

/**
 * Groups map entries into sections, one per label. Labels, not group numbers, decide: two flag
 * values that print the same (two operations bcc calls "Unknown") share one histogram instead
 * of printing two sections with the same title, as bcc would.
 */
export function sectionsFrom(drained: Drained, grouping: Grouping, labelOf: (group: number) => string): Section[] {
  const byLabel = new Map<string, Section>();
  const section = (group: number | bigint): Section => {
    const label = grouping === 'none' ? '' : labelOf(Number(group));
    let s = byLabel.get(label);
    if (!s) byLabel.set(label, (s = { label, slots: [], total: 0n, count: 0n }));
    return s;
  };
  for (const [key, value] of drained.dist) {
    const s = section(key.group);
    const slot = Number(key.slot);
    s.slots[slot] = (s.slots[slot] ?? 0n) + BigInt(value);
  }
  for (const [group, ext] of drained.ext ?? []) {
    const s = section(group);
    s.total += BigInt(ext.total);
    s.count += BigInt(ext.count);
  }
  const sections = [...byLabel.values()];
  for (const s of sections) for (let i = 0; i < s.slots.length; i++) s.slots[i] ??= 0n;
  // bcc prints sections in hash-map order; sorting by name makes runs comparable.
  return sections.sort((a, b) => a.label.localeCompare(b.label, 'en', { numeric: true }));
}

/** All sections' buckets added together (for --chart's percentiles). */
export function allSlots(interval: Interval): bigint[] {
  return log2Merge(interval.sections.map((s) => s.slots));
}

/**
 * bcc's text for one interval: a blank line, the time with -T, the histogram(s), and with -e
 * the average over every section ("avg = 663 usecs, total: 16575 usecs, count: 25").
 */
export function formatInterval(interval: Interval, opts: { timestamp?: boolean; extension?: boolean } = {}): string {
  let out = '\n';
  if (opts.timestamp) out += `${clock(interval.time).padEnd(8)}\n`;
  if (interval.grouping === 'none') {
    out += formatLog2Histogram(interval.sections[0]?.slots ?? [], interval.unit);
  } else {
    out += formatLog2Sections(interval.sections, interval.unit, {
      sectionHeader: interval.grouping, sectionPrint: (label) => String(label),
    });
  }
  if (opts.extension) {
    const total = interval.sections.reduce((sum, s) => sum + s.total, 0n);
    const count = interval.sections.reduce((sum, s) => sum + s.count, 0n);
    if (count > 0n) out += `\navg = ${total / count} ${interval.unit}, total: ${total} ${interval.unit}, count: ${count}\n\n`;
  }
  return out;
}

export interface BiolatencyJson extends JsonHistogram {
  disk?: string;
  flags?: string;
  /** -e only, for this section: as in the text's "avg = …, total: …, count: …". */
  avg?: bigint;
  total?: bigint;
  count?: bigint;
}

/**
 * bcc's print_json_hist objects for one interval: {ts, val_type, data: [{interval-start,
 * interval-end, count}…]} plus "disk" or "flags" when grouped. Ungrouped, one object is
 * printed even when empty (as bcc does); grouped, one per disk or flag set seen.
 */
export function jsonInterval(interval: Interval, opts: { extension?: boolean } = {}): BiolatencyJson[] {
  const sections = interval.grouping === 'none' && interval.sections.length === 0
    ? [{ label: '', slots: [], total: 0n, count: 0n }]
    : interval.sections;
  return sections.map((s) => {
    const obj: BiolatencyJson = interval.grouping === 'none'
      ? histogramJson(s.slots, interval.unit, 'log2', { ts: interval.time })
      : histogramJson(s.slots, interval.unit, 'log2', { ts: interval.time, sectionHeader: interval.grouping, sectionLabel: s.label });
    if (opts.extension) {
      obj.avg = s.count > 0n ? s.total / s.count : 0n;
      obj.total = s.total;
      obj.count = s.count;
    }
    return obj;
  });
}
