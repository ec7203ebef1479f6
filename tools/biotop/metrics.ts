// biotop's metrics: block I/Os, bytes and latency by disk and direction, and I/Os and bytes by
// command, read from the `counts` map of tools/biotop/biotop.bpf.c at scrape time.
//
//   bpfkit_block_ios_total{disk,direction}                 direction "read" or "write" (bcc's D:
//   bpfkit_block_io_bytes_total{disk,direction}            everything not a write is "read")
//   bpfkit_block_io_latency_seconds_total{disk,direction}  issue → completion, summed exactly
//   bpfkit_block_command_ios_total{comm,direction}         at most TOP_COMMANDS commands, the
//   bpfkit_block_command_io_bytes_total{comm,direction}    rest in comm="[other]"
//
// Label sets are bounded: disks × 2 directions (each disk one series-limit unit), and commands by
// TOP_COMMANDS (capped by the series limit). A command is admitted the first time it is among the
// busiest not yet admitted at a scrape, and stays: a literal top-N per scrape would move a
// command's total in and out of "[other]", and counters would go down. What "[other]" already
// exported of a command admitted later stays there, so every counter only grows and the command
// series add up, with "[other]", to the disk series.
//
// Alone (--metrics, the exporter) the program keys rows by command, not PID (KEY_BY_PID 0): the
// map is never drained and would otherwise fill with every short-lived process. With
// --metrics-and-print the output drains the map each interval; the drained rows are absorbed first.
import { isBpfError, type ArrayTable, type BPF, type HashTable } from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import type { ToolProgram } from '../../lib/run/program.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { DiskNames } from '../../lib/block/disks.ts';
import { SeriesBook, counterFamily, type Collector } from '../../lib/metrics/agent.ts';
import type { Labels, MetricFamily } from '../../lib/metrics/exposition.ts';
import { configureBiotop } from './program.ts';
import { toRows, type CountKey, type CountValue, type Row } from './rows.ts';

/** Commands exported by name; the others are summed in OTHER. */
export const TOP_COMMANDS = 20;
export const OTHER = '[other]';

interface Sums { io: bigint; bytes: bigint; ns: bigint }
const ZERO: Sums = { io: 0n, bytes: 0n, ns: 0n };
const add = (a: Sums, b: Sums): Sums => ({ io: a.io + b.io, bytes: a.bytes + b.bytes, ns: a.ns + b.ns });
const direction = (r: Row) => (r.direction === 'W' ? 'write' : 'read');

export interface BiotopMetrics extends Collector {
  /** The tool's interval output drained these rows: keep them in the totals. */
  absorb(rows: Row[]): void;
}

/** Joins label values into one map key: NUL is the one byte a command name cannot hold. */
const SEP = '\0';

/**
 * Which commands are exported by name: at most `limit`, admitted for good, busiest first. What a
 * command had already put into an exported OTHER (its totals at the scrape before its admission)
 * stays there; the rest is its own.
 */
export class CommandBook {
  private readonly base = new Map<string, Sums>(); // `${comm}${SEP}${direction}` → left in OTHER
  private readonly admitted = new Set<string>();
  private inOther = new Map<string, Sums>(); // unadmitted commands' totals at the last scrape

  constructor(readonly limit: number) {}

  /** `totals`: every command's totals now, keyed `${comm}${SEP}${direction}`. */
  split(totals: Map<string, Sums>): { named: Array<[comm: string, dir: string, sums: Sums]>; other: Map<string, Sums> } {
    const byComm = new Map<string, bigint>();
    for (const [key, s] of totals) {
      const comm = key.split(SEP)[0];
      byComm.set(comm, (byComm.get(comm) ?? 0n) + s.bytes);
    }
    // Busiest first; ties by name, so that the same data admits the same commands.
    const candidates = [...byComm].filter(([c]) => !this.admitted.has(c))
      .sort(([a, x], [b, y]) => (x > y ? -1 : x < y ? 1 : a < b ? -1 : a > b ? 1 : 0));
    for (const [comm] of candidates.slice(0, Math.max(0, this.limit - this.admitted.size))) {
      this.admitted.add(comm);
      for (const dir of ['read', 'write']) this.base.set(`${comm}${SEP}${dir}`, this.inOther.get(`${comm}${SEP}${dir}`) ?? ZERO);
    }
    const named: Array<[string, string, Sums]> = [];
    const other = new Map<string, Sums>([['read', ZERO], ['write', ZERO]]);
    const inOther = new Map<string, Sums>();
    for (const [key, s] of totals) {
      const [comm, dir] = key.split(SEP);
      const base = this.admitted.has(comm) ? this.base.get(key) ?? ZERO : undefined;
      if (base) {
        named.push([comm, dir, { io: s.io - base.io, bytes: s.bytes - base.bytes, ns: s.ns - base.ns }]);
        other.set(dir, add(other.get(dir)!, base));
      } else {
        other.set(dir, add(other.get(dir)!, s));
        inOther.set(key, s);
      }
    }
    this.inOther = inOther;
    return { named, other };
  }
}

export function biotopCollector(bpf: BPF, seriesLimit: number): BiotopMetrics {
  const counts = bpf.table<HashTable<CountKey, CountValue>>('counts');
  const dropped = bpf.table<ArrayTable<bigint>>('dropped');
  const disks = new DiskNames();
  const book = new SeriesBook(seriesLimit);
  const commands = new CommandBook(Math.min(TOP_COMMANDS, seriesLimit));
  // Drained rows, summed without the PID: memory grows with commands and disks, not processes.
  const drainedByDisk = new Map<string, Sums>();
  const drainedByComm = new Map<string, Sums>();
  const sumInto = (map: Map<string, Sums>, key: string, r: Row) =>
    map.set(key, add(map.get(key) ?? ZERO, { io: r.io, bytes: r.bytes, ns: r.latencyNs }));
  const diskKey = (r: Row) => `${r.disk}${SEP}${direction(r)}`;
  const commKey = (r: Row) => `${r.comm}${SEP}${direction(r)}`;

  return {
    tool: 'biotop',
    absorb(rows) {
      for (const r of rows) {
        sumInto(drainedByDisk, diskKey(r), r);
        sumInto(drainedByComm, commKey(r), r);
      }
    },
    collect(): MetricFamily[] {
      const byDisk = new Map(drainedByDisk);
      const byComm = new Map(drainedByComm);
      for (const r of toRows(counts.entries(), (dev) => disks.name(dev))) {
        sumInto(byDisk, diskKey(r), r);
        sumInto(byComm, commKey(r), r);
      }
      const ios = counterFamily('bpfkit_block_ios_total', 'Block I/Os completed, by disk and direction (read: everything not a write)', []);
      const bytes = counterFamily('bpfkit_block_io_bytes_total', 'Bytes of completed block I/O, by disk and direction', []);
      const latency = counterFamily('bpfkit_block_io_latency_seconds_total', 'Block I/O time from issue to completion, summed, by disk and direction', []);
      for (const [key, s] of [...byDisk].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const [disk, dir] = key.split(SEP);
        if (!book.admit(`disk|${disk}`)) continue;
        const labels: Labels = { disk, direction: dir };
        ios.samples.push({ labels, value: book.monotonic(`io|${key}`, s.io) });
        bytes.samples.push({ labels, value: book.monotonic(`b|${key}`, s.bytes) });
        // Exact nanoseconds, exported as seconds: the clamp works on the integer.
        latency.samples.push({ labels, value: book.monotonic(`ns|${key}`, s.ns) });
      }
      const commIos = counterFamily('bpfkit_block_command_ios_total', `Block I/Os completed, by the command that created them (at most ${commands.limit} named, the rest "${OTHER}") and direction`, []);
      const commBytes = counterFamily('bpfkit_block_command_io_bytes_total', 'Bytes of completed block I/O, by the command that created them and direction', []);
      const { named, other } = commands.split(byComm);
      for (const [comm, dir, s] of [...named, ...[...other].map(([dir, s]) => [OTHER, dir, s] as [string, string, Sums])]) {
        const labels: Labels = { comm, direction: dir };
        commIos.samples.push({ labels, value: book.monotonic(`cio|${comm}${SEP}${dir}`, s.io) });
        commBytes.samples.push({ labels, value: book.monotonic(`cb|${comm}${SEP}${dir}`, s.bytes) });
      }
      return [ios, bytes, seconds(latency), commIos, commBytes];
    },
    lost: () => dropped.get(0) ?? 0n,
    dropped: () => book.dropped,
  };
}

/** A counter of nanoseconds as seconds (exposition takes numbers as well as bigints). */
function seconds(family: ReturnType<typeof counterFamily>): MetricFamily {
  return { ...family, samples: family.samples.map((s) => ({ labels: s.labels, value: Number(s.value) / 1e9 })) };
}

/** Rows of the never-drained table in metrics mode: commands × disks × directions. */
export function metricsEntries(seriesLimit: number): number {
  return Math.max(1024, Math.min(1 << 20, seriesLimit * 8));
}

/**
 * biotop in `bpfkit exporter`: every process, rows per command (not PID), the table sized from
 * the series limit; the tool's own configuration and attach, on `kernel`.
 */
export async function exporterMetrics(ctx: ToolContext<unknown>, seriesLimit: number, kernel: KernelView = liveKernel()): Promise<Collector> {
  let program: ToolProgram;
  try {
    program = configureBiotop({ maxEntries: metricsEntries(seriesLimit), keyByPid: false }, kernel);
  } catch (err) {
    if (isBpfError(err, 'NOT_SUPPORTED')) throw new MissingPrerequisite(`biotop: ${err.message}`);
    throw err;
  }
  const bpf = ctx.load({ ...program, autoAttach: false });
  ctx.attach(bpf, program);
  return biotopCollector(bpf, seriesLimit);
}
