// The results as tables: one set per tool, then the binding's figures. Median (min) everywhere;
// ratios are taken between medians measured in the same run.
import type { XdpRow } from './xdp-veth.ts';
import type { SamplingRow } from '../tools/profile.ts';
import { fixed, medMin, type Cell, type Table } from './table.ts';
import type { Summary } from './stats.ts';
import type { BurstRow, FlowsResult, OverheadResult, ResourceRow, StartupRow } from './phases.ts';
import type { DrainResult, EventCostRow, ExporterResult } from './binding.ts';
import type { ToolName } from './tracers.ts';

export interface FloorRow {
  what: string;
  readyMs: Summary | null;
  rssMB: Summary | null;
  error?: string;
}

export interface ToolResults {
  startup?: StartupRow[];
  resources?: ResourceRow[];
  overhead?: OverheadResult;
  /** ToolBench.variants' added costs, in their order. */
  variants?: OverheadResult[];
  burst?: BurstRow[];
  flows?: FlowsResult;
  xdp?: XdpRow[];
  drain?: DrainResult;
  /** profile: the sampler's own cost while every CPU spins. */
  sampling?: SamplingRow[];
}

export interface Results {
  date: string;
  /** Every tool and every phase (only such a run updates README.md). */
  complete: boolean;
  machine: Record<string, string | number>;
  options: Record<string, unknown>;
  setup: { installed: string; packError?: string };
  floors?: FloorRow[];
  tools: Partial<Record<ToolName, ToolResults>>;
  binding?: { events: number; rows: EventCostRow[] };
  exporter?: ExporterResult;
  cleanup?: Record<string, unknown>;
  durationSeconds?: number;
}

/** libbpf-tools are not packaged in Debian; their figures from the team's notes, for reference only. */
const LIBBPF_TOOLS: Partial<Record<ToolName, { readyMs: number; rssMB: number; other: string }>> = {
  syscount: { readyMs: 27, rssMB: 2.5, other: 'added 194.5 ns/syscall' },
  execsnoop: { readyMs: 50, rssMB: 2.6, other: '28–32 µs CPU/exec, 0 lost in 130,000' },
  biolatency: { readyMs: 36, rssMB: 8.3, other: 'counts 2000 of 2000 I/Os' },
  tcptop: { readyMs: NaN, rssMB: NaN, other: 'does not run here (fentry refused, no kprobe fallback)' },
};

const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || !(b > 0) || !Number.isFinite(a) ? null : `${(a / b).toFixed(2)}×`;

/** Errors go under the table as numbered notes, so that a long message does not widen every row. */
class ErrorNotes {
  readonly notes: string[] = [];

  cell(who: string, error: string): string {
    const line = `[${this.notes.length + 1}] ${who}: ${error}`;
    const known = this.notes.findIndex((n) => n.endsWith(`: ${error}`) && n.includes(`] ${who}:`));
    if (known >= 0) return `does not run [${known + 1}]`;
    this.notes.push(line);
    return `does not run [${this.notes.length}]`;
  }
}

export function floorsTable(rows: FloorRow[]): Table {
  const errors = new ErrorNotes();
  return {
    title: 'Start-up floors (same run): launch → ready, nothing or one tiny program loaded',
    columns: ['what', 'ready ms', 'RSS MB'],
    right: [1, 2],
    rows: rows.map((r) => [r.what, r.error ? errors.cell(r.what, r.error) : medMin(r.readyMs, 0), medMin(r.rssMB)]),
    notes: errors.notes,
  };
}

export function startupTable(tool: ToolName, rows: StartupRow[], oneLinerMs: number | undefined): Table {
  const lib = LIBBPF_TOOLS[tool];
  const errors = new ErrorNotes();
  const out: Cell[][] = rows.map((r) => [
    r.tracer,
    r.cache === 'none' ? 'none (compiles each start)' : r.cache,
    r.error ? errors.cell(r.tracer, r.error) : medMin(r.readyMs, 0),
    r.error ? null : ratio(r.readyMs?.median, oneLinerMs),
    r.error ? null : medMin(r.rssMB),
    r.error ? null : medMin(r.peakMB),
    [
      r.cacheMisses ? `${r.cacheMisses} warm run(s) compiled (cache miss)` : '',
      r.skippedProbes ? `${r.skippedProbes.skipped} of its ${r.skippedProbes.of} probes (BEGIN and END included) could not attach here and were skipped` : '',
    ].filter(Boolean).join('; '),
  ]);
  if (lib && Number.isFinite(lib.readyMs)) out.push(['libbpf-tools (from notes, not measured)', 'precompiled', String(lib.readyMs), ratio(lib.readyMs, oneLinerMs), String(lib.rssMB), null, lib.other]);
  else if (lib) out.push(['libbpf-tools (from notes, not measured)', '', lib.other, null, null, null, '']);
  return {
    title: `${tool}: start-up (launch → probes attached), median (min) of runs`,
    columns: ['tracer', 'compile cache', 'ready ms', '× bpftrace one-liner', 'RSS MB at ready', 'peak RSS MB', 'note'],
    right: [2, 3, 4, 5],
    rows: out,
    notes: errors.notes,
  };
}

export function resourcesTable(tool: ToolName, rows: ResourceRow[], loadSeconds: number, event: string): Table {
  const errors = new ErrorNotes();
  return {
    title: `${tool}: memory and CPU (idle window, then ${loadSeconds} s of load), median (min)`,
    columns: ['tracer', 'RSS MB after start', 'peak MB after start', `RSS MB after load`, 'peak MB after load', 'CPU s per 10 s idle', 'CPU s per 10 s load', `${event}s/s under load`],
    right: [1, 2, 3, 4, 5, 6, 7],
    rows: rows.map((r) => (r.error
      ? [r.tracer, errors.cell(r.tracer, r.error), null, null, null, null, null, null]
      : [r.tracer, medMin(r.rssStartMB), medMin(r.peakStartMB), medMin(r.rssLoadMB), medMin(r.peakLoadMB),
        medMin(r.cpuIdle, 3), medMin(r.cpuLoad, 3), r.loadOpsPerS ? Math.round(r.loadOpsPerS.median).toLocaleString('en-US') : null])),
    notes: errors.notes,
  };
}

export function overheadTable(tool: ToolName, o: OverheadResult): Table {
  const oursAdded = new Map<string, number>();
  for (const r of o.rows) if (r.kind === 'bpfkit' && r.addedNs) oursAdded.set(r.mode, r.addedNs.median);
  const base = o.baselineNs?.median;
  const withCounts = o.rows.some((r) => r.counted);
  const errors = new ErrorNotes();
  const rows: Cell[][] = [['untraced', 'baseline', medMin(o.baselineNs), null, null, null, null, ...(withCounts ? [null] : [])]];
  for (const r of o.rows) {
    if (r.error) { rows.push([r.mode, r.tracer, errors.cell(r.tracer, r.error), null, null, null, null, ...(withCounts ? [null] : [])]); continue; }
    const counted = r.counted?.length
      ? r.counted.map((c) => (c.counted === null ? '?' : `${c.counted}/${c.made}`)).join(', ')
      : null;
    rows.push([
      r.mode, r.tracer, medMin(r.nsPerOp), r.addedNs ? `${r.addedNs.median.toFixed(1)} (${fixed(r.addedMinNs)})` : null,
      r.addedNs && base ? `${(100 * r.addedNs.median / base).toFixed(0)}%` : null,
      r.kind === 'bpfkit' ? (r.addedNs ? '1×' : null) : ratio(r.addedNs?.median, oursAdded.get(r.mode)),
      medMin(r.tracerUsPerEvent, 2),
      ...(withCounts ? [counted] : []),
    ]);
  }
  return {
    title: `${tool}: added cost on the traced workload, ns per ${o.event} (${o.amount.toLocaleString('en-US')} ${o.event}s per run), median (min)`,
    columns: ['mode', 'tracer', `ns/${o.event}`, 'added ns: median (min − min)', 'added % of untraced', 'added × bpfkit', `tracer CPU µs/${o.event}`, ...(withCounts ? ['counted/made'] : [])],
    right: [2, 3, 4, 5, 6],
    rows,
    notes: errors.notes,
  };
}

export function burstTable(rows: BurstRow[]): Table {
  const errors = new ErrorNotes();
  return {
    title: `execsnoop: burst of ${rows[0]?.made.toLocaleString('en-US') ?? '?'} execs (2 workers), median (min)`,
    columns: ['tracer', 'made', 'seen', 'lost reported', 'tracer CPU µs/exec (= ms per 1,000)', 'execs/s'],
    right: [1, 2, 3, 4, 5],
    rows: [
      ...rows.map((r): Cell[] => (r.error
        ? [r.tracer, r.made, errors.cell(r.tracer, r.error), null, null, null]
        : [r.tracer, r.made, medMin(r.seen, 0), medMin(r.lost, 0), medMin(r.cpuUsPerExec, 1), r.execsPerS ? Math.round(r.execsPerS.median) : null])),
      ['libbpf-tools (from notes, not measured)', '5,000–10,000', 'all', '0', '28–32', null],
    ],
    notes: errors.notes,
  };
}

export function flowsTable(f: FlowsResult | undefined, d: DrainResult | undefined): Table {
  const rows: Cell[][] = [];
  const errors = new ErrorNotes();
  if (f) {
    rows.push(f.error && f.reported === null
      ? [`${f.tracer}, ${f.made.toLocaleString('en-US')} live flows`, errors.cell(f.tracer, f.error), null, null, null]
      : [`${f.tracer}, ${f.made.toLocaleString('en-US')} live flows (1 s interval, --json)`,
        fixed(f.busyIntervalCpuMs, 1), fixed(f.quietIntervalCpuMs, 1), fixed(f.maxGapMs, 0),
        `${f.reported ?? '?'}/${f.made} flows reported${f.peakRssMB ? `; peak RSS ${f.peakRssMB.toFixed(1)} MB, ${f.rssAfterMB?.toFixed(1)} MB 3 s after the flows closed` : ''}${f.error ? `; ${f.error}` : ''}`]);
  }
  if (d) {
    rows.push(d.error
      ? ['binding: drain a 10,000-entry flows map', `failed: ${d.error}`, null, null, null]
      : ['binding: drain a 10,000-entry flows map (tcptop\'s structs)', medMin(d.drainMs), null, null, `batch ops: ${d.batch ? 'yes' : 'no'}`],
      d.error ? [] : ['binding: + rows, sort, table text (tcptop\'s interval)', medMin(d.intervalMs), null, null, '']);
  }
  return {
    title: `tcptop: interval read time with many flows${f ? ` (${f.made.toLocaleString('en-US')} live flows)` : ''}, and a 10,000-entry drain through the binding`,
    columns: ['what', 'busiest interval CPU ms / read ms', 'quiet interval CPU ms', 'max interval gap ms', 'note'],
    right: [1, 2, 3],
    rows: rows.filter((r) => r.length),
    notes: errors.notes,
  };
}

export function bindingTable(b: { events: number; rows: EventCostRow[] }): Table {
  const errors = new ErrorNotes();
  return {
    title: `binding: CPU per event, getppid() burst of ${b.events.toLocaleString('en-US')} filtered in the kernel, median (min)`,
    columns: ['runtime', 'buffer', 'CPU µs/event', 'received', 'dropped (buffer full)'],
    right: [2, 3, 4],
    rows: b.rows.map((r) => (r.error
      ? [r.runtime, r.buffer, errors.cell(r.runtime, r.error), null, null]
      : [r.runtime, r.buffer, medMin(r.usPerEvent, 2), medMin(r.received, 0), medMin(r.drops, 0)])),
    notes: errors.notes,
  };
}

export function exporterTable(e: ExporterResult): Table {
  return {
    title: 'exporter (issue 8): all four tools in one agent',
    columns: ['what', 'value'],
    rows: !e.available || e.error
      ? [['bpfkit exporter', `not measured: ${e.error ?? 'not available'}`]]
      : [['scrape time ms, median (min) of 20', medMin(e.scrapeMs)], ['agent RSS MB (peak)', `${fixed(e.rssMB)} (${fixed(e.peakMB)})`], ['/metrics bytes', e.metricsBytes]],
  };
}

/** Issue 9's bar for one tool: warm start of the installed package no slower than bpftrace's one-liner, steady RSS ≤ 60 MB. */
export function issue9Note(startup: StartupRow[] | undefined, resources: ResourceRow[] | undefined, oneLinerMs: number | undefined): string {
  const warm = startup?.find((r) => r.kind === 'bpfkit' && r.path === 'installed' && r.cache === 'warm');
  const steady = resources?.find((r) => r.kind === 'bpfkit');
  const parts: string[] = [];
  if (!warm || warm.error || !warm.readyMs) parts.push(`warm installed start: not measured${warm?.error ? ` (${warm.error})` : ''}`);
  else if (oneLinerMs !== undefined) parts.push(`warm installed start ${warm.readyMs.median.toFixed(0)} ms vs bpftrace one-liner ${oneLinerMs.toFixed(0)} ms: ${warm.readyMs.median <= oneLinerMs ? 'met' : 'NOT met'}`);
  if (steady?.rssLoadMB) parts.push(`steady RSS ${steady.rssLoadMB.median.toFixed(1)} MB (${steady.tracer}) vs 60 MB: ${steady.rssLoadMB.median <= 60 ? 'met' : 'NOT met'}`);
  return `issue 9 bar: ${parts.join('; ')}`;
}
