// syscount's numbers between the maps and the screen: per-interval rows from the kernel's running
// totals, ordering, and bcc's exact text layout ("%-22s %8s" and friends), plus the --json shape.
// Kept apart from syscount.ts so the formats can be tested without a kernel.
import { left, right } from '../../lib/output/format.ts';

/** One line of an interval: a syscall (key = its number) or a process (key = its PID). */
export interface Row {
  key: number;
  count: number;
  /** Nanoseconds spent in the counted calls (with -L). */
  totalNs: number;
  /** Process name (by process only). */
  comm?: string;
}

export interface ReportOptions {
  byProcess: boolean;
  latency: boolean;
  milliseconds: boolean;
  top: number;
}

/** bcc's order: most calls first, or most time with -L; ties by key so output is stable. */
export function topRows(rows: Row[], opts: Pick<ReportOptions, 'latency' | 'top'>): Row[] {
  const sorted = [...rows].sort((a, b) =>
    (opts.latency ? b.totalNs - a.totalNs : b.count - a.count) || b.count - a.count || a.key - b.key);
  return sorted.slice(0, opts.top);
}

/** The column header line, exactly as bcc's syscount prints it. */
export function headerLine(opts: Pick<ReportOptions, 'byProcess' | 'latency' | 'milliseconds'>): string {
  const first = left(opts.byProcess ? 'PID    COMM' : 'SYSCALL', 22);
  const time = opts.latency ? ` ${right(opts.milliseconds ? 'TIME (ms)' : 'TIME (us)', 16)}` : '';
  return `${first} ${right('COUNT', 8)}${time}`;
}

/** One row: "%-22s %8d" (by process "%-6d %-15s" for the first column), then "%16.3f" µs or "%16.6f" ms. */
export function rowLine(row: Row, opts: Pick<ReportOptions, 'byProcess' | 'latency' | 'milliseconds'>, syscallName: (nr: number) => string): string {
  const first = opts.byProcess ? `${left(row.key, 6)} ${left(row.comm ?? '[unknown]', 15)}` : syscallName(row.key);
  const time = opts.latency ? ` ${right(formatTime(row.totalNs, opts.milliseconds), 16)}` : '';
  return `${left(first, 22)} ${right(row.count, 8)}${time}`;
}

export function formatTime(ns: number, milliseconds: boolean): string {
  return milliseconds ? (ns / 1e6).toFixed(6) : (ns / 1e3).toFixed(3);
}

/** A whole interval as bcc prints it: "[HH:MM:SS]", the header, the rows, a blank line. */
export function intervalText(clock: string, rows: Row[], opts: ReportOptions, syscallName: (nr: number) => string): string[] {
  return [`[${clock}]`, headerLine(opts), ...topRows(rows, opts).map((r) => rowLine(r, opts, syscallName)), ''];
}

/**
 * An interval for --json. Fields (stable):
 *   time        "HH:MM:SS", as the text header
 *   interval_s  seconds the interval covered
 *   rows        the same rows as the text (sorted, --top applied), each
 *                 by syscall: { syscall: name, id: number, count, total_ns (with -L) }
 *                 by process: { pid, comm, count, total_ns (with -L) }
 *   lost        calls that could not be counted (only when there were some)
 */
export function intervalJson(clock: string, seconds: number, rows: Row[], opts: ReportOptions,
  syscallName: (nr: number) => string, lost = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {
    time: clock,
    interval_s: Math.round(seconds * 1000) / 1000,
    rows: topRows(rows, opts).map((r) => {
      const who = opts.byProcess ? { pid: r.key, comm: r.comm ?? '[unknown]' } : { syscall: syscallName(r.key), id: r.key };
      return opts.latency ? { ...who, count: r.count, total_ns: r.totalNs } : { ...who, count: r.count };
    }),
  };
  if (lost > 0) out.lost = lost;
  return out;
}

/**
 * Turns running totals (what the kernel's per-CPU array holds, never cleared) into what happened
 * since the previous read.
 */
export class IntervalDeltas {
  private previous = new Map<number, { count: number; totalNs: number }>();

  delta(current: Map<number, { count: number; totalNs: number }>): Row[] {
    const rows: Row[] = [];
    for (const [key, now] of current) {
      const before = this.previous.get(key) ?? { count: 0, totalNs: 0 };
      const count = now.count - before.count;
      if (count > 0) rows.push({ key, count, totalNs: now.totalNs - before.totalNs });
    }
    this.previous = current;
    return rows;
  }
}

/** bcc's -l layout: sorted names, four to a line, each "%-22s", joined by three spaces. */
export function listColumns(names: string[]): string[] {
  const sorted = [...names].sort();
  const lines: string[] = [];
  for (let i = 0; i < sorted.length; i += 4) lines.push(sorted.slice(i, i + 4).map((n) => left(n, 22)).join('   '));
  return lines;
}
