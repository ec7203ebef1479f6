// profile in the bench. Two parts:
// - `bench`, the ToolBench every tool has (start-up, memory, CPU idle and under load, and the cost
//   added to getppid() calls while sampling at 99 Hz): ours, bcc's profile-bpfcc (perf events, so it
//   runs here) and bpftrace's profile:hz one-liner. bcc prints its header before it compiles, so its
//   readiness there is early; the sampling phase below waits for its program instead.
// - `profileSampling`, a phase of its own: a sampler's cost is per sample, not per traced event, so
//   it is measured as the tracer's CPU % while every CPU spins (burn-cpu, one per CPU) at 99 and
//   999 Hz on all CPUs, and the time each takes to print its stacks at the end (ours: the
//   symbolisation time it reports under --explain).
import os from 'node:os';
import { ours, bcc, bpftrace, type Launch, type Tracer, type ToolBench } from '../lib/tracers.ts';
import { ourPath, type Bench } from '../lib/phases.ts';
import { Proc, cpuNs, programIds, sleep } from '../lib/proc.ts';
import { rotate, summarize, type Summary } from '../lib/stats.ts';
import { fixed, medMin, type Table } from '../lib/table.ts';
import { burnCpu } from '../../helpers/workloads.ts';

/** The rate is the mode: "99" or "999" (Hz); the ToolBench's "default" is 99. */
const hz = (launch: Launch) => (launch.mode === 'default' ? '99' : launch.mode);
const oneLiner = (launch: Launch) => ({ text: `BEGIN { printf("ready\\n"); } profile:hz:${hz(launch)} { @[kstack, ustack] = count(); }` });

export const RATES = ['99', '999'];

const OURS = ours('profile', ['default', ...RATES], (launch) => ['-F', hz(launch), ...(launch.mode === 'default' ? [] : ['--explain'])]);
const BCC = bcc('profile', ['default', ...RATES], /^Sampling at /m, (launch) => ['-F', hz(launch)]);
const BPFTRACE = bpftrace('bpftrace one-liner', ['default', ...RATES], /^ready$/m, oneLiner);

export const bench: ToolBench = {
  name: 'profile',
  modes: ['default'],
  event: 'getppid() call while sampling at 99 Hz',
  tracers: [OURS, BCC, BPFTRACE],
  workload: (setup, amount) => ({ file: setup.bin.getppid, args: [amount] }),
};

export interface SamplingRow {
  tracer: string;
  hz: number;
  /** Tracer CPU time as a percentage of one CPU, while sampling every CPU. */
  cpuPercent: Summary | null;
  /** From Ctrl-C to exit: reading, symbolising and printing the stacks. */
  reportMs: Summary | null;
  /** Ours: the symbolisation time it reported, and the distinct addresses it named. */
  symboliseMs?: Summary | null;
  addresses?: Summary | null;
  error?: string;
}

const label = (t: Tracer, bench: Bench) => (t.kind === 'bpfkit' ? `bpfkit (${ourPath(bench)})` : t.id);

/** The phase: every tracer at each rate while every CPU spins, `bench.opts.reps` times, interleaved. */
export async function profileSampling(bench: Bench): Promise<SamplingRow[]> {
  const windowS = bench.opts.loadSeconds;
  const burner = burnCpu('symtab');
  const subjects = RATES.flatMap((rate) => [OURS, BCC, BPFTRACE].map((tracer) => ({
    tracer, rate, cpu: [] as number[], report: [] as number[], sym: [] as number[], addrs: [] as number[], error: undefined as string | undefined,
  })));
  for (let r = 0; r < bench.opts.reps; r++) {
    for (const s of rotate(subjects, r)) {
      if (s.error) continue;
      const launch: Launch = s.tracer.kind === 'bpfkit'
        ? { mode: s.rate, path: ourPath(bench), cacheDir: bench.warmCache } : { mode: s.rate };
      const proc = new Proc(`profile:${s.tracer.id}:${s.rate}`, s.tracer.command(bench.setup, launch));
      const ready = await proc.ready(s.tracer.ready);
      // bcc says it samples before it has compiled: its program's arrival is the real start.
      const loaded = ready instanceof Error ? null : await proc.waitFor(() => (programIds(proc.pid).length ? true : undefined), 60_000);
      if (ready instanceof Error || !loaded) {
        s.error = ready instanceof Error ? ready.message : 'no BPF program loaded within 60 s';
        bench.log(`  profile ${s.tracer.id} ${s.rate} Hz: does not run: ${s.error}`);
        await proc.stop();
        continue;
      }
      for (const id of programIds(proc.pid)) bench.programs.set(id, `profile:${s.tracer.id}`);
      const burners = os.cpus().map((_, i) => new Proc(`profile:burn-cpu:${i}`, { file: burner, args: [String(windowS + 5)] }));
      await sleep(500);
      const c0 = cpuNs(proc.pid);
      const t0 = performance.now();
      await sleep(windowS * 1000);
      const c1 = cpuNs(proc.pid);
      const elapsedMs = performance.now() - t0;
      const stopAt = performance.now();
      await proc.stop(120_000);
      const reportMs = performance.now() - stopAt;
      await Promise.all(burners.map((b) => b.stop()));
      if (c0 !== null && c1 !== null) s.cpu.push((c1 - c0) / 1e6 / elapsedMs * 100);
      s.report.push(reportMs);
      const m = /symbolised \d+ stacks: (\d+) distinct addresses .* in ([\d.]+) ms/.exec(proc.stderr);
      if (m) { s.addrs.push(Number(m[1])); s.sym.push(Number(m[2])); }
    }
  }
  return subjects.map((s) => ({
    tracer: label(s.tracer, bench),
    hz: Number(s.rate),
    cpuPercent: summarize(s.cpu),
    reportMs: summarize(s.report),
    ...(s.tracer.kind === 'bpfkit' ? { symboliseMs: summarize(s.sym), addresses: summarize(s.addrs) } : {}),
    ...(s.error ? { error: s.error } : {}),
  }));
}

export function profileSamplingTable(rows: SamplingRow[], windowS: number): Table {
  return {
    title: `profile: sampling every CPU while each spins (${windowS} s windows), median (min)`,
    columns: ['tracer', 'Hz', 'tracer CPU %', 'Ctrl-C to exit, ms', 'symbolisation, ms', 'addresses named'],
    right: [1, 2, 3, 4, 5],
    rows: rows.map((r) => (r.error
      ? [r.tracer, r.hz, `does not run: ${r.error}`, null, null, null]
      : [r.tracer, r.hz, medMin(r.cpuPercent, 2), medMin(r.reportMs, 0), medMin(r.symboliseMs, 1), fixed(r.addresses?.median, 0)])),
    notes: [
      'tracer CPU %: the tracer process\'s own CPU time over the window, as a share of one CPU (the kernel-side sampling cost is charged to the workload, not here).',
      'Ctrl-C to exit: reading the counts and stacks, naming every frame and printing; symbolisation is the part of it ours spends naming frames (--explain reports it).',
    ],
  };
}
