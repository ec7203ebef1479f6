#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// syscount  Summarize syscall counts and latencies.
//           For Linux, uses BPF through libbcc (bcc-node-bindings).
//
// USAGE: syscount [-h] [-p PID] [-t TID] [-c PPID] [-i INTERVAL] [-d DURATION] [-T TOP] [-x]
//                 [-e ERRNO] [-L] [-m] [-P] [-l] [--syscall SYSCALL] [--cgroup PATH]
//                 [--metrics ADDR] [--metrics-and-print] [--series-limit N] [--json] [--explain]
//                 [--ebpf] [--no-cache] [--chart] [--exec COMMAND ...]
//
// Counts every system call on the machine (or of one process, thread, parent's children, cgroup or
// command), by syscall or by process, optionally with the total time spent in them, and prints the
// top ones per interval. bcc's syscount.py, same options and same output.
//
// What it traces, and why (tools/syscount/syscount.bpf.c has the details): this tool runs on every syscall of
// busy hosts, so it attaches where a call costs least. The raw tracepoints sys_enter/sys_exit come
// first (no tracepoint record is built); the raw_syscalls:sys_enter/sys_exit tracepoints are the
// fallback. Counting by syscall adds to a per-CPU array indexed by syscall number (no hash, no
// atomic). Plain counting needs only sys_enter; -x/-e need the result (sys_exit); -L needs both,
// plus sched_process_exit to drop each thread's start entry when the thread ends. Measured here
// per getppid() call: about 80 ns added by default, against about 190 ns for bcc's syscount.
//
// Differences from bcc, and why:
// - Plain counting (no -x, -e or -L) counts at sys_enter where bcc counts at sys_exit: it halves the
//   probes, and counts calls that never return (exit, exit_group) or are still blocked.
// - -L never leaks: each thread's start entry is reused for its calls and deleted when the thread
//   exits (sched_process_exit), and the table is LRU, so new threads are always measured (bcc never
//   deletes them and stops measuring new threads once 10240 fill up).
// - -x counts results the kernel itself calls errors (-4095..-1), not every negative value.
// - -c reads the parent at offsets from the running kernel's BTF, not from compile-time headers.
// - -P keeps each process's name as of its first counted call and its exit_group, so processes
//   that exited before the print still show one (bcc prints [unknown]); a live process shows
//   /proc/PID/comm as in bcc.
// - --exec stops the tool when the command exits, also without -i (bcc only noticed at the next
//   interval), and runs it by its full path: no failed execve() per PATH entry in the counts (see
//   lib/run/held-command.ts). -p, -t, -c and --exec exclude each other (bcc silently used one of them).
// - Names come from tools/syscount/syscalls.ts (generated from the kernel's syscall table, checked against this
//   kernel's tracepoints), not from ausyscall or a Python table.
// - Added: --cgroup PATH (cgroup v2, this cgroup and below), --json, --chart, --explain, and
//   --metrics (Prometheus, tools/syscount/metrics.ts: it reads the same never-cleared totals).
// Limits shared with bcc: 32-bit (ia32) processes on x86_64 make calls with ia32 numbers, which are
// counted under the x86_64 name of the same number (likewise 32-bit tasks on arm64). Name tables:
// x86_64 and arm64 (tools/syscount/syscalls.ts); elsewhere ids print as [unknown: N].
//
// --json prints one object per interval (see tools/syscount/report.ts, intervalJson):
//   {"time":"HH:MM:SS","interval_s":1.001,"rows":[{"syscall":"write","id":1,"count":12}, ...]}
//   with -P rows are {"pid":123,"comm":"dd","count":12}; with -L rows add "total_ns"; "lost" counts
//   calls that found the per-process table full. No banner and no "Detaching..." in this mode.
import fs from 'node:fs';
import {
  type PerCpuTable, kernelBtf, rawTracepointSupported, sumValues, tracepointExists,
} from 'bcc-node-bindings';
import { runTool, type ToolContext } from '../../lib/run/tool.ts';
import { UsageError, existingPid, type ToolSpec } from '../../lib/run/cli.ts';
import { cgroupV2Path } from '../../lib/kernel/cgroups.ts';
import { chooseAttach, type AttachChoice } from '../../lib/run/attach-plan.ts';
import { taskParentOffsets } from '../../lib/kernel/offsets.ts';
import { clock } from '../../lib/output/format.ts';
import { LiveChart } from '../../lib/output/chart.ts';
import { HeldCommand } from '../../lib/run/held-command.ts';
import { parseErrno } from '../../lib/kernel/errno.ts';
import { haveSyscallTable, syscallByName, syscallName, syscalls } from './syscalls.ts';
import {
  RunningTotals, intervalJson, intervalText, listColumns, topRows, type ReportOptions, type Row,
} from './report.ts';
import { METRICS_OPTIONS, startMetrics, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { syscountCollector } from './metrics.ts';

const spec: ToolSpec = {
  name: 'syscount',
  description: 'Summarize syscall counts and latencies.',
  options: [
    { long: 'pid', short: 'p', type: 'int', help: 'trace only this pid', parse: existingPid },
    { long: 'tid', short: 't', type: 'int', help: 'trace only this tid', parse: existingPid },
    { long: 'ppid', short: 'c', type: 'int', help: 'trace only child of this pid', parse: existingPid },
    { long: 'interval', short: 'i', type: 'int', min: 1, max: 99999999, help: 'print summary at this interval (seconds)' },
    { long: 'duration', short: 'd', type: 'int', min: 1, max: 99999999, help: 'total duration of trace, in seconds' },
    { long: 'top', short: 'T', type: 'int', min: 1, max: 100000, default: 10, help: 'print only the top syscalls by count or latency' },
    { long: 'failures', short: 'x', type: 'boolean', help: 'trace only failed syscalls (return < 0)' },
    { long: 'errno', short: 'e', type: 'string', parse: errnoOption, help: 'trace only syscalls that return this error (numeric or EPERM, etc.)' },
    { long: 'latency', short: 'L', type: 'boolean', help: 'collect syscall latency' },
    { long: 'milliseconds', short: 'm', type: 'boolean', help: 'display latency in milliseconds (default: microseconds)' },
    { long: 'process', short: 'P', type: 'boolean', help: 'count by process and not by syscall' },
    { long: 'list', short: 'l', type: 'boolean', help: 'print list of recognized syscalls and exit' },
    { long: 'syscall', type: 'string', parse: syscallOption, help: 'trace this syscall only (use option -l to get all recognized syscalls)' },
    { long: 'cgroup', type: 'string', metavar: 'PATH', parse: cgroupV2Path, help: 'trace only tasks in this cgroup v2 directory (and below it; relative to the v2 mount)' },
    ...METRICS_OPTIONS,
  ],
  restAfter: 'exec',
  chart: true,
  examples: [
    ['syscount', 'count syscalls, print the top 10 on Ctrl-C'],
    ['syscount -P', 'count syscalls by process'],
    ['syscount -i 1', 'print the top 10 syscalls every second'],
    ['syscount -i 1 -d 3', 'print every second, stop after three seconds'],
    ['syscount -p 181', 'only process 181'],
    ['syscount -t 181', 'only thread 181'],
    ['syscount -c 181', 'only children of process 181'],
    ['syscount -x', 'count only failed syscalls'],
    ['syscount -e ENOENT', 'count only syscalls that failed with ENOENT'],
    ['syscount -L', 'also measure time spent in syscalls (µs)'],
    ['syscount -L -m -P', 'time by process, in ms'],
    ['syscount --syscall write -P', 'count only write() calls, by process'],
    ['syscount --cgroup system.slice', 'only tasks in this cgroup v2 (and below)'],
    ['syscount -l', 'list the syscall names this tool knows'],
    ['syscount --exec ls -l /tmp', 'run ls -l /tmp and count only its syscalls'],
    ['syscount --json -i 1', 'one JSON object per second'],
    ['syscount --chart', 'chart calls/s of the top syscalls, every second'],
    ['syscount --metrics 9435', 'serve calls per syscall to Prometheus (tools/syscount/metrics.ts)'],
  ],
};

interface Options extends MetricsOptions {
  pid?: number; tid?: number; ppid?: number; interval?: number; duration?: number; top: number;
  failures: boolean; errno?: number; latency: boolean; milliseconds: boolean; process: boolean;
  list: boolean; syscall?: number; cgroup?: string;
}

// Syscall numbers the per-CPU array covers; anything above (x32's) goes to a small hash.
const NR_SLOTS = Math.max(512, 2 ** Math.ceil(Math.log2(Math.max(...syscalls().map((s) => s.nr), 0) + 1)));
const MAX_PROCESSES = 16384;
const MAX_THREADS = 16384;
// Top rows charted with --chart (more lines than this are hard to tell apart).
const CHART_SERIES = 5;

function errnoOption(text: string): number {
  const n = parseErrno(text);
  if (n === undefined) throw new UsageError(`couldn't map ${text} to an errno`);
  return n;
}

function syscallOption(text: string): number {
  if (/^\d+$/.test(text)) {
    const nr = Number(text);
    if (nr >= NR_SLOTS) throw new UsageError(`syscall number ${nr} is out of range (0 to ${NR_SLOTS - 1})`);
    return nr;
  }
  const found = syscallByName(text);
  if (!found) throw new UsageError(`syscall '${text}' not found (syscount -l lists them)`);
  return found.nr;
}

/** Where struct pt_regs keeps the syscall number, for a raw sys_exit (which gets only regs and ret). */
function syscallNrInRegs(): { offset: number; size: number } | null {
  const field = process.arch === 'x64' ? 'orig_ax' : process.arch === 'arm64' ? 'syscallno' : null;
  if (!field) return null;
  try {
    const at = kernelBtf().fieldLocation('pt_regs', field);
    return at ? { offset: at.offset, size: at.size } : null;
  } catch {
    return null;
  }
}

interface Hook {
  purpose: string;
  category: string;
  event: string;
  /** Why the raw tracepoint would not do in this mode, or null. */
  rawNeeds?: string | null;
}

interface PlannedHook extends Hook {
  raw: boolean;
  choice: AttachChoice;
}

/** Each event as a raw tracepoint (cheapest: no record built) or else as a tracepoint. */
function planHook(hook: Hook): PlannedHook {
  const { value, choice } = chooseAttach(hook.purpose, [
    {
      label: `raw tracepoint ${hook.event}`,
      unavailable: () => (!rawTracepointSupported() ? 'this kernel has no raw tracepoints (4.17+)' : hook.rawNeeds ?? null),
      value: true,
    },
    {
      label: `tracepoint ${hook.category}:${hook.event}`,
      unavailable: () => (tracepointExists(hook.category, hook.event) ? null : 'no such tracepoint in tracefs'),
      value: false,
    },
  ]);
  return { ...hook, raw: value, choice };
}

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

  // --- configuration → program ---
  // Plain counting needs sys_enter only; the result (-x, -e) needs sys_exit; -L needs both, and
  // thread exits to drop each thread's start entry.
  const countAtExit = o.failures || o.errno !== undefined || o.latency;
  const regsNr = countAtExit && !o.latency ? syscallNrInRegs() : null;
  const enter = !countAtExit || o.latency ? planHook({ purpose: 'syscall enter', category: 'raw_syscalls', event: 'sys_enter' }) : null;
  const exit = countAtExit ? planHook({
    purpose: 'syscall exit', category: 'raw_syscalls', event: 'sys_exit',
    rawNeeds: o.latency || regsNr ? null : 'the syscall number is at no known pt_regs field for this architecture',
  }) : null;
  const threadExit = o.latency ? planHook({ purpose: 'thread exit (drops its -L start entry)', category: 'sched', event: 'sched_process_exit' }) : null;

  // --exec: the command is started now, held, so its PID can go into the program.
  const held = command.length && !o.ebpf ? HeldCommand.start(command) : null;
  try {
    const defines = {
      ENTER_RAW: enter?.raw ?? false,
      EXIT_RAW: exit?.raw ?? false,
      THREAD_EXIT_RAW: threadExit?.raw ?? false,
      LATENCY: o.latency,
      BY_PROCESS: o.process,
      FILTER_FAILED: o.failures,
      FILTER_ERRNO: o.errno ?? 0,
      // With --ebpf and --exec the command is not started, so it has no PID yet: 0.
      FILTER_PID: o.pid ?? held?.pid ?? 0,
      FILTER_TID: o.tid ?? 0,
      FILTER_PPID: o.ppid ?? 0,
      FILTER_CGROUP: o.cgroup !== undefined,
      FILTER_SYSCALL: o.syscall ?? -1,
      NR_SLOTS,
      MAX_PROCESSES,
      MAX_THREADS,
      NR_EXIT_GROUP: syscallByName('exit_group')?.nr ?? -2,
      ...(regsNr ? { REGS_NR_OFFSET: regsNr.offset, REGS_NR_SIZE: regsNr.size } : {}),
      ...(o.ppid !== undefined ? taskParentOffsets() : {}),
      // Only for Prometheus: failures by errno, and each call's time in log2 buckets.
      METRICS_ERRNO: metrics !== null && o.failures,
      METRICS_LATENCY_HIST: metrics !== null && o.latency,
    };
    const bpf = ctx.load({ file: 'syscount.bpf.c', defines, autoAttach: false });

    // The cgroup goes into the map before any probe runs, so no call is judged without it.
    if (o.cgroup !== undefined) {
      const fd = fs.openSync(o.cgroup, 'r');
      try { bpf.table('cgroup').set(0, fd); } finally { fs.closeSync(fd); }
    }
    // Thread exits first and sys_enter last, so no start entry is made that could not be dropped.
    for (const { raw, category, event } of [threadExit, exit, enter].filter((h) => h !== null)) {
      if (raw) bpf.attachRawTracepoint({ tp: event, fnName: `raw_tracepoint__${event}` });
      else bpf.attachTracepoint({ tp: `${category}:${event}`, fnName: `tracepoint__${category}__${event}` });
    }
    ctx.attached(bpf, [enter, exit, threadExit].flatMap((plan) => (plan ? [plan.choice] : [])));

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
      if (metrics.only) return await metrics.serveUntilStopped();
    }
    const read = o.process ? processReader(bpf.table('processes'), bpf.table('dropped')) : syscallReader(bpf.table('counts'), bpf.table('wide_counts'));
    await reportLoop(ctx, read, held);
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
  const totals = new RunningTotals();
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

