#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// syscount  Summarize syscall counts and latencies, by syscall or by process.
//           bcc's syscount.py (same options, same output), through libbcc (bcc-node-bindings).
//
// USAGE: syscount [-h] [-p PID] [-t TID] [-c PPID] [-i INTERVAL] [-d DURATION] [-T TOP] [-x]
//                 [-e ERRNO] [-L] [-m] [-P] [-l] [--syscall SYSCALL] [--cgroup PATH]
//                 [--metrics ADDR] [--metrics-and-print] [--series-limit N] [--json] [--explain]
//                 [--ebpf] [--no-cache] [--chart] [--exec COMMAND ...]
//
// With --exec it exits with the command's status (128+N when signal N ended it), as time does.
// What it traces and why, the differences from bcc, --json and the metrics: tools/syscount/README.md;
// real runs: tools/syscount/syscount_example.txt.
import fs from 'node:fs';
import { sumValues, type PerCpuTable } from 'bcc-node-bindings';
import { runTool, type ToolContext } from '../../lib/run/tool.ts';
import { UsageError } from '../../lib/run/cli.ts';
import { HeldCommand } from '../../lib/run/held-command.ts';
import { clock } from '../../lib/output/format.ts';
import { LiveChart } from '../../lib/output/chart.ts';
import { startMetrics } from '../../lib/metrics/agent.ts';
import { spec, type Options } from './options.ts';
import { MAX_PROCESSES, configureSyscount } from './program.ts';
import { haveSyscallTable, syscallName, syscalls } from '../../lib/kernel/syscalls.ts';
import {
  IntervalDeltas, intervalJson, intervalText, listColumns, topRows, type ReportOptions, type Row,
} from './report.ts';
import { syscountCollector } from './metrics.ts';

// Top rows charted with --chart (more lines than this are hard to tell apart).
const CHART_SERIES = 5;

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  const command = o.rest;
  const targets = [o.pid !== undefined && '-p', o.tid !== undefined && '-t', o.ppid !== undefined && '-c', command.length > 0 && '--exec'].filter(Boolean);
  if (targets.length > 1) throw new UsageError(`${targets.join(' and ')} exclude each other: use one`);
  if (o.json && o.chart) throw new UsageError('--json and --chart exclude each other');

  if (o.list) {
    if (!haveSyscallTable()) ctx.warn(`no syscall table for ${process.arch} yet: nothing to list`);
    for (const line of listColumns(syscalls().map((s) => s.name))) ctx.print(line);
    return;
  }
  if (!haveSyscallTable()) ctx.warn(`no syscall table for ${process.arch} yet: syscalls print as [unknown: N]`);
  if (o.metrics && o.process) throw new UsageError('--metrics counts by syscall: -P is not supported with it');
  const metrics = await startMetrics(ctx);

  // --exec: the command is started now, held, so its PID can go into the program. With --ebpf it
  // is not started, and the printed program filters on PID 0 (off).
  const held = command.length && !o.ebpf ? HeldCommand.start(command) : null;
  try {
    const program = configureSyscount({
      failures: o.failures, errno: o.errno, latency: o.latency, byProcess: o.process,
      pid: o.pid ?? held?.pid, tid: o.tid, ppid: o.ppid, cgroup: o.cgroup !== undefined, syscall: o.syscall,
      metrics: metrics !== null,
    });
    const bpf = ctx.load({ ...program, autoAttach: false });
    // The cgroup goes into the map before any probe runs, so no call is judged without it.
    if (o.cgroup !== undefined) {
      const fd = fs.openSync(o.cgroup, 'r');
      try { bpf.table('cgroup').set(0, fd); } finally { fs.closeSync(fd); }
    }
    ctx.attach(bpf, program);

    if (!o.json && !metrics?.only) {
      const failed = o.failures ? 'failed ' : '';
      ctx.print(o.syscall !== undefined
        ? `Tracing ${failed}syscall '${syscallName(o.syscall)}'... Ctrl+C to quit.`
        : `Tracing ${failed}syscalls, printing top ${o.top}... Ctrl+C to quit.`);
    }
    if (held) {
      await held.held();
      held.release();
      void held.exited.then(() => ctx.stop());
    }

    if (metrics) {
      metrics.add(syscountCollector(bpf, { seriesLimit: metrics.seriesLimit, latency: o.latency, errors: o.errno ?? (o.failures ? 'any' : undefined) }));
      if (metrics.only) await metrics.serveUntilStopped();
    }
    if (!metrics?.only) {
      const read = o.process ? processReader(bpf.table('processes'), bpf.table('dropped')) : syscallReader(bpf.table('counts'), bpf.table('wide_counts'));
      await reportLoop(ctx, read, held);
    }
    // As time, strace and perf stat do: the command's status is the run's. A command still
    // running (-d ended the trace) is ended first, and waited for.
    if (held) ctx.exitCode = await held.end();
  } catch (err) {
    held?.kill();
    throw err;
  }
});

/** A function that returns what was counted since its previous call. */
type Reader = () => { rows: Row[]; lost: number };

type Stats = { count: bigint; total_ns?: bigint };

/** By syscall: both tables hold running totals, never cleared (so --metrics can read them too). */
function syscallReader(counts: PerCpuTable<number, Stats>, wide: PerCpuTable<number, Stats>): Reader {
  const totals = new IntervalDeltas();
  return () => {
    const current = new Map<number, { count: number; totalNs: number }>();
    for (const table of [counts, wide]) {
      for (const [nr, perCpu] of table.entries()) {
        const s = sumValues(perCpu);
        if (s.count > 0n) current.set(nr, { count: Number(s.count), totalNs: Number(s.total_ns ?? 0n) });
      }
    }
    return { rows: totals.delta(current), lost: 0 };
  };
}

type ProcessStats = { count: bigint; total_ns: bigint; comm: string; final: bigint };

function processReader(processes: PerCpuTable<number, ProcessStats>, dropped: PerCpuTable<number, bigint>): Reader {
  let droppedBefore = 0;
  return () => {
    const rows: Row[] = [];
    for (const [pid, perCpu] of processes.drain()) {
      const s = sumValues(perCpu);
      const kept = perCpu.find((v) => v.final) ?? perCpu.find((v) => v.comm);
      rows.push({ key: pid, count: Number(s.count), totalNs: Number(s.total_ns), comm: liveComm(pid) ?? (kept?.comm || '[unknown]') });
    }
    const droppedNow = Number(dropped.sum(0) ?? 0n);
    const lost = droppedNow - droppedBefore;
    droppedBefore = droppedNow;
    return { rows, lost };
  };
}

/** What bcc shows: the process's current name, while it lives. */
function liveComm(pid: number): string | null {
  try { return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trimEnd(); } catch { return null; }
}

async function reportLoop(ctx: ToolContext<Options>, read: Reader, held: HeldCommand | null): Promise<void> {
  const o = ctx.opts;
  const report: ReportOptions = { byProcess: o.process, latency: o.latency, milliseconds: o.milliseconds, top: o.top };
  // bcc: -d alone prints once at the end; --chart needs points, so it defaults to one a second.
  const intervalMs = (o.interval ?? (o.chart ? 1 : o.duration) ?? Infinity) * 1000;
  const started = Date.now();
  const endAt = o.duration !== undefined ? started + o.duration * 1000 : Infinity;
  const chart = o.chart ? new LiveChart({ title: `syscalls per second (top ${Math.min(CHART_SERIES, o.top)} of each interval)` }) : null;
  let tickStart = started;
  let lastRead = process.hrtime.bigint();

  for (;;) {
    const target = Math.min(tickStart + intervalMs, endAt);
    const slept = await sleepUntil(ctx, target);
    const exiting = !slept || target >= endAt || Boolean(held?.hasExited);
    const now = process.hrtime.bigint();
    const seconds = Number(now - lastRead) / 1e9;
    lastRead = now;
    const { rows, lost } = read();
    const time = clock();
    if (lost > 0) ctx.warn(`${lost} calls not counted: the per-process table (${MAX_PROCESSES}) was full`);
    if (chart) {
      chart.push(Object.fromEntries(topRows(rows, { latency: false, top: Math.min(CHART_SERIES, o.top) })
        .map((r) => [rowLabel(r, o.process), r.count / seconds])));
      chart.draw();
    } else if (o.json) {
      ctx.json(intervalJson(time, seconds, rows, report, syscallName, lost));
    } else {
      for (const line of intervalText(time, rows, report, syscallName)) ctx.print(line);
    }
    if (exiting) break;
    tickStart = target;
  }
  if (!o.json) ctx.print('Detaching...');
}

function rowLabel(row: Row, byProcess: boolean): string {
  return byProcess ? `${row.key} ${row.comm}` : syscallName(row.key);
}

/** Sleeps until `target` (ms since the epoch; Infinity: until stopped). False when stopped first. */
async function sleepUntil(ctx: ToolContext<Options>, target: number): Promise<boolean> {
  // A pending timer also keeps Node running: awaiting ctx.stopped alone would let it exit.
  for (;;) {
    const left = target - Date.now();
    if (left <= 0) return true;
    // setTimeout takes at most 2^31-1 ms (about 24 days); bcc's "no interval" is 99999999 s.
    if (!(await ctx.sleep(Math.min(left, 2 ** 31 - 1)))) return false;
  }
}

