// bitesize's metrics: block I/O sizes as a Prometheus histogram per disk and operation, read from
// the disk_dist and disk_sums maps of tools/bitesize/bitesize.bpf.c at scrape time.
//
//   bpfkit_block_io_size_bytes{disk, op}     op: read, write, flush, discard, secure_erase, other
//
// The program's byte slots hold sizes up to 2^i bytes (slot = bpf_log2l(bytes - 1)), so le = 2^i
// is an exact bound (lib/metrics/exposition.ts log2BucketBounds) and a 4096-byte I/O counts in
// le="4096". _sum is the exact byte total, _count the I/Os. Labels are bounded: op has six values
// and at most --series-limit (disk, op) pairs are exported (the kernel's maps are sized for that
// many); there is no process label, the process names being unbounded.
import { isBpfError, type ArrayTable, type BPF, type HashTable } from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import { configureBitesize } from './program.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { DiskNames } from '../../lib/block/disks.ts';
import { ioDirection } from '../../lib/block/flags.ts';
import { SeriesBook, type Collector } from '../../lib/metrics/agent.ts';
import { log2BucketBounds, type HistogramFamily, type MetricFamily } from '../../lib/metrics/exposition.ts';

type Num = number | bigint;
interface DiskOp { dev: Num; op: Num; rwbs: string }
interface DiskSlot { group: DiskOp; slot: Num }
interface SizeSum { bytes: Num; count: Num }

const OP_NAMES: Record<string, string> = { R: 'read', W: 'write', F: 'flush', D: 'discard', E: 'secure_erase' };

/** The op label of a request: its operation as lib/block/flags.ts ioDirection reads it. */
export function opLabel(op: number, rwbs: string): string {
  return OP_NAMES[ioDirection(op, rwbs)] ?? 'other';
}

export interface DiskSeries {
  disk: string;
  op: string;
  slots: bigint[];
  bytes: bigint;
  count: bigint;
}

/** Map entries → one series per (disk, op) label pair, merged by label, sorted. */
export function diskSeries(dist: Array<[DiskSlot, Num]>, sums: Array<[DiskOp, SizeSum]>, diskName: (dev: number) => string): DiskSeries[] {
  const byLabels = new Map<string, DiskSeries>();
  const series = (g: DiskOp): DiskSeries => {
    const disk = diskName(Number(g.dev));
    const op = opLabel(Number(g.op), g.rwbs);
    const key = `${disk}\0${op}`;
    let s = byLabels.get(key);
    if (!s) byLabels.set(key, (s = { disk, op, slots: [], bytes: 0n, count: 0n }));
    return s;
  };
  for (const [k, v] of dist) {
    const s = series(k.group);
    const slot = Number(k.slot);
    s.slots[slot] = (s.slots[slot] ?? 0n) + BigInt(v);
  }
  for (const [g, v] of sums) {
    const s = series(g);
    s.bytes += BigInt(v.bytes);
    s.count += BigInt(v.count);
  }
  const all = [...byLabels.values()];
  for (const s of all) for (let i = 0; i < s.slots.length; i++) s.slots[i] ??= 0n;
  return all.sort((a, b) => a.disk.localeCompare(b.disk, 'en', { numeric: true }) || a.op.localeCompare(b.op));
}

export function bitesizeCollector(bpf: BPF, seriesLimit: number): Collector {
  const dist = bpf.table<HashTable<DiskSlot, bigint>>('disk_dist');
  const sums = bpf.table<HashTable<DiskOp, SizeSum>>('disk_sums');
  const misses = bpf.table<ArrayTable<bigint>>('misses');
  const disks = new DiskNames();
  const book = new SeriesBook(seriesLimit);
  return {
    tool: 'bitesize',
    collect(): MetricFamily[] {
      const family: HistogramFamily = {
        name: 'bpfkit_block_io_size_bytes',
        help: 'Block I/O size at issue, counted at completion, by disk and operation',
        type: 'histogram',
        series: [],
      };
      for (const s of diskSeries(dist.entries(), sums.entries(), (dev) => disks.name(dev))) {
        if (!book.admit(`${s.disk}\0${s.op}`)) continue;
        const { buckets, count } = log2BucketBounds(s.slots, 1);
        family.series.push({ labels: { disk: s.disk, op: s.op }, buckets, count, sum: Number(s.bytes) });
      }
      return [family];
    },
    lost: () => misses.get(1) ?? 0n,
    dropped: () => book.dropped,
  };
}

/** bitesize's program with the exporter's configuration: every disk and process, per-disk histograms only. */
export async function exporterMetrics(ctx: ToolContext<unknown>, seriesLimit: number): Promise<Collector> {
  const program = withPrerequisites(() => configureBitesize({ perComm: false, perDisk: true, seriesLimit }));
  const bpf = ctx.load({ ...program, autoAttach: false });
  ctx.attach(bpf, program);
  return bitesizeCollector(bpf, seriesLimit);
}

/** A kernel with no way to trace completions lacks a prerequisite of the exporter's (exit 2). */
function withPrerequisites<T>(configure: () => T): T {
  try {
    return configure();
  } catch (err) {
    if (isBpfError(err, 'NOT_SUPPORTED')) throw new MissingPrerequisite(`bitesize metrics: ${err.message}`);
    throw err;
  }
}
