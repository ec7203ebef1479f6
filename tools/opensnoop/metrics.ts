// opensnoop's metrics: opens counted in the kernel, by command name and errno, read when a scrape
// arrives. Counting needs no record per open: with --metrics alone (and the exporter) the
// program runs only at the syscalls' exit and adds one to `counts` (opensnoop.bpf.c), so a fleet
// pays far less than for printing.
//
//   bpfkit_opens_total{comm}               every open(), openat() and openat2() call, by the caller's name
//   bpfkit_open_errors_total{comm,errno}   the failed ones, by errno name ("ENOENT")
//
// One series-limit unit is one label set (a comm, or a comm and errno). Opens the kernel could
// not count (`counts` full) are bpfkit_lost_events_total{tool="opensnoop"}, with any records the
// buffer could not deliver under --metrics-and-print. The tool's --metrics and the exporter
// (exporterMetrics) build the same collector.
import { isBpfError, type BPF, type PerCpuTable } from 'bcc-node-bindings';
import type { ToolContext } from '../../lib/run/tool.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { SeriesBook, counterFamily, type Collector } from '../../lib/metrics/agent.ts';
import type { MetricFamily } from '../../lib/metrics/exposition.ts';
import { errnoName } from '../../lib/kernel/errno.ts';
import type { EventChannel } from '../../lib/run/event-channel.ts';
import { EXPORTER_CONFIG, configureOpensnoop, type OpensnoopProgram } from './program.ts';

/** struct count_key in opensnoop.bpf.c: comm[16], u32 err. */
const KEY_COMM = 0;
const KEY_ERR = 16;

/** One count of the kernel's map. */
export interface OpenCount {
  comm: string;
  /** 0 for successes. */
  err: number;
  value: bigint;
}

/** Reads every (comm, errno) count from `counts`, in one batch. */
export function readCounts(bpf: BPF): OpenCount[] {
  const table = bpf.table('counts');
  const { keys, values, count } = table.readAll();
  const keySize = table.info.keySize;
  const out: OpenCount[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * keySize;
    const nul = keys.indexOf(0, at + KEY_COMM);
    const end = nul < 0 || nul > at + 16 ? at + 16 : nul;
    out.push({ comm: keys.toString('utf8', at + KEY_COMM, end), err: keys.readUInt32LE(at + KEY_ERR), value: values.readBigUInt64LE(i * 8) });
  }
  return out;
}

/** The families from the counts: opens by comm (every errno summed), errors by comm and errno. */
export function openFamilies(counts: OpenCount[], book: SeriesBook, name?: string): MetricFamily[] {
  const opens = new Map<string, bigint>();
  const errors = new Map<string, { comm: string; errno: string; value: bigint }>();
  for (const c of counts) {
    if (name !== undefined && !c.comm.includes(name)) continue;
    if (!book.admit(c.comm)) continue;
    opens.set(c.comm, (opens.get(c.comm) ?? 0n) + c.value);
    if (c.err === 0) continue;
    const errno = errnoName(c.err) ?? String(c.err);
    const key = `${c.comm}\0${errno}`;
    if (!book.admit(key)) continue;
    errors.set(key, { comm: c.comm, errno, value: (errors.get(key)?.value ?? 0n) + c.value });
  }
  return [
    counterFamily('bpfkit_opens_total', 'open(), openat() and openat2() calls, by the calling command name',
      [...opens].map(([comm, value]) => ({ labels: { comm }, value: book.monotonic(comm, value) }))),
    counterFamily('bpfkit_open_errors_total', 'Failed open(), openat() and openat2() calls, by command name and errno',
      [...errors].map(([key, e]) => ({ labels: { comm: e.comm, errno: e.errno }, value: book.monotonic(key, e.value) }))),
  ];
}

/** The collector of a loaded program configured with `count`; `events` when records are sent too. */
export function opensnoopCollector(bpf: BPF, seriesLimit: number, events: EventChannel | null, name?: string): Collector {
  const book = new SeriesBook(seriesLimit);
  const countLost = bpf.table<PerCpuTable<number, bigint>>('count_lost');
  return {
    tool: 'opensnoop',
    collect: () => openFamilies(readCounts(bpf), book, name),
    lost: () => (countLost.sum(0) ?? 0n) + (events?.lost() ?? 0n),
    dropped: () => book.dropped,
  };
}

/** opensnoop's program with the exporter's configuration (EXPORTER_CONFIG), attached, and its collector. */
export async function exporterMetrics(ctx: ToolContext<unknown>, seriesLimit: number): Promise<Collector> {
  let program: OpensnoopProgram;
  try {
    program = configureOpensnoop(EXPORTER_CONFIG);
  } catch (err) {
    if (isBpfError(err) && err.code === 'NOT_SUPPORTED') throw new MissingPrerequisite(`opensnoop: ${err.message}`);
    throw err;
  }
  const bpf = ctx.load({ ...program, autoAttach: false });
  const collector = opensnoopCollector(bpf, seriesLimit, null);
  ctx.attach(bpf, program);
  return collector;
}
