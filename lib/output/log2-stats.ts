// Numbers read back from a bcc-style log2 histogram (slot i holds [2^(i-1), 2^i - 1], slot 1
// holds 0 and 1): how many values it holds, the range their sum must lie in, and percentiles.
// A histogram keeps only the bucket of each value, so a percentile is interpolated inside its
// bucket, assuming values spread evenly there: exact to within the bucket's width.
import { log2Buckets, type Count } from 'bcc-node-bindings';

/** How many values the histogram holds. */
export function log2Count(slots: ArrayLike<Count>): bigint {
  let n = 0n;
  for (let i = 0; i < slots.length; i++) n += BigInt(slots[i]);
  return n;
}

/** The least and greatest sum the values in the histogram can have. */
export function log2SumBounds(slots: ArrayLike<Count>): { low: bigint; high: bigint } {
  let low = 0n;
  let high = 0n;
  for (const b of log2Buckets(slots)) {
    low += BigInt(b.low) * BigInt(b.count);
    high += BigInt(b.high) * BigInt(b.count);
  }
  return { low, high };
}

/** The q-th quantile (0 < q <= 1) of the values, or undefined for an empty histogram. */
export function log2Percentile(slots: ArrayLike<Count>, q: number): number | undefined {
  const total = Number(log2Count(slots));
  if (total === 0) return undefined;
  const rank = Math.max(q * total, Number.MIN_VALUE);
  let seen = 0;
  for (const b of log2Buckets(slots)) {
    const count = Number(b.count);
    if (count > 0 && seen + count >= rank) {
      // The bucket covers the whole numbers low..high, i.e. the interval [low, high + 1).
      const low = Number(b.low);
      return low + ((rank - seen) / count) * (Number(b.high) + 1 - low);
    }
    seen += count;
  }
  return undefined;
}

/** Adds histograms slot by slot (for a percentile over every disk or flag set). */
export function log2Merge(histograms: Array<ArrayLike<Count>>): bigint[] {
  const out: bigint[] = [];
  for (const slots of histograms) {
    for (let i = 0; i < slots.length; i++) out[i] = (out[i] ?? 0n) + BigInt(slots[i]);
  }
  for (let i = 0; i < out.length; i++) out[i] ??= 0n;
  return out;
}
