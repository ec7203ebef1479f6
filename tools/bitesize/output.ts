// What bitesize prints for one interval, from what it drained out of the kernel's maps. Text goes
// through the binding's printer (bcc's print_log2_hist with section header "Process Name", byte
// for byte) and JSON through its histogramJson (bcc's print_json_hist dict, as real JSON). Kept
// apart from the tool so tests can feed it fixed buckets.
import { formatLog2Sections, histogramJson, type JsonHistogram } from 'bcc-node-bindings';
import { clock } from '../../lib/output/format.ts';

export const UNIT = 'Kbytes';

/** One process name's I/O: its histogram and exact totals. */
export interface Section {
  comm: string;
  /** bcc's slots: bpf_log2l(bytes / 1024). */
  slots: bigint[];
  /** The exact sum of the sizes and the number of I/Os. */
  bytes: bigint;
  count: bigint;
}

export interface Interval {
  sections: Section[];
  /** When the interval ended. */
  time: Date;
}

type Num = number | bigint;

/** The kernel map entries of one interval, as the C program keys them (struct comm_slot, comm_name). */
export interface Drained {
  dist: Array<[{ name: string; slot: Num }, Num]>;
  sums: Array<[{ name: string }, { bytes: Num; count: Num }]>;
}

/**
 * Groups map entries into one section per name, sorted by name (bcc prints them in hash order;
 * sorted, runs compare). Names are merged by their text: two byte strings that decode alike
 * share a histogram instead of printing two with the same title.
 */
export function sectionsFrom(drained: Drained): Section[] {
  const byName = new Map<string, Section>();
  const section = (comm: string): Section => {
    let s = byName.get(comm);
    if (!s) byName.set(comm, (s = { comm, slots: [], bytes: 0n, count: 0n }));
    return s;
  };
  for (const [key, value] of drained.dist) {
    const s = section(key.name);
    const slot = Number(key.slot);
    s.slots[slot] = (s.slots[slot] ?? 0n) + BigInt(value);
  }
  for (const [key, sum] of drained.sums) {
    const s = section(key.name);
    s.bytes += BigInt(sum.bytes);
    s.count += BigInt(sum.count);
  }
  const sections = [...byName.values()];
  for (const s of sections) for (let i = 0; i < s.slots.length; i++) s.slots[i] ??= 0n;
  return sections.sort((a, b) => a.comm.localeCompare(b.comm, 'en', { numeric: true }));
}

/**
 * bcc's text. Run until Ctrl-C without -T, as bitesize.py prints: the sections only. With an
 * interval or -T, as libbpf-tools' bitesize prints each interval: a blank line, the time with
 * -T ("%-8s"), then the sections.
 */
export function formatInterval(interval: Interval, opts: { timestamp?: boolean; intervals?: boolean } = {}): string {
  let out = opts.intervals || opts.timestamp ? '\n' : '';
  if (opts.timestamp) out += `${clock(interval.time).padEnd(8)}\n`;
  out += formatLog2Sections(interval.sections.map((s) => ({ label: s.comm, slots: s.slots })), UNIT, {
    sectionHeader: 'Process Name', sectionPrint: (label) => String(label),
  });
  return out;
}

export interface BitesizeJson extends JsonHistogram {
  comm: string;
  /** The exact sum of the I/O sizes, in bytes. */
  bytes: Num;
  /** The number of I/Os (the histogram's total). */
  count: Num;
}

/** One object per process name: bcc's print_json_hist keys (ts, val_type, data), comm, bytes and count. */
export function jsonInterval(interval: Interval): BitesizeJson[] {
  return interval.sections.map((s) => ({
    ...histogramJson(s.slots, UNIT, 'log2', { ts: interval.time, sectionHeader: 'comm', sectionLabel: s.comm }),
    comm: s.comm,
    bytes: s.bytes,
    count: s.count,
  }));
}
