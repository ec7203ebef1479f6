// Figures about the binding and the package rather than one tool: the cost per event of our
// perf/ring buffer path against bcc's Python module, tcptop's interval read at 10,000 flows
// through the binding, and (issue 8) the metrics exporter's scrape time and RSS, when it exists.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { Proc, cpuNs, firstErrorLine, memory, programIds, sleep } from './proc.ts';
import { rotate, summarize, type Summary } from './stats.ts';
import { Work } from './workloads.ts';
import type { Bench } from './phases.ts';

const HERE = path.resolve(import.meta.dirname, '..');

export interface EventCostRow {
  runtime: 'node (bcc-node-bindings)' | 'python3 (python3-bpfcc)';
  buffer: 'perf' | 'ring';
  usPerEvent: Summary | null;
  received: Summary | null;
  drops: Summary | null;
  error?: string;
}

export async function eventCost(bench: Bench): Promise<{ events: number; rows: EventCostRow[] }> {
  const n = bench.opts.events;
  const rows: EventCostRow[] = [];
  const data = new Map<EventCostRow, { us: number[]; received: number[]; drops: number[] }>();
  for (const buffer of ['perf', 'ring'] as const) {
    for (const runtime of ['node (bcc-node-bindings)', 'python3 (python3-bpfcc)'] as const) {
      const row: EventCostRow = { runtime, buffer, usPerEvent: null, received: null, drops: null };
      rows.push(row);
      data.set(row, { us: [], received: [], drops: [] });
    }
  }
  for (let r = 0; r < bench.opts.reps; r++) {
    for (const row of rotate(rows, r)) {
      if (row.error) continue;
      const d = data.get(row)!;
      const work = new Work('binding:getppid', bench.setup.bin.getppid, [String(n)]);
      const args = [row.buffer, String(work.pid), String(n)];
      const proc = row.runtime.startsWith('node')
        ? new Proc('binding:node', { file: process.execPath, args: ['--import', 'tsx', path.join(HERE, 'event-cost.ts'), ...args], cwd: bench.setup.repo, env: { BPFKIT_COMPILE_CACHE_DIR: bench.warmCache } }, 'pipe')
        : new Proc('binding:python', { file: '/usr/bin/python3', args: [path.join(HERE, 'event_cost.py'), ...args], env: bench.setup.headers ? { BCC_KERNEL_SOURCE: bench.setup.headers } : {} }, 'pipe');
      const ready = await proc.ready({ stream: 'stdout', pattern: /^ready$/m });
      if (ready instanceof Error) {
        row.error = ready.message;
        await work.proc.stop();
        continue;
      }
      for (const id of programIds(proc.pid)) bench.programs.set(id, proc.name);
      const c0 = cpuNs(proc.pid);
      await work.run();
      const doneLine = () => /^(\{.*\})$/m.exec(proc.stdout)?.[1];
      let done = await proc.waitFor(doneLine, 15_000);
      if (!done) { proc.write('end\n'); done = await proc.waitFor(doneLine, 5_000); }
      const c1 = cpuNs(proc.pid);
      proc.endInput();
      await Promise.race([proc.exited, sleep(5000)]);
      await proc.stop();
      if (!done || c0 === null || c1 === null) { bench.log(`  ${row.runtime} ${row.buffer}: no result: ${firstErrorLine(proc.stderr)}`); continue; }
      const result = JSON.parse(done) as { received: number; drops: number };
      d.received.push(result.received);
      d.drops.push(result.drops);
      if (result.received > 0) d.us.push((c1 - c0) / 1e3 / result.received);
    }
  }
  for (const row of rows) {
    const d = data.get(row)!;
    row.usPerEvent = summarize(d.us);
    row.received = summarize(d.received);
    row.drops = summarize(d.drops);
  }
  return { events: n, rows };
}

export interface DrainResult {
  flows: number;
  batch?: boolean;
  /** Lookup-and-delete of every entry. */
  drainMs: Summary | null;
  /** Drain + rows + sort + table text: tcptop's whole interval. */
  intervalMs: Summary | null;
  error?: string;
}

export async function drain10k(bench: Bench): Promise<DrainResult> {
  const flows = 10_000;
  const proc = new Proc('binding:drain', {
    file: process.execPath,
    args: ['--import', 'tsx', path.join(HERE, 'flows-drain.ts'), String(flows), String(Math.max(bench.opts.reps, 3))],
    cwd: bench.setup.repo,
    env: { BPFKIT_COMPILE_CACHE_DIR: bench.warmCache },
  });
  const line = await proc.waitFor(() => /^(\{.*\})$/m.exec(proc.stdout)?.[1], 120_000);
  await Promise.race([proc.exited, sleep(5000)]);
  await proc.stop();
  if (!line) return { flows, drainMs: null, intervalMs: null, error: firstErrorLine(proc.stderr) || 'no result' };
  const r = JSON.parse(line) as { batch: boolean; drainMs: number[]; intervalMs: number[] };
  return { flows, batch: r.batch, drainMs: summarize(r.drainMs), intervalMs: summarize(r.intervalMs) };
}

// --- issue 8: the metrics exporter ------------------------------------------------------------

export interface ExporterResult {
  available: boolean;
  scrapeMs?: Summary | null;
  rssMB?: number | null;
  peakMB?: number | null;
  metricsBytes?: number;
  error?: string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** `bpfkit exporter` with all four tools loaded: scrape time and RSS. Not there yet: says so. */
export async function exporter(bench: Bench): Promise<ExporterResult> {
  const { installDir, repo } = bench.setup;
  // The bpfkit command as users run it (its sh launcher line starts node).
  const bpfkit = installDir ? path.join(installDir, 'node_modules/.bin/bpfkit') : path.join(repo, 'bin/bpfkit.ts');
  try {
    execFileSync(bpfkit, ['exporter', '--help'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  } catch (err) {
    const e = err as { stderr?: Buffer; stdout?: Buffer };
    return { available: false, error: `bpfkit exporter: ${firstErrorLine(e.stderr?.toString() ?? '', e.stdout?.toString() ?? '') || 'not available'}` };
  }
  const port = await freePort();
  const proc = new Proc('exporter', {
    file: bpfkit,
    args: ['exporter', '--tools', 'syscount,biolatency,tcptop,execsnoop', '--listen', `127.0.0.1:${port}`],
    env: { BPFKIT_READY: '1', BPFKIT_COMPILE_CACHE_DIR: bench.warmCache },
  });
  try {
    const deadline = Date.now() + 90_000;
    let healthy = false;
    while (!healthy && Date.now() < deadline && proc.running) {
      try { healthy = (await fetch(`http://127.0.0.1:${port}/healthz`)).ok; } catch { await sleep(200); }
    }
    if (!healthy) return { available: true, error: `not serving: ${firstErrorLine(proc.stderr, proc.stdout) || 'no /healthz'}` };
    for (const id of programIds(proc.pid)) bench.programs.set(id, 'exporter');
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      times.push(performance.now() - t0);
      bytes = body.length;
      await sleep(100);
    }
    const mem = memory(proc.pid);
    return { available: true, scrapeMs: summarize(times), rssMB: mem?.rssMB ?? null, peakMB: mem?.peakMB ?? null, metricsBytes: bytes };
  } finally {
    await proc.stop();
  }
}
