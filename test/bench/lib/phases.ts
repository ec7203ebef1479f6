// The measurements. Each phase runs its subjects interleaved (run r starts with a different one),
// so that a noisy neighbour or a slow minute spreads over all of them instead of hitting one.
import fs from 'node:fs';
import path from 'node:path';
import { Proc, cpuNs, memory, programIds, sleep } from './proc.ts';
import { rotate, summarize, type Summary } from './stats.ts';
import { Work, type WorkResult } from './workloads.ts';
import {
  execsSeen, lostReported,
  type Launch, type OurPath, type Setup, type ToolBench, type Tracer,
} from './tracers.ts';
import { bench as syscountBench } from '../tools/syscount.ts';

export interface Options {
  /** Repetitions of each start-up measurement. */
  startupReps: number;
  /** Repetitions of each added-cost and burst measurement. */
  reps: number;
  /** Repetitions of each idle + load window (each costs idle + load seconds). */
  resourceReps: number;
  idleSeconds: number;
  loadSeconds: number;
  syscalls: number;
  execs: number;
  burst: number;
  ios: number;
  sends: number;
  /** Connections for tcptop's many-flows run (each is two flows: client and server socket). */
  connections: number;
  /** Events per binding per-event-cost run. */
  events: number;
}

/** Shared state of one bench run. */
export interface Bench {
  setup: Setup;
  opts: Options;
  /** Scratch directory (cache directories live here). */
  dir: string;
  /** A compile cache kept warm for our tools. */
  warmCache: string;
  /** BPF program IDs every tracer held once ready: all must be gone at the end. */
  programs: Map<number, string>;
  /** Tracers that failed to start, per tool: the first line of their error. */
  failed: Map<string, string>;
  log(line: string): void;
}

/** The row of bpftrace's one-liner in other tools' start-up series. */
export const ONE_LINER_REFERENCE = 'bpftrace one-liner (syscount, reference)';

/** Pause between a tracer's readiness line and the work it measures. */
const SETTLE_MS = 300;

const failKey = (tool: string, tracer: Tracer, mode = 'default') => `${tool}/${tracer.id}/${mode}`;

export function tracerError(bench: Bench, tool: ToolBench, tracer: Tracer, mode = 'default'): string | undefined {
  return bench.failed.get(failKey(tool.name, tracer, mode)) ?? bench.failed.get(failKey(tool.name, tracer));
}

/** Our tool's preferred path for the steady-state measurements: the installed package when there is one. */
export function ourPath(bench: Bench): OurPath {
  return bench.setup.installDir ? 'installed' : 'tsx';
}

export function label(tracer: Tracer, p?: OurPath): string {
  // Another of our tools beside the one measured (secwatch's rows beside opensnoop's) is named.
  const ours = tracer.id === 'bpfkit' ? 'bpfkit' : `bpfkit ${tracer.id}`;
  return tracer.kind === 'bpfkit' ? `${ours} (${p === 'tsx' ? 'tsx' : 'installed'})` : tracer.id;
}

interface Started {
  proc: Proc;
  readyMs: number;
}

/** Starts a tracer and waits until its probes are attached; records its programs for the final check. */
async function startTracer(bench: Bench, tool: ToolBench, tracer: Tracer, launch: Launch): Promise<Started | Error> {
  let proc: Proc;
  try {
    proc = new Proc(`${tool.name}:${tracer.id}`, tracer.command(bench.setup, launch));
  } catch (err) {
    return err as Error;
  }
  const ready = await proc.ready(tracer.ready);
  if (ready instanceof Error) {
    await proc.stop();
    return ready;
  }
  for (const id of programIds(proc.pid)) bench.programs.set(id, `${tool.name}:${tracer.id}`);
  return { proc, readyMs: ready };
}

const ourLaunch = (bench: Bench, mode: string, pid?: number): Launch => ({ mode, pid, path: ourPath(bench), cacheDir: bench.warmCache });
const launchFor = (bench: Bench, tracer: Tracer, mode: string, pid?: number): Launch =>
  tracer.kind === 'bpfkit' ? ourLaunch(bench, mode, pid) : { mode, pid };

// --- start-up ---------------------------------------------------------------------------------

export interface StartupRow {
  tracer: string;
  kind: Tracer['kind'];
  path?: OurPath;
  /** cold: empty compile cache; warm: cached artifact; none: the tracer has no cache (compiles every start). */
  cache: 'cold' | 'warm' | 'none';
  readyMs: Summary | null;
  /** RSS and peak RSS at the readiness line. */
  rssMB: Summary | null;
  peakMB: Summary | null;
  /** Warm runs that compiled anyway (their program was not in the cache). */
  cacheMisses?: number;
  /** Probes bpftrace said it skipped ("could not attach probe"), of those it set out to attach. */
  skippedProbes?: { skipped: number; of: number };
  error?: string;
}

interface StartupSubject {
  tracer: Tracer;
  path?: OurPath;
  cache: StartupRow['cache'];
  ready: number[];
  rss: number[];
  peak: number[];
  misses: number;
  skipped?: { skipped: number; of: number };
  error?: string;
}

/**
 * bpftrace starts even when probes cannot attach (kprobes on a kernel without them): it warns
 * "could not attach probe X, skipping" and runs BEGIN. Such a start is fast because it attached
 * nothing, which the table must say.
 */
function skippedProbes(output: string): { skipped: number; of: number } | undefined {
  const skipped = new Set([...output.matchAll(/could not attach probe (\S+?),? skipping/g)].map((m) => m[1])).size;
  const of = Number(/Attaching (\d+) probes?/.exec(output)?.[1] ?? NaN);
  return skipped ? { skipped, of } : undefined;
}

const cacheEntries = (dir: string) => { try { return fs.readdirSync(dir).length; } catch { return 0; } };

export async function startup(bench: Bench, tool: ToolBench): Promise<StartupRow[]> {
  const subjects: StartupSubject[] = [];
  // bpftrace's syscount one-liner in every tool's series: issue 9's bar, measured interleaved.
  const reference = syscountBench.tracers.find((t) => t.id === 'bpftrace one-liner')!;
  const tracers = tool.tracers.includes(reference) ? tool.tracers : [...tool.tracers, { ...reference, id: ONE_LINER_REFERENCE }];
  for (const tracer of tracers) {
    if (tracer.kind === 'bpfkit') {
      const paths: OurPath[] = bench.setup.installDir ? ['installed', 'tsx'] : ['tsx'];
      for (const p of paths) for (const cache of ['cold', 'warm'] as const) subjects.push({ tracer, path: p, cache, ready: [], rss: [], peak: [], misses: 0 });
    } else {
      subjects.push({ tracer, cache: 'none', ready: [], rss: [], peak: [], misses: 0 });
    }
  }
  // Fill the warm cache from each path once (not timed); a failure here is the subject's error.
  for (const s of subjects.filter((s) => s.cache === 'warm')) {
    const started = await startTracer(bench, tool, s.tracer, { mode: 'default', path: s.path, cacheDir: bench.warmCache });
    if (started instanceof Error) {
      for (const t of subjects.filter((x) => x.tracer === s.tracer && x.path === s.path)) t.error = started.message;
      bench.log(`  ${label(s.tracer, s.path)}: does not run: ${started.message}`);
      if (s.path === ourPath(bench)) bench.failed.set(failKey(tool.name, s.tracer), started.message);
    } else {
      await started.proc.stop();
    }
  }
  for (let r = 0; r < bench.opts.startupReps; r++) {
    for (const s of rotate(subjects, r)) {
      if (s.error) continue;
      const cacheDir = s.cache === 'cold' ? fs.mkdtempSync(path.join(bench.dir, 'cold-')) : bench.warmCache;
      const before = cacheEntries(bench.warmCache);
      const started = await startTracer(bench, tool, s.tracer, { mode: 'default', path: s.path, cacheDir: s.tracer.kind === 'bpfkit' ? cacheDir : undefined });
      if (started instanceof Error) {
        if (r === 0 || s.ready.length === 0) {
          s.error = started.message;
          bench.log(`  ${label(s.tracer, s.path)}: does not run: ${started.message}`);
          if (s.tracer.kind !== 'bpfkit') bench.failed.set(failKey(tool.name, s.tracer), started.message);
        }
      } else {
        const mem = memory(started.proc.pid);
        s.ready.push(started.readyMs);
        if (mem) { s.rss.push(mem.rssMB); s.peak.push(mem.peakMB); }
        await started.proc.stop();
        s.skipped ??= skippedProbes(started.proc.stdout + started.proc.stderr);
        if (s.cache === 'warm' && cacheEntries(bench.warmCache) > before) s.misses++;
      }
      if (s.cache === 'cold') fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  }
  return subjects.map((s) => ({
    tracer: label(s.tracer, s.path),
    kind: s.tracer.kind,
    path: s.path,
    cache: s.cache,
    readyMs: summarize(s.ready),
    rssMB: summarize(s.rss),
    peakMB: summarize(s.peak),
    ...(s.misses ? { cacheMisses: s.misses } : {}),
    ...(s.skipped ? { skippedProbes: s.skipped } : {}),
    ...(s.error ? { error: s.error } : {}),
  }));
}

// --- memory and CPU: idle, then under load ------------------------------------------------------

export interface ResourceRow {
  tracer: string;
  kind: Tracer['kind'];
  /** RSS / peak RSS 1 s after the readiness line. */
  rssStartMB: Summary | null;
  peakStartMB: Summary | null;
  /** RSS / peak RSS at the end of the load window. */
  rssLoadMB: Summary | null;
  peakLoadMB: Summary | null;
  /** Tracer CPU seconds per 10 s, idle and under load. */
  cpuIdle: Summary | null;
  cpuLoad: Summary | null;
  /** Workload operations per second during the load window (under this tracer). */
  loadOpsPerS: Summary | null;
  error?: string;
}

export async function resources(bench: Bench, tool: ToolBench): Promise<ResourceRow[]> {
  const { idleSeconds, loadSeconds } = bench.opts;
  const rows = new Map<Tracer, { rs: number[]; ps: number[]; rl: number[]; pl: number[]; ci: number[]; cl: number[]; ops: number[]; error?: string }>();
  for (const t of tool.tracers) rows.set(t, { rs: [], ps: [], rl: [], pl: [], ci: [], cl: [], ops: [], error: tracerError(bench, tool, t) });
  for (let r = 0; r < bench.opts.resourceReps; r++) {
    for (const tracer of rotate(tool.tracers, r)) {
      const row = rows.get(tracer)!;
      if (row.error) continue;
      const started = await startTracer(bench, tool, tracer, launchFor(bench, tracer, 'default'));
      if (started instanceof Error) { row.error = started.message; continue; }
      const { pid } = started.proc;
      await sleep(1000);
      const m0 = memory(pid);
      const c0 = cpuNs(pid);
      await sleep(idleSeconds * 1000);
      const c1 = cpuNs(pid);
      const w = tool.workload(bench.setup, `@${loadSeconds}`);
      let result: WorkResult | null = null;
      try {
        result = await new Work(`${tool.name}:load`, w.file, w.args).run();
      } catch (err) {
        bench.log(`  load for ${tracer.id}: ${(err as Error).message}`);
      }
      const c2 = cpuNs(pid);
      const m1 = memory(pid);
      await started.proc.stop();
      if (m0) { row.rs.push(m0.rssMB); row.ps.push(m0.peakMB); }
      if (m1) { row.rl.push(m1.rssMB); row.pl.push(m1.peakMB); }
      if (c0 !== null && c1 !== null) row.ci.push((c1 - c0) / 1e9 * (10 / idleSeconds));
      if (c1 !== null && c2 !== null && result) row.cl.push((c2 - c1) / 1e9 * (10e9 / result.elapsedNs));
      if (result) row.ops.push(result.ops / (result.elapsedNs / 1e9));
    }
  }
  return tool.tracers.map((t) => {
    const row = rows.get(t)!;
    return {
      tracer: label(t, t.kind === 'bpfkit' ? ourPath(bench) : undefined),
      kind: t.kind,
      rssStartMB: summarize(row.rs), peakStartMB: summarize(row.ps),
      rssLoadMB: summarize(row.rl), peakLoadMB: summarize(row.pl),
      cpuIdle: summarize(row.ci), cpuLoad: summarize(row.cl),
      loadOpsPerS: summarize(row.ops),
      ...(row.error ? { error: row.error } : {}),
    };
  });
}

// --- added cost on the traced workload -------------------------------------------------------------

export interface OverheadRow {
  mode: string;
  tracer: string;
  kind: Tracer['kind'];
  nsPerOp: Summary | null;
  /** ns per event over the untraced baseline: median of the per-round differences. */
  addedNs: Summary | null;
  /** The same from the least disturbed runs: fastest traced run minus fastest untraced run. */
  addedMinNs: number | null;
  /** Tracer CPU µs per event during the work. */
  tracerUsPerEvent: Summary | null;
  /** Events the tracer counted (where it prints a total) against events made, per run. */
  counted?: Array<{ counted: number | null; made: number }>;
  error?: string;
}

export interface OverheadResult {
  event: string;
  amount: number;
  baselineNs: Summary | null;
  rows: OverheadRow[];
}

/** Events per added-cost run: the first four tools have options of their own (--syscalls, …). */
const overheadAmount = (bench: Bench, tool: ToolBench): number =>
  ({ syscount: bench.opts.syscalls, execsnoop: bench.opts.execs, biolatency: bench.opts.ios, tcptop: bench.opts.sends } as Record<string, number>)[tool.name]
    ?? tool.overheadEvents ?? 10_000;

export async function overhead(bench: Bench, tool: ToolBench): Promise<OverheadResult> {
  const amount = overheadAmount(bench, tool);
  const w = tool.workload(bench.setup, String(amount));
  const untraced = async () => (await new Work(`${tool.name}:baseline`, w.file, w.args).run()).nsPerOp;
  interface Subject { mode: string; tracer: Tracer; ns: number[]; added: number[]; cpu: number[]; counted: Array<{ counted: number | null; made: number }>; error?: string }
  const subjects: Subject[] = [];
  for (const mode of tool.modes) {
    for (const tracer of tool.tracers) {
      if (!tracer.modes.includes(mode)) continue;
      subjects.push({ mode, tracer, ns: [], added: [], cpu: [], counted: [], error: tracerError(bench, tool, tracer, mode) });
    }
  }
  const baselines: number[] = [];
  for (let r = 0; r < bench.opts.reps; r++) {
    // One round: an untraced run before every traced run and after the last. A traced run's added
    // cost is taken against the median untraced run of its round: drift between rounds is followed,
    // one disturbed baseline is not.
    const round: Array<{ s: Subject; ns: number }> = [];
    const roundBaselines = [await untraced()];
    for (const s of rotate(subjects, r)) {
      if (s.error) continue;
      const work = new Work(`${tool.name}:traced`, w.file, w.args);
      const started = await startTracer(bench, tool, s.tracer, launchFor(bench, s.tracer, s.mode, work.pid));
      if (started instanceof Error) {
        await work.proc.stop();
        s.error = started.message;
        if (s.mode === 'default') bench.failed.set(failKey(tool.name, s.tracer), started.message);
        else bench.failed.set(failKey(tool.name, s.tracer, s.mode), started.message);
        bench.log(`  ${s.tracer.id} ${s.mode}: does not run: ${started.message}`);
        continue;
      }
      // What a tool does right after attaching (the first reads, JIT, GC) is not per-event cost.
      await sleep(SETTLE_MS);
      const c0 = cpuNs(started.proc.pid);
      let result: WorkResult | null = null;
      try {
        work.go();
        result = await work.result();
      } catch (err) {
        bench.log(`  ${s.tracer.id} ${s.mode}: workload failed: ${(err as Error).message}`);
      }
      const c1 = cpuNs(started.proc.pid);
      await started.proc.stop();
      roundBaselines.push(await untraced());
      if (result) {
        s.ns.push(result.nsPerOp);
        round.push({ s, ns: result.nsPerOp });
        if (c0 !== null && c1 !== null) s.cpu.push((c1 - c0) / 1e3 / result.ops);
        if (tool.counted) s.counted.push({ counted: tool.counted(s.tracer, started.proc.stdout), made: result.ops });
      }
    }
    const base = summarize(roundBaselines)!.median;
    for (const { s, ns } of round) s.added.push(ns - base);
    baselines.push(...roundBaselines);
  }
  return {
    event: tool.event,
    amount,
    baselineNs: summarize(baselines),
    rows: subjects.map((s) => ({
      mode: s.mode,
      tracer: label(s.tracer, s.tracer.kind === 'bpfkit' ? ourPath(bench) : undefined),
      kind: s.tracer.kind,
      nsPerOp: summarize(s.ns),
      addedNs: summarize(s.added),
      addedMinNs: s.ns.length && baselines.length ? Math.min(...s.ns) - Math.min(...baselines) : null,
      tracerUsPerEvent: summarize(s.cpu),
      ...(tool.counted ? { counted: s.counted } : {}),
      ...(s.error ? { error: s.error } : {}),
    })),
  };
}

// --- execsnoop: a burst of execs, seen against made --------------------------------------------------

export interface BurstRow {
  tracer: string;
  made: number;
  seen: Summary | null;
  lost: Summary | null;
  /** Tracer CPU µs per exec over the burst (until its output settled). */
  cpuUsPerExec: Summary | null;
  execsPerS: Summary | null;
  error?: string;
}

export async function burst(bench: Bench, tool: ToolBench): Promise<BurstRow[]> {
  const made = bench.opts.burst;
  const noop = bench.setup.bin.noop;
  const rows = new Map<Tracer, { seen: number[]; lost: number[]; cpu: number[]; rate: number[]; error?: string }>();
  for (const t of tool.tracers) rows.set(t, { seen: [], lost: [], cpu: [], rate: [], error: tracerError(bench, tool, t) });
  for (let r = 0; r < bench.opts.reps; r++) {
    for (const tracer of rotate(tool.tracers, r)) {
      const row = rows.get(tracer)!;
      if (row.error) continue;
      // Two workers, one per CPU: as many execs per second as this machine makes.
      const work = new Work('execsnoop:burst', bench.setup.bin.execloop, [String(made), '2', noop]);
      const started = await startTracer(bench, tool, tracer, launchFor(bench, tracer, 'default'));
      if (started instanceof Error) { await work.proc.stop(); row.error = started.message; continue; }
      const { proc } = started;
      await sleep(SETTLE_MS);
      const c0 = cpuNs(proc.pid);
      let result: WorkResult | null = null;
      try {
        work.go();
        result = await work.result();
      } catch (err) {
        bench.log(`  burst under ${tracer.id}: ${(err as Error).message}`);
      }
      // The tracer may still be printing: wait until all are seen, or nothing new comes for 1.5 s.
      let last = -1;
      for (let waited = 0; waited < 20_000; waited += 500) {
        const seen = execsSeen(proc.stdout, noop);
        if (seen >= made || seen === last && waited >= 1500) break;
        last = seen;
        await sleep(500);
      }
      const c1 = cpuNs(proc.pid);
      await proc.stop();
      if (!result) continue;
      row.seen.push(execsSeen(proc.stdout, noop));
      row.lost.push(lostReported(`${proc.stderr}\n${proc.stdout}`));
      if (c0 !== null && c1 !== null) row.cpu.push((c1 - c0) / 1e3 / result.ops);
      row.rate.push(result.ops / (result.elapsedNs / 1e9));
    }
  }
  return tool.tracers.map((t) => {
    const row = rows.get(t)!;
    return {
      tracer: label(t, t.kind === 'bpfkit' ? ourPath(bench) : undefined),
      made,
      seen: summarize(row.seen), lost: summarize(row.lost), cpuUsPerExec: summarize(row.cpu), execsPerS: summarize(row.rate),
      ...(row.error ? { error: row.error } : {}),
    };
  });
}

// --- tcptop: many flows in one interval ----------------------------------------------------------

export interface FlowsResult {
  tracer: string;
  /** Flows made (2 per connection) and flows our tool reported (distinct, over the intervals). */
  made: number;
  reported: number | null;
  /** Longest gap between interval outputs while the flows were live (the interval is 1 s). */
  maxGapMs: number | null;
  /** Tracer CPU per interval: the busiest interval, and the median of the quiet ones before. */
  busyIntervalCpuMs: number | null;
  quietIntervalCpuMs: number | null;
  /** The tool's peak RSS over the run, and its RSS three intervals after the flows closed. */
  peakRssMB?: number;
  rssAfterMB?: number;
  error?: string;
}

export async function manyFlows(bench: Bench, tool: ToolBench): Promise<FlowsResult> {
  const tracer = tool.tracers.find((t) => t.kind === 'bpfkit')!;
  const made = 2 * bench.opts.connections;
  const base = { tracer: label(tracer, ourPath(bench)), made };
  const error = tracerError(bench, tool, tracer);
  if (error) return { ...base, reported: null, maxGapMs: null, busyIntervalCpuMs: null, quietIntervalCpuMs: null, error };
  const started = await startTracer(bench, tool, tracer, ourLaunch(bench, 'json'));
  if (started instanceof Error) return { ...base, reported: null, maxGapMs: null, busyIntervalCpuMs: null, quietIntervalCpuMs: null, error: started.message };
  const { proc } = started;
  // Each interval line's arrival time and the tracer's CPU time then.
  const marks: Array<{ at: number; cpu: number; line: string }> = [];
  let seenLines = 0;
  const onData = () => {
    const lines = proc.stdout.split('\n').slice(0, -1);
    for (; seenLines < lines.length; seenLines++) {
      if (lines[seenLines].startsWith('{')) marks.push({ at: performance.now(), cpu: cpuNs(proc.pid) ?? NaN, line: lines[seenLines] });
    }
  };
  proc.child.stdout!.on('data', onData);
  await proc.waitFor(() => (marks.length >= 3 ? true : undefined), 10_000);
  const quiet = marks.length;
  const flows = new Proc('tcptop:flows', { file: bench.setup.bin.tcpsend, args: ['flows', String(bench.opts.connections), 'wait'] }, 'pipe');
  let failure: string | undefined;
  if (!(await flows.waitFor(() => (/^connected/m.test(flows.stdout) ? true : undefined), 60_000))) failure = `flows: ${flows.stderr.trim() || 'did not connect'}`;
  else {
    flows.write('go\n');
    if (!(await flows.waitFor(() => (/^moved/m.test(flows.stdout) ? true : undefined), 60_000))) failure = `flows: ${flows.stderr.trim() || 'did not move'}`;
  }
  const busyFrom = marks.length;
  await proc.waitFor(() => (marks.length >= busyFrom + 3 ? true : undefined), 15_000);
  flows.write('close\n');
  flows.endInput();
  await Promise.race([flows.exited, sleep(10_000)]);
  await flows.stop();
  const closedAt = marks.length;
  await proc.waitFor(() => (marks.length >= closedAt + 3 ? true : undefined), 10_000);
  const mem = memory(proc.pid);
  await proc.stop();
  proc.child.stdout!.off('data', onData);
  const keys = new Set<string>();
  const pids = new Set([flows.pid]);
  for (const m of marks.slice(quiet)) {
    try {
      const interval = JSON.parse(m.line) as { flows?: Array<{ pid: number; comm: string; laddr: string; lport: number; raddr: string; rport: number }> };
      for (const f of interval.flows ?? []) if (pids.has(f.pid) || f.comm.startsWith('tcpsend')) keys.add(`${f.pid} ${f.laddr}:${f.lport} ${f.raddr}:${f.rport}`);
    } catch { /* a partial line at exit */ }
  }
  const gaps = marks.slice(quiet - 1).map((m, i, a) => (i ? m.at - a[i - 1].at : 0)).slice(1);
  const cpu = marks.map((m, i) => (i ? (m.cpu - marks[i - 1].cpu) / 1e6 : NaN));
  const quietCpu = summarize(cpu.slice(1, quiet));
  return {
    ...base,
    reported: keys.size,
    maxGapMs: gaps.length ? Math.max(...gaps) : null,
    busyIntervalCpuMs: cpu.length > quiet ? Math.max(...cpu.slice(quiet).filter(Number.isFinite)) : null,
    quietIntervalCpuMs: quietCpu?.median ?? null,
    ...(mem ? { peakRssMB: mem.peakMB, rssAfterMB: mem.rssMB } : {}),
    ...(failure ? { error: failure } : {}),
  };
}

