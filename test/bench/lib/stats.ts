// Median and minimum of repeated measurements (nulls are failed runs, left out).
export interface Summary {
  median: number;
  min: number;
  n: number;
}

export function summarize(values: Array<number | null | undefined>): Summary | null {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = xs.length >> 1;
  const median = xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
  return { median, min: xs[0], n: xs.length };
}

/** `values` rotated by `by`: run r of an interleaved series starts with a different subject. */
export function rotate<T>(values: T[], by: number): T[] {
  if (values.length === 0) return values;
  const k = by % values.length;
  return [...values.slice(k), ...values.slice(0, k)];
}
