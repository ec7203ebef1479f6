#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// execsnoop  Trace new processes via exec() syscalls.
//            bcc's execsnoop on bpfkit: one record per exec, built in the kernel.
//
// USAGE: execsnoop [-h] [-T] [-t] [-x] [--cgroupmap CGROUPMAP] [--mntnsmap MNTNSMAP] [-u USER]
//                  [-q] [-n NAME] [-l LINE] [-U] [-C] [-M] [--max-args MAX_ARGS] [-P PPID]
//                  [-c PATH] [--json] [--explain] [--ebpf] [--no-cache]
//
// This won't catch all new processes: an application may fork() but not exec().
//
// What it traces, and why there:
// - Successful execs: the tracepoint sched:sched_process_exec, which fires once the new program
//   is in place. Its comm is already the new one, its PID is right even when a thread other than
//   the leader called exec(), and the arguments are read in one piece from the argument area the
//   kernel has just written into the new process (so they cannot be missing because a page was
//   not faulted in yet, bcc#3343). One program runs per exec, and it sends one record.
// - Failed execs (-x): the syscalls' own hooks, execve and execveat: the tracepoints
//   syscalls:sys_enter_/sys_exit_execve[at], or kprobes on the syscall functions where a kernel
//   is built without syscall tracepoints. The entry notes the caller's filename and argv, the
//   exit reads them back when the return value is an error.
// - PPID, PCOMM and the argument area are read at struct offsets taken from the running
//   kernel's BTF, because the kernel headers may be another kernel's (they are on some machines).
// - Records go through a ring buffer (Linux 5.8+), else a perf buffer; records the kernel could
//   not deliver are counted and reported on stderr ("execsnoop: lost N events").
// - `--explain` shows which attach points won and why the others were passed over. The C program
//   is tools/execsnoop/execsnoop.bpf.c.
//
// Differences from bcc's execsnoop, and why:
// - execveat() is traced too (bcc and libbpf-tools miss fexecve and runc's exec by fd); its file
//   name shows as /dev/fd/N when a file descriptor was executed.
// - Exactly --max-args arguments are shown without "...": bcc prints "..." whenever argv has
//   --max-args entries or more, so 20 and 21 arguments looked the same. --max-args is checked
//   (1 to 60, libbpf-tools' limit).
// - An argument longer than 128 bytes (bcc's ARGSIZE) is cut there and marked "..." (bcc cuts
//   it silently). The trailing "..." for more arguments stays unquoted with -q, so that it cannot
//   be mistaken for an argument "...".
// - The syscall hooks are attached only with -x: successes need none of them, so each exec runs
//   one BPF program instead of bcc's (or libbpf-tools') two. As successes come from
//   sched_process_exec, execs the kernel itself starts (usermode helpers such as modprobe or a
//   core-dump pipe) are shown too.
// - -u 0 (or -u root) filters for root; bcc ignores it.
// - -n matches the command name only, as bcc's code does (its help text says "any arg").
// - TIME and TIME(s) are when the exec happened (the kernel's clock), not when it was printed.
//   Rows appear up to 50 ms after the exec (see DRAIN_DELAY_MS).
// - Column labels are bcc's Python tool's (COMM for the process's own name, PCOMM with -M for
//   its parent's); libbpf-tools labels the first column PCOMM.
// - New: -c/--cgroup PATH (processes in this cgroup v2 subtree only, as libbpf-tools' -c),
//   --json, --explain. --cgroupmap/--mntnsmap take bcc's pinned maps, checked before use (a hash
//   map with bcc's key and value sizes); the user's path never enters the C program, which names
//   a second pin made from execsnoop's PID instead (lib/kernel/pinned-maps.ts).
//
// --json prints one object per exec, with the same values as the text columns:
//   {"time":"HH:MM:SS","timestamp":seconds since start,"uid","comm","pid","pcomm","ppid","cpu",
//    "ret":0 or -errno,"args":[file name, argv[1], …],"args_truncated":bool}
//
// Copyright 2016 Netflix, Inc. (bcc's execsnoop, by Brendan Gregg, whose output this reproduces).
import fs from 'node:fs';
import {
  kprobesAvailable, possibleCpus, ringBufferSupported, tracepointExists,
  type BPF, type PerCpuTable, type PerfEventArray, type RingBufTable,
} from 'bcc-node-bindings';
import { runTool } from '../../lib/run/tool.ts';
import { PID_OPTION_RANGE, existingPid, regex, uidFromUser, type ToolSpec } from '../../lib/run/cli.ts';
import { chooseAttach, type AttachCandidate } from '../../lib/run/attach-plan.ts';
import { mountNamespaceOffsets, taskParentOffsets, argAreaOffsets, taskCommOffset } from '../../lib/kernel/offsets.ts';
import { CGROUP_MAP, CONTAINER_MAP_OPTIONS, MNTNS_MAP, containerFilters, openPinnedMap } from '../../lib/kernel/pinned-maps.ts';
import { cgroupV2Path } from '../../lib/kernel/cgroups.ts';
import { syscallFunction } from '../../lib/kernel/kallsyms.ts';
import { clock } from '../../lib/output/format.ts';
import {
  DEFAULT_MAX_ARGS, argsLine, decodeExecRecord, headerLine, jsonLine, rowLine, type ColumnOptions,
} from './events.ts';
import { METRICS_OPTIONS, startMetrics, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { execsnoopCollector } from './metrics.ts';

const spec: ToolSpec = {
  name: 'execsnoop',
  description: 'Trace exec() syscalls',
  options: [
    { long: 'time', short: 'T', type: 'boolean', help: 'include time column on output (HH:MM:SS)' },
    { long: 'timestamp', short: 't', type: 'boolean', help: 'include timestamp on output' },
    { long: 'fails', short: 'x', type: 'boolean', help: 'include failed exec()s' },
    ...CONTAINER_MAP_OPTIONS,
    { long: 'uid', short: 'u', type: 'string', metavar: 'USER', parse: uidFromUser, help: 'trace this UID only' },
    { long: 'quote', short: 'q', type: 'boolean', help: 'Add quotemarks (") around arguments.' },
    { long: 'name', short: 'n', type: 'string', metavar: 'NAME', parse: regex, help: 'only print commands matching this name (regex)' },
    { long: 'line', short: 'l', type: 'string', metavar: 'LINE', parse: regex, help: 'only print commands where arg contains this line (regex)' },
    { long: 'print-uid', short: 'U', type: 'boolean', help: 'print UID column' },
    { long: 'print-cpu', short: 'C', type: 'boolean', help: 'print CPU column' },
    { long: 'print-pcomm', short: 'M', type: 'boolean', help: 'print parent command' },
    { long: 'max-args', type: 'int', min: 1, max: 60, default: DEFAULT_MAX_ARGS, metavar: 'MAX_ARGS', help: 'maximum number of arguments parsed and displayed, defaults to 20' },
    { long: 'ppid', short: 'P', type: 'int', ...PID_OPTION_RANGE, parse: existingPid, metavar: 'PPID', help: 'trace this parent PID only' },
    { long: 'cgroup', short: 'c', type: 'string', metavar: 'PATH', parse: cgroupV2Path, help: 'trace processes in this cgroup v2 subtree only' },
    ...METRICS_OPTIONS,
  ],
  examples: [
    ['execsnoop', 'trace all exec() syscalls'],
    ['execsnoop -x', 'include failed exec()s'],
    ['execsnoop -T', 'include time (HH:MM:SS)'],
    ['execsnoop -P 181', 'only trace new processes whose parent PID is 181'],
    ['execsnoop -U', 'include UID'],
    ['execsnoop -C', 'include CPU'],
    ['execsnoop -M', 'include PCOMM'],
    ['execsnoop -u 1000', 'only trace UID 1000'],
    ['execsnoop -u user', 'get user UID and trace only them'],
    ['execsnoop -t', 'include timestamps'],
    ['execsnoop -q', 'add "quotemarks" around arguments'],
    ['execsnoop -n main', 'only print commands whose name matches "main" (regex)'],
    ['execsnoop -l tpkg', 'only print command where arguments contains "tpkg"'],
    ['execsnoop --cgroupmap mappath', 'only trace cgroups in this BPF map'],
    ['execsnoop --mntnsmap mappath', 'only trace mount namespaces in the map'],
    ['execsnoop -c /sys/fs/cgroup/system.slice', 'only trace processes in this cgroup v2 subtree'],
    ['execsnoop --json', 'one JSON object per exec'],
    ['execsnoop -x --metrics 9435', 'serve execs and failed execs per command to Prometheus'],
  ],
};

interface Options extends MetricsOptions {
  time: boolean;
  timestamp: boolean;
  fails: boolean;
  cgroupmap?: string;
  mntnsmap?: string;
  uid?: number;
  quote: boolean;
  name?: RegExp;
  line?: RegExp;
  'print-uid': boolean;
  'print-cpu': boolean;
  'print-pcomm': boolean;
  'max-args': number;
  ppid?: number;
  cgroup?: string;
}

// After the first record of a burst, wait this long before reading the buffer. Each wake-up
// costs more than the records it reads at exec rates (2 ms: ~43 µs of CPU per exec in a
// 10,000-exec burst here; 50 ms: ~10 µs), and 50 ms is too short to see. The ring buffer
// holds thousands of records meanwhile (see ringBufferPages).
const DRAIN_DELAY_MS = 50;

/**
 * Ring buffer size in pages: the room libbpf-tools' execsnoop gives its perf buffer (64 pages per
 * CPU), at least 512 KiB, a power of two as the kernel requires. A record is ~100-300 bytes, so
 * that is thousands of execs between two drains. Every page is mapped into this process twice
 * (the kernel maps the data area back to back), so the size shows in RSS twice: a fixed 4 MiB
 * cost 8 MB of RSS on every machine.
 */
function ringBufferPages(): number {
  const wanted = Math.max(128, 64 * possibleCpus().length);
  return 2 ** Math.ceil(Math.log2(wanted));
}

// How a syscall's entry and exit are hooked (HOOK_* in the C program).
const HOOK = { NONE: 0, TRACEPOINT: 1, KPROBE: 2 } as const;
type Hook = { kind: number; fn: string };

/** The syscall tracepoints, else kprobes on its kernel function (bcc's only way). */
function syscallHooks(syscall: 'execve' | 'execveat'): AttachCandidate<Hook>[] {
  // Looked up only when the tracepoints are missing: reading /proc/kallsyms takes 100 ms.
  let fn: string | null | undefined;
  const kernelFunction = () => (fn === undefined ? (fn = syscallFunction(syscall)) : fn);
  return [
    {
      label: `tracepoints syscalls:sys_enter_${syscall} and sys_exit_${syscall}`,
      unavailable: () => tracepointExists('syscalls', `sys_enter_${syscall}`) && tracepointExists('syscalls', `sys_exit_${syscall}`)
        ? null : 'this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS is off)',
      value: { kind: HOOK.TRACEPOINT, fn: '' },
    },
    {
      get label() { return `kprobe and kretprobe on ${kernelFunction() ?? `the ${syscall} syscall function`}`; },
      unavailable: () => !kprobesAvailable() ? 'this kernel has no kprobes'
        : kernelFunction() === null ? `no ${syscall} syscall function in /proc/kallsyms` : null,
      get value() { return { kind: HOOK.KPROBE, fn: kernelFunction() ?? '' }; },
    },
    // execveat() arrived in 3.19; a kernel without it has nothing more to trace.
    ...(syscall === 'execveat' ? [{ label: 'nothing (no execveat hook on this kernel)', unavailable: () => null, value: { kind: HOOK.NONE, fn: '' } }] : []),
  ];
}

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  const maxArgs = o['max-args'];
  // --metrics: execs counted per command name from the same records (tools/execsnoop/metrics.ts).
  const metrics = await startMetrics(ctx);

  // Where to attach. Successes need only sched_process_exec; failures need the syscalls.
  const success = chooseAttach('successful exec()s', [
    {
      label: 'tracepoint sched:sched_process_exec',
      unavailable: () => tracepointExists('sched', 'sched_process_exec') ? null : 'no such tracepoint',
      value: 'exec-tracepoint',
    },
    { label: 'the exit of execve/execveat, hooked as below', unavailable: () => null, value: 'syscall-exit' },
  ]);
  const needSyscalls = o.fails || success.value === 'syscall-exit';
  const purpose = o.fails ? 'failed' : 'every';
  const execve = needSyscalls ? chooseAttach(`${purpose} execve()`, syscallHooks('execve')) : null;
  const execveat = needSyscalls ? chooseAttach(`${purpose} execveat()`, syscallHooks('execveat')) : null;
  const stream = chooseAttach('event records', [
    { label: 'ring buffer', unavailable: () => ringBufferSupported() ? null : 'needs Linux 5.8', value: true },
    { label: 'perf buffer', unavailable: () => null, value: false },
  ]);
  const useRing = stream.value;

  const attachments = [success.choice, ...(execve ? [execve.choice] : []), ...(execveat ? [execveat.choice] : []), stream.choice];

  const cgroupMap = o.cgroupmap ? openPinnedMap(o.cgroupmap, CGROUP_MAP) : null;
  const mntnsMap = o.mntnsmap ? openPinnedMap(o.mntnsmap, MNTNS_MAP) : null;

  const containers = containerFilters(cgroupMap, mntnsMap, !o.ebpf);
  let bpf: BPF;
  try {
    bpf = ctx.load({
      file: 'execsnoop.bpf.c',
      defines: {
        TRACE_FAILS: o.fails,
        SUCCESS_AT_EXEC_TP: success.value === 'exec-tracepoint',
        EXECVE_HOOK: execve?.value.kind ?? HOOK.NONE,
        EXECVEAT_HOOK: execveat?.value.kind ?? HOOK.NONE,
        MAX_ARGS: maxArgs,
        FILTER_UID: o.uid !== undefined,
        TARGET_UID: o.uid ?? 0,
        FILTER_PPID: o.ppid !== undefined,
        TARGET_PPID: o.ppid ?? 0,
        FILTER_CGROUP: o.cgroup !== undefined,
        ...containers.defines,
        ...(mntnsMap ? mountNamespaceOffsets() : {}),
        USE_RINGBUF: useRing,
        RINGBUF_PAGES: ringBufferPages(),
        ...taskParentOffsets(),
        ...taskCommOffset(),
        ...argAreaOffsets(),
      },
      attachments,
      autoAttach: false,
    });
  } finally {
    containers.unpin();
    for (const map of [cgroupMap, mntnsMap]) if (map) fs.closeSync(map.fd);
  }

  // The cgroup filter before attaching, so that nothing unfiltered is seen.
  if (o.cgroup) {
    const fd = fs.openSync(o.cgroup, 'r');
    try { bpf.table('cgroup_filter').set(0, fd); } finally { fs.closeSync(fd); }
  }

  // The output loop: one record per exec, lines gathered and written once per drain.
  const columns: ColumnOptions = {
    time: o.time, timestamp: o.timestamp, printUid: o['print-uid'], printPcomm: o['print-pcomm'],
    printCpu: o['print-cpu'], quote: o.quote,
  };
  let startNs = 0n;
  let wallOffsetMs = 0;
  const wantClock = o.json || o.time;
  const wantSeconds = o.json || o.timestamp;
  let clockSecond = -1;
  let clockText = '';
  const clockAt = (ts: bigint): string => {
    const second = Math.floor((Number(ts) / 1e6 + wallOffsetMs) / 1000);
    if (second !== clockSecond) {
      clockSecond = second;
      clockText = clock(new Date(second * 1000));
    }
    return clockText;
  };
  const lines: string[] = [];
  let flushQueued = false;
  const flush = () => {
    flushQueued = false;
    if (lines.length) ctx.print(lines.splice(0).join('\n'));
  };
  const onRecord = (record: Buffer) => {
    const ev = decodeExecRecord(record, maxArgs);
    if (ev.ret !== 0 && !o.fails) return;
    if (o.name && !o.name.test(ev.comm)) return;
    if (o.line && !o.line.test(argsLine(ev))) return;
    collector?.record(ev);
    if (metrics?.only) return;
    const time = wantClock ? clockAt(ev.ts) : '';
    const seconds = wantSeconds ? (Number(ev.ts - startNs) / 1e9).toFixed(3) : '';
    lines.push(o.json ? jsonLine(ev, time, seconds) : rowLine(ev, columns, time, seconds));
    if (!flushQueued) {
      flushQueued = true;
      setImmediate(flush);
    }
  };

  let lost = 0;
  let lostReported = 0;
  const reportLost = () => {
    if (useRing) lost = Number(bpf.table<PerCpuTable<number, bigint>>('lost').sum(0) ?? 0n);
    if (lost > lostReported) {
      ctx.warn(`lost ${lost - lostReported} events (the ${useRing ? 'ring' : 'perf'} buffer was full)`);
      lostReported = lost;
    }
  };
  // Open before attaching: a perf buffer drops what arrives before its readers exist.
  const events = useRing
    ? bpf.table<RingBufTable<Buffer>>('events').open(onRecord, { raw: true, coalesceMs: DRAIN_DELAY_MS })
    : bpf.table<PerfEventArray<Buffer>>('events').open(onRecord, {
      raw: true, coalesceMs: DRAIN_DELAY_MS, pageCount: 64, onLost: (n) => { lost += n; },
    });

  const collector = metrics ? execsnoopCollector({
    seriesLimit: metrics.seriesLimit,
    flush: () => events.flush(),
    lost: () => (useRing ? bpf.table<PerCpuTable<number, bigint>>('lost').sum(0) ?? 0n : BigInt(lost)),
  }) : null;
  if (collector) metrics!.add(collector);

  // TIME(s) counts from here. bpf_ktime_get_ns() and process.hrtime() both read CLOCK_MONOTONIC,
  // so a record's timestamp turns into wall time with one offset.
  startNs = process.hrtime.bigint();
  wallOffsetMs = Date.now() - Number(startNs) / 1e6;
  if (success.value === 'exec-tracepoint') {
    bpf.attachTracepoint({ tp: 'sched:sched_process_exec', fnName: 'tracepoint__sched__sched_process_exec' });
  }
  for (const [syscall, hook] of [['execve', execve], ['execveat', execveat]] as const) {
    if (hook?.value.kind === HOOK.TRACEPOINT) {
      bpf.attachTracepoint({ tp: `syscalls:sys_enter_${syscall}`, fnName: `tracepoint__syscalls__sys_enter_${syscall}` });
      bpf.attachTracepoint({ tp: `syscalls:sys_exit_${syscall}`, fnName: `tracepoint__syscalls__sys_exit_${syscall}` });
    } else if (hook?.value.kind === HOOK.KPROBE) {
      bpf.attachKprobe({ event: hook.value.fn, fnName: `syscall__${syscall}` });
      bpf.attachKretprobe({ event: hook.value.fn, fnName: 'exec_return' });
    }
  }

  if (!o.json && !metrics?.only) ctx.print(headerLine(columns));
  ctx.attached(bpf, attachments);
  const lostTimer = setInterval(reportLost, 1000);

  await ctx.stopped;
  clearInterval(lostTimer);
  events.flush();
  flush();
  reportLost();
});
