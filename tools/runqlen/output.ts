// What runqlen prints for one interval, from two readings of the kernel's per-CPU histogram.
// Text goes through the binding's printers (bcc's print_linear_hist, byte for byte), occupancy
// as bcc's "%6.2f" lines; JSON is bcc's print_json_hist dict (linear) with the CPU and the
// occupancy added. Kept apart from the tool so tests can feed fixed counts.
import { formatLinearHistogram, formatLinearSections, histogramJson, type JsonHistogram } from 'bcc-node-bindings';
import { clock } from '../../lib/output/format.ts';

/** counts[cpu][len]: samples of that CPU that saw `len` tasks waiting (cumulative, as the map keeps them). */
export type Counts = bigint[][];

/** The per-CPU array `dist` as PerCpuTable.entries() returns it: slot → one value per possible CPU. */
export function countsFrom(entries: Array<[number | bigint, Array<number | bigint>]>, cpus: number, slots: number): Counts {
  const counts: Counts = Array.from({ length: cpus }, () => new Array<bigint>(slots).fill(0n));
  for (const [slot, perCpu] of entries) {
    perCpu.forEach((v, cpu) => { if (cpu < cpus) counts[cpu][Number(slot)] = BigInt(v); });
  }
  return counts;
}

/** What happened between two readings (the map is never cleared, so nothing is lost in between). */
export function countsSince(now: Counts, before: Counts | undefined): Counts {
  return now.map((slots, cpu) => slots.map((v, len) => v - (before?.[cpu]?.[len] ?? 0n)));
}

export interface Interval {
  counts: Counts;
  /** When the interval ended. */
  time: Date;
}

export interface PrintOptions { timestamp?: boolean; cpus?: boolean; runqocc?: boolean }

const total = (slots: readonly bigint[]) => slots.reduce((a, b) => a + b, 0n);

/** Every CPU's samples added together (bcc's default, one histogram). */
export function merged(counts: Counts): bigint[] {
  const out = new Array<bigint>(Math.max(0, ...counts.map((s) => s.length))).fill(0n);
  for (const slots of counts) slots.forEach((v, len) => { out[len] += v; });
  return out;
}

/** Samples that saw a queue (length above 0), and all samples. */
export function occupancy(slots: readonly bigint[]): { queued: bigint; samples: bigint } {
  const samples = total(slots);
  return { queued: samples - (slots[0] ?? 0n), samples };
}

/** bcc's runqocc in percent: float(queued) / samples, then × 100, both as doubles (0 without samples). */
export function occupancyPercent(slots: readonly bigint[]): number {
  const { queued, samples } = occupancy(slots);
  return samples > 0n ? 100 * (Number(queued) / Number(samples)) : 0;
}

/** Python's "%.2f": the double's exact value, ties to even (toFixed takes ties up). */
export function pyFixed2(x: number): string {
  const scaled = x * 100;
  if (Number.isInteger(scaled * 2) && !Number.isInteger(scaled)) {
    const down = Math.floor(scaled);
    return ((down % 2 === 0 ? down : down + 1) / 100).toFixed(2);
  }
  return x.toFixed(2);
}

/** The highest CPU that was sampled, -1 if none (bcc prints occupancy for CPUs 0 up to it). */
function lastSampledCpu(counts: Counts): number {
  let last = -1;
  counts.forEach((slots, cpu) => { if (total(slots) > 0n) last = cpu; });
  return last;
}

/** bcc's text for one interval: a blank line, the time with -T, then the histogram(s) or occupancy. */
export function formatInterval(interval: Interval, opts: PrintOptions = {}): string {
  let out = '\n';
  if (opts.timestamp) out += `${clock(interval.time).padEnd(8)}\n`;
  const { counts } = interval;
  if (opts.runqocc && opts.cpus) {
    for (let cpu = 0; cpu <= lastSampledCpu(counts); cpu++) {
      out += `runqocc, CPU ${String(cpu).padEnd(3)} ${pyFixed2(occupancyPercent(counts[cpu])).padStart(6)}%\n`;
    }
  } else if (opts.runqocc) {
    out += `runqocc: ${pyFixed2(occupancyPercent(merged(counts)))}%\n`;
  } else if (opts.cpus) {
    const sections = counts.map((slots, cpu) => ({ label: cpu, slots })).filter((s) => total(s.slots) > 0n);
    out += formatLinearSections(sections, 'runqlen', { sectionHeader: 'cpu', sectionPrint: String });
  } else {
    out += formatLinearHistogram(merged(counts), 'runqlen');
  }
  return out;
}

export interface RunqlenJson extends JsonHistogram {
  /** -C: the CPU; absent for the histogram of all CPUs. */
  cpu?: number;
  /** Samples taken, and those that saw at least one task waiting. */
  samples: number | bigint;
  queued: number | bigint;
  /** queued / samples in percent, as -O prints it (0 without samples). */
  runqocc: number;
}

const exact = (v: bigint) => (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);

/** One object per interval, or with -C one per CPU that was sampled. */
export function jsonInterval(interval: Interval, opts: { cpus?: boolean } = {}): RunqlenJson[] {
  const one = (slots: bigint[], cpu?: number): RunqlenJson => {
    const hist = cpu === undefined
      ? histogramJson(slots, 'runqlen', 'linear', { ts: interval.time })
      : histogramJson(slots, 'runqlen', 'linear', { ts: interval.time, sectionHeader: 'cpu', sectionLabel: cpu });
    const { queued, samples } = occupancy(slots);
    return { ...hist, samples: exact(samples), queued: exact(queued), runqocc: occupancyPercent(slots) };
  };
  if (!opts.cpus) return [one(merged(interval.counts))];
  return interval.counts.flatMap((slots, cpu) => (total(slots) > 0n ? [one(slots, cpu)] : []));
}

/** Mean queue length of the samples (the last slot counts as its own length), 0 without samples. */
export function meanLength(slots: readonly bigint[]): number {
  const samples = total(slots);
  if (samples === 0n) return 0;
  const sum = slots.reduce((acc, v, len) => acc + v * BigInt(len), 0n);
  return Number(sum) / Number(samples);
}
