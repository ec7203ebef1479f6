/**
 * Histogram printers that reproduce bcc's Python output byte for byte
 * (bcc/table.py: _stars, _print_log2_hist, _print_linear_hist,
 * _print_json_hist and the TableBase.print_*_hist section wrappers), so our
 * tools' output can be diffed against the Python tools'.
 *
 * Counts may be number or bigint; all arithmetic is done in bigint because
 * BPF counters are u64. Values handed back to callers (bucket bounds, counts,
 * JSON fields) are numbers when they are safe integers and bigints otherwise,
 * so the common case stays JSON.stringify-able and nothing is silently rounded.
 */

export type Count = number | bigint;
export type SectionLabel = string | number | bigint;

export interface HistogramBucket {
  low: number | bigint;
  high: number | bigint;
  count: number | bigint;
}

export interface HistogramOptions {
  /** bcc's strip_leading_zero: omit zero rows before the first non-zero one. */
  stripLeadingZero?: boolean;
}

export interface HistogramSection {
  label: SectionLabel;
  slots: ArrayLike<Count>;
}

export interface SectionOptions extends HistogramOptions {
  /** bcc's section_header; defaults to bcc's "Bucket ptr". */
  sectionHeader?: string;
  /**
   * bcc's section_print_fn. Without it the label is shown as Python's repr()
   * would show it, as bcc does ('sda' with quotes, integers bare).
   */
  sectionPrint?: (label: SectionLabel) => string;
}

export interface JsonInterval {
  'interval-start': number | bigint;
  'interval-end': number | bigint;
  count: number | bigint;
}

export interface JsonHistogram {
  ts: string;
  val_type: string;
  data: JsonInterval[];
  /** The section key, when a section label was given. */
  [sectionHeader: string]: unknown;
}

export interface JsonHistogramOptions {
  /** Defaults to the local time now, formatted like bcc's strftime("%Y-%m-%d %H:%M:%S"). */
  ts?: string | Date;
  /** Adds `[sectionHeader]: sectionLabel`, as TableBase.print_json_hist does for struct keys. */
  sectionLabel?: SectionLabel;
  /** Defaults to bcc's "Bucket ptr". Pass the section_print_fn result as sectionLabel. */
  sectionHeader?: string;
}

const STARS_MAX = 40;
const DEFAULT_SECTION_HEADER = 'Bucket ptr';

/**
 * bcc's _stars. bcc computes `width * val / val_max` as a double and draws
 * floor() of it, so a ratio just under a whole number that rounds up to it
 * gets the extra star (40 * 2^60 / (2^60 + 1) draws 40). Exact bigint
 * division would draw one fewer; we reproduce the double rounding exactly.
 * The '+' marks val > val_max; bcc's printers never trigger it because they
 * scale by the largest slot, but _stars has it, so we do too.
 */
export function stars(val: Count, valMax: Count, width: number): string {
  const v = BigInt(val);
  const max = BigInt(valMax);
  const text = '*'.repeat(starCount(v, max, width));
  return v > max ? text.slice(0, -1) + '+' : text;
}

function starCount(val: bigint, valMax: bigint, width: number): number {
  if (val <= 0n || width <= 0) return 0;
  if (val >= valMax) return width;
  const num = BigInt(width) * val;
  const whole = num / valMax; // < width here
  // Doubles just below k = whole + 1 are 2^(e-52) apart, with 2^e <= k-1 < 2^(e+1)
  // (e = -1 for k = 1). The true ratio k - gap/valMax rounds to k when it lies
  // within half a spacing of it; ties go to k, whose mantissa is even.
  const e = (whole === 0n ? 0 : whole.toString(2).length) - 1;
  const gap = valMax - (num % valMax);
  const roundsUp = gap << BigInt(53 - e) <= valMax;
  return Number(whole) + (roundsUp ? 1 : 0);
}

interface Row {
  low: bigint;
  high: bigint;
  count: bigint;
}

interface Layout {
  rows: Row[];
  /** Index of the last positive slot, -1 if none. */
  idxMax: number;
  /** Largest slot, including slots that are never printed (log2 slot 0). */
  valMax: bigint;
}

function layout(
  slots: ArrayLike<Count>,
  first: number,
  bounds: (i: number) => [bigint, bigint],
  strip: boolean | undefined,
): Layout {
  const vals = Array.from(slots, (v) => BigInt(v));
  let idxMax = -1;
  let valMax = 0n;
  vals.forEach((v, i) => {
    if (v > 0n) idxMax = i;
    if (v > valMax) valMax = v;
  });
  const rows: Row[] = [];
  let skipping = Boolean(strip);
  for (let i = first; i <= idxMax; i++) {
    if (skipping && vals[i] === 0n) continue;
    skipping = false;
    const [low, high] = bounds(i);
    rows.push({ low, high, count: vals[i] });
  }
  return { rows, idxMax, valMax };
}

// bpf_log2l() maps 0 and 1 both to slot 1 and never writes slot 0, so slot 0
// is skipped and slot 1, nominally [1, 1], is labelled "0 -> 1".
function log2Bounds(i: number): [bigint, bigint] {
  const high = (1n << BigInt(i)) - 1n;
  const low = (1n << BigInt(i)) >> 1n;
  return [low === high ? low - 1n : low, high];
}

const linearBounds = (i: number): [bigint, bigint] => [BigInt(i), BigInt(i)];

const log2Layout = (slots: ArrayLike<Count>, strip?: boolean) => layout(slots, 1, log2Bounds, strip);
const linearLayout = (slots: ArrayLike<Count>, strip?: boolean) => layout(slots, 0, linearBounds, strip);

function toPublic(x: bigint): number | bigint {
  return x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x;
}

const publicRows = (rows: Row[]): HistogramBucket[] =>
  rows.map((r) => ({ low: toPublic(r.low), high: toPublic(r.high), count: toPublic(r.count) }));

/** The rows formatLog2Histogram prints, as data. */
export function log2Buckets(slots: ArrayLike<Count>, opts: HistogramOptions = {}): HistogramBucket[] {
  return publicRows(log2Layout(slots, opts.stripLeadingZero).rows);
}

/** The rows formatLinearHistogram prints, as data (low === high === slot index). */
export function linearBuckets(slots: ArrayLike<Count>, opts: HistogramOptions = {}): HistogramBucket[] {
  return publicRows(linearLayout(slots, opts.stripLeadingZero).rows);
}

// Python's %-Ns / %Nd pad by code points and never truncate.
const ljust = (s: string | bigint, w: number) => {
  const str = String(s);
  return str + ' '.repeat(Math.max(0, w - Array.from(str).length));
};
const rjust = (s: bigint, w: number) => String(s).padStart(w);

/**
 * bcc's _print_log2_hist. Prints nothing (not even the header) unless a slot
 * above 0 is positive. Once that slot is above 32 the bounds no longer fit in
 * 10 columns, and bcc switches to 20-column bounds with half-width stars.
 */
export function formatLog2Histogram(slots: ArrayLike<Count>, valType: string, opts: HistogramOptions = {}): string {
  const { rows, idxMax, valMax } = log2Layout(slots, opts.stripLeadingZero);
  if (idxMax <= 0) return '';
  const wide = idxMax > 32;
  const [col, width] = wide ? [20, STARS_MAX / 2] : [10, STARS_MAX];
  const header = wide
    ? `${' '.repeat(15)}${ljust(valType, 29)} : count     distribution\n`
    : `${' '.repeat(5)}${ljust(valType, 19)} : count     distribution\n`;
  return header + rows
    .map((r) => `${rjust(r.low, col)} -> ${ljust(r.high, col)} : ${ljust(r.count, 8)} |${ljust(stars(r.count, valMax, width), width)}|\n`)
    .join('');
}

/** bcc's _print_linear_hist. Unlike log2, slot 0 is a real value and is printed. */
export function formatLinearHistogram(slots: ArrayLike<Count>, valType: string, opts: HistogramOptions = {}): string {
  const { rows, idxMax, valMax } = linearLayout(slots, opts.stripLeadingZero);
  if (idxMax < 0) return '';
  const header = `${' '.repeat(5)}${ljust(valType, 13)} : count     distribution\n`;
  return header + rows
    .map((r) => `${' '.repeat(8)}${ljust(r.low, 10)} : ${ljust(r.count, 8)} |${ljust(stars(r.count, valMax, STARS_MAX), STARS_MAX)}|\n`)
    .join('');
}

/**
 * TableBase.print_log2_hist for a struct-keyed table: per section a blank
 * line, "<header> = <label>", then the histogram (which may be empty, leaving
 * a bare header line). Sections print in the order given: bcc uses the order
 * the keys came out of the BPF map (i.e. unordered) unless bucket_sort_fn is
 * passed, so callers that want bcc's sorted output sort before calling.
 */
export function formatLog2Sections(sections: HistogramSection[], valType: string, opts: SectionOptions = {}): string {
  return formatSections(sections, opts, (slots) => formatLog2Histogram(slots, valType, opts));
}

/** TableBase.print_linear_hist for a struct-keyed table; see formatLog2Sections. */
export function formatLinearSections(sections: HistogramSection[], valType: string, opts: SectionOptions = {}): string {
  return formatSections(sections, opts, (slots) => formatLinearHistogram(slots, valType, opts));
}

function formatSections(
  sections: HistogramSection[],
  opts: SectionOptions,
  print: (slots: ArrayLike<Count>) => string,
): string {
  const header = opts.sectionHeader ?? DEFAULT_SECTION_HEADER;
  const label = opts.sectionPrint ?? pyRepr;
  return sections.map((s) => `\n${header} = ${label(s.label)}\n${print(s.slots)}`).join('');
}

/**
 * The dict bcc's _print_json_hist builds. For 'log2' this is bcc's layout:
 * slot 0 dropped, slot i as [2^(i-1), 2^i - 1] (slot 1 as [0, 1]), every slot
 * up to the last non-zero one. bcc has no linear JSON; for 'linear' we emit
 * one [i, i] interval per slot from 0 to the last non-zero one.
 */
export function histogramJson(
  slots: ArrayLike<Count>,
  valType: string,
  kind: 'log2' | 'linear',
  opts: JsonHistogramOptions = {},
): JsonHistogram {
  return Object.fromEntries(jsonEntries(slots, valType, kind, opts)) as JsonHistogram;
}

/**
 * What bcc prints for a JSON histogram: Python's repr of the dict (single
 * quotes, so not actually JSON), newline-terminated.
 */
export function formatJsonHistogram(
  slots: ArrayLike<Count>,
  valType: string,
  kind: 'log2' | 'linear' = 'log2',
  opts: JsonHistogramOptions = {},
): string {
  return pyRepr(jsonEntries(slots, valType, kind, opts)) + '\n';
}

// A Map keeps Python dict semantics: insertion order, and a section header
// equal to an existing key overwrites it in place. A plain object would hoist
// integer-like keys to the front.
function jsonEntries(
  slots: ArrayLike<Count>,
  valType: string,
  kind: 'log2' | 'linear',
  opts: JsonHistogramOptions,
): Map<string, unknown> {
  const vals = Array.from(slots, (v) => BigInt(v));
  // bcc tests `!= 0` here, not `> 0` as the text printers do.
  let last = -1;
  vals.forEach((v, i) => {
    if (v !== 0n) last = i;
  });
  const data: JsonInterval[] = [];
  for (let i = kind === 'log2' ? 1 : 0; i <= last; i++) {
    const [start, end] = kind === 'log2' ? log2Bounds(i) : linearBounds(i);
    data.push({ 'interval-start': toPublic(start), 'interval-end': toPublic(end), count: toPublic(vals[i]) });
  }
  const ts = typeof opts.ts === 'string' ? opts.ts : strftime(opts.ts ?? new Date());
  const out = new Map<string, unknown>([['ts', ts], ['val_type', valType], ['data', data]]);
  if (opts.sectionLabel !== undefined) out.set(opts.sectionHeader ?? DEFAULT_SECTION_HEADER, opts.sectionLabel);
  return out;
}

function strftime(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getFullYear(), 4)}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Python's repr() for the shapes bcc prints: str, int, list, dict. */
function pyRepr(v: unknown): string {
  if (typeof v === 'string') return pyStr(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v).toString() : String(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  const entries = v instanceof Map ? [...v] : Object.entries(v as object);
  return `{${entries.map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(', ')}}`;
}

// Python prefers single quotes, switching to double only when that avoids
// escaping; characters str.isprintable() rejects are hex-escaped.
function pyStr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  const named: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', [q]: '\\' + q };
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (named[ch]) out += named[ch];
    else if (ch !== ' ' && /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Z}]/u.test(ch)) out += hexEscape(cp);
    else out += ch;
  }
  return q + out + q;
}

function hexEscape(cp: number): string {
  const hex = (prefix: string, digits: number) => prefix + cp.toString(16).padStart(digits, '0');
  return cp <= 0xff ? hex('\\x', 2) : cp <= 0xffff ? hex('\\u', 4) : hex('\\U', 8);
}
