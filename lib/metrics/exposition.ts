// The Prometheus text exposition format (0.0.4) and OpenMetrics 1.0, written by hand.
//
// Why not prom-client: its histograms only accept observations one by one, while ours arrive
// already bucketed from a kernel map (a log2 histogram of counts), and its counters cannot be set
// to a value read at scrape time without reset-and-increment tricks that break monotonicity for
// concurrent scrapes. The format is small and specified; the tests check our output against
// `promtool check metrics` from the Prometheus package.

export type Labels = Record<string, string>;

export interface ScalarFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: Array<{ labels: Labels; value: number | bigint }>;
}

export interface HistogramSeries {
  labels: Labels;
  /** Cumulative counts at each upper bound, in increasing order (without +Inf). */
  buckets: Array<{ le: number; count: number | bigint }>;
  count: number | bigint;
  sum: number;
}

export interface HistogramFamily {
  name: string;
  help: string;
  type: 'histogram';
  series: HistogramSeries[];
}

export type MetricFamily = ScalarFamily | HistogramFamily;

export type ExpositionFormat = 'prometheus' | 'openmetrics';

export const CONTENT_TYPE: Record<ExpositionFormat, string> = {
  prometheus: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

/** OpenMetrics when the scraper lists it in Accept (Prometheus does when it can parse it). */
export function negotiate(accept: string | undefined): ExpositionFormat {
  return accept && /application\/openmetrics-text/.test(accept) ? 'openmetrics' : 'prometheus';
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels);
  if (extra) pairs.push(extra);
  if (pairs.length === 0) return '';
  for (const [k] of pairs) if (!LABEL.test(k) || k.startsWith('__')) throw new Error(`bad label name ${k}`);
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

function number(value: number | bigint): string {
  if (typeof value === 'bigint') return value.toString();
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

export function render(families: MetricFamily[], format: ExpositionFormat): string {
  const out: string[] = [];
  for (const f of families) {
    if (!NAME.test(f.name)) throw new Error(`bad metric name ${f.name}`);
    // OpenMetrics names a counter family without its _total suffix; the samples keep it.
    const family = format === 'openmetrics' && f.type === 'counter' ? f.name.replace(/_total$/, '') : f.name;
    out.push(`# HELP ${family} ${escapeHelp(f.help)}`, `# TYPE ${family} ${f.type}`);
    if (f.type === 'histogram') {
      for (const s of f.series) {
        for (const b of s.buckets) out.push(`${f.name}_bucket${labelText(s.labels, ['le', number(b.le)])} ${number(b.count)}`);
        out.push(`${f.name}_bucket${labelText(s.labels, ['le', '+Inf'])} ${number(s.count)}`);
        out.push(`${f.name}_sum${labelText(s.labels)} ${number(s.sum)}`, `${f.name}_count${labelText(s.labels)} ${number(s.count)}`);
      }
    } else {
      const sampleName = f.type === 'counter' && !f.name.endsWith('_total') ? `${f.name}_total` : f.name;
      for (const s of f.samples) out.push(`${sampleName}${labelText(s.labels)} ${number(s.value)}`);
    }
  }
  if (format === 'openmetrics') out.push('# EOF');
  return `${out.join('\n')}\n`;
}

/**
 * Log2 slots as cumulative buckets. Slot i (i >= 1) counts values v with 2^(i-1) <= v < 2^i in
 * the histogram's unit (bcc's bpf_log2l, whose slot 1 also takes 0), so every value in slots 1..i
 * is below 2^i units: le = 2^i * unitSeconds is an exact upper bound.
 */
export function log2BucketBounds(slots: ArrayLike<number | bigint>, unitSeconds: number): { buckets: HistogramSeries['buckets']; count: bigint } {
  let last = 0;
  for (let i = 0; i < slots.length; i++) if (BigInt(slots[i] ?? 0) > 0n) last = i;
  const buckets: HistogramSeries['buckets'] = [];
  let cumulative = 0n;
  for (let i = 0; i < slots.length; i++) {
    cumulative += BigInt(slots[i] ?? 0);
    if (i >= 1 && i <= Math.max(last, 1)) buckets.push({ le: 2 ** i * unitSeconds, count: cumulative });
  }
  return { buckets, count: cumulative };
}
