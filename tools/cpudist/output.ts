// What cpudist prints for one interval, from what it drained out of the kernel's maps. Text goes
// through the binding's printers (bcc's print_log2_hist, byte for byte) and JSON through its
// histogramJson. Kept apart from the tool so tests can feed it fixed buckets.
import fs from 'node:fs';
import { formatLog2Histogram, formatLog2Sections, histogramJson, type JsonHistogram } from 'bcc-node-bindings';
import { clock } from '../../lib/output/format.ts';
import type { Grouping } from './program.ts';

export const KIND_ON = 0;
export const KIND_OFF = 1;

/** One histogram: every slice of one process (-P), one thread (-L), or of all tasks. */
export interface Section {
  /** tgid (-P), tid (-L), 0 when not grouped. */
  group: number;
  slots: bigint[];
  /** The sum of the values in the histogram's unit, each truncated as bcc's -e sums them. */
  total: bigint;
  /** The exact sum of the slices, in nanoseconds. */
  totalNs: bigint;
  count: bigint;
}

export interface Interval {
  grouping: Grouping;
  unit: 'usecs' | 'msecs';
  offcpu: boolean;
  sections: Section[];
  /** When the interval ended. */
  time: Date;
}

export interface HistKey { group: number | bigint; kind: number | bigint; slot: number | bigint }
export interface ExtKey { group: number | bigint; kind: number | bigint }
export interface ExtValue { total: number | bigint; total_ns: number | bigint; count: number | bigint }

/** The kernel map entries of one interval, as the C program keys them. */
export interface Drained {
  dist: Array<[HistKey, number | bigint]>;
  ext?: Array<[ExtKey, ExtValue]>;
}

/** The sections of one kind (on- or off-CPU), ordered by PID or TID (bcc prints hash order). */
export function sectionsFrom(drained: Drained, kind: number): Section[] {
  const byGroup = new Map<number, Section>();
  const section = (group: number | bigint): Section => {
    const g = Number(group);
    let s = byGroup.get(g);
    if (!s) byGroup.set(g, (s = { group: g, slots: [], total: 0n, totalNs: 0n, count: 0n }));
    return s;
  };
  for (const [key, value] of drained.dist) {
    if (Number(key.kind) !== kind) continue;
    const s = section(key.group);
    const slot = Number(key.slot);
    s.slots[slot] = (s.slots[slot] ?? 0n) + BigInt(value);
  }
  for (const [key, e] of drained.ext ?? []) {
    if (Number(key.kind) !== kind) continue;
    const s = section(key.group);
    s.total += BigInt(e.total);
    s.totalNs += BigInt(e.total_ns);
    s.count += BigInt(e.count);
  }
  const sections = [...byGroup.values()];
  for (const s of sections) for (let i = 0; i < s.slots.length; i++) s.slots[i] ??= 0n;
  return sections.sort((a, b) => a.group - b.group);
}

/** bcc's first line: "Tracing on-CPU time... Hit Ctrl-C to end." */
export function headerLine(offcpu: boolean): string {
  return `Tracing ${offcpu ? 'off' : 'on'}-CPU time... Hit Ctrl-C to end.`;
}

/** The command of a process or thread now, with /proc's newline, or null once it has gone. */
export type CommOf = (id: number) => string | null;

export const procComm: CommOf = (id) => {
  try { return fs.readFileSync(`/proc/${id}/comm`, 'utf8'); } catch { return null; }
};

/**
 * bcc's section label: "PID COMM" from /proc at print time, or the bare number once the task has
 * gone. bcc keeps /proc's trailing newline, so a blank line follows "pid = 1234 spin": kept.
 */
export function sectionLabel(id: number, commOf: CommOf): string {
  const comm = commOf(id);
  return comm === null ? String(id) : `${id} ${comm}`;
}

/**
 * bcc's text for one interval: a blank line, the time with -T, the histogram(s), and with -e the
 * average over all of them ("avg = 663 usecs, total: 16575 usecs, count: 25").
 */
export function formatInterval(interval: Interval, opts: { timestamp?: boolean; extension?: boolean; commOf?: CommOf } = {}): string {
  let out = '\n';
  if (opts.timestamp) out += `${clock(interval.time).padEnd(8)}\n`;
  if (interval.grouping === 'none') {
    out += formatLog2Histogram(interval.sections[0]?.slots ?? [], interval.unit);
  } else {
    const commOf = opts.commOf ?? procComm;
    out += formatLog2Sections(interval.sections.map((s) => ({ label: s.group, slots: s.slots })), interval.unit, {
      sectionHeader: interval.grouping, sectionPrint: (label) => sectionLabel(Number(label), commOf),
    });
  }
  if (opts.extension) {
    const total = interval.sections.reduce((sum, s) => sum + s.total, 0n);
    const count = interval.sections.reduce((sum, s) => sum + s.count, 0n);
    if (count > 0n) out += `\navg = ${total / count} ${interval.unit}, total: ${total} ${interval.unit}, count: ${count}\n\n`;
  }
  return out;
}

export interface CpudistJson extends JsonHistogram {
  /** "on-CPU" or "off-CPU". */
  time: string;
  pid?: number;
  tid?: number;
  comm?: string;
  count: bigint;
  sum_ns: bigint;
  /** -e only: as in the text's "avg = …, total: …, count: …". */
  avg?: bigint;
  total?: bigint;
}

/**
 * One object per histogram: bcc's print_json_hist dict {ts, val_type, data: [{interval-start,
 * interval-end, count}…]}, the PID or TID and its command when grouped, and the count and exact
 * sum of the slices. Ungrouped, one object is printed even when empty.
 */
export function jsonInterval(interval: Interval, opts: { extension?: boolean; commOf?: CommOf } = {}): CpudistJson[] {
  const sections = interval.grouping === 'none' && interval.sections.length === 0
    ? [{ group: 0, slots: [], total: 0n, totalNs: 0n, count: 0n }]
    : interval.sections;
  const commOf = opts.commOf ?? procComm;
  return sections.map((s) => {
    const obj = histogramJson(s.slots, interval.unit, 'log2', { ts: interval.time }) as CpudistJson;
    obj.time = interval.offcpu ? 'off-CPU' : 'on-CPU';
    if (interval.grouping !== 'none') {
      obj[interval.grouping] = s.group;
      const comm = commOf(s.group);
      if (comm !== null) obj.comm = comm.replace(/\n$/, '');
    }
    obj.count = s.count;
    obj.sum_ns = s.totalNs;
    if (opts.extension) {
      obj.avg = s.count > 0n ? s.total / s.count : 0n;
      obj.total = s.total;
    }
    return obj;
  });
}
