#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// profile  Profile CPU usage by sampling stack traces at a timed interval.
//          bcc's profile on bpfkit: perf events on every CPU, stacks counted in the kernel.
//
// USAGE: profile [-h] [-p PID | -L TID] [-U | -K] [-F FREQUENCY | -c COUNT] [-d] [-a] [-I] [-f]
//                [--stack-storage-size STACK_STORAGE_SIZE] [-C CPU] [--cgroupmap CGROUPMAP]
//                [--mntnsmap MNTNSMAP] [--svg FILE] [--json] [--explain] [--ebpf] [duration]
//
// Only the distinct stacks and their counts reach user space, at the end; user frames are named
// from each process's own files (containers too) and perf maps (JIT runtimes), kernel frames from
// kallsyms. What it samples and why, the differences from bcc and --json: tools/profile/README.md;
// real runs: tools/profile/profile_example.txt.
//
// Copyright 2016 Netflix, Inc. (bcc's profile, by Brendan Gregg, whose output this reproduces).
import fs from 'node:fs';
import { Symbolizer, type HashTable, type StackTraceTable, type ArrayTable } from 'bcc-node-bindings';
import { runTool } from '../../lib/run/tool.ts';
import { CGROUP_MAP, MNTNS_MAP, containerFilters, openPinnedMap } from '../../lib/kernel/pinned-maps.ts';
import { flameGraphSvg } from '../../lib/output/flamegraph.ts';
import { FOREVER, checkExclusive, spec, type Options } from './options.ts';
import { configureProfile, type ProfileProgram } from './program.ts';
import { collect, flameStacks, headerLine, jsonStack, missingWarning, stackLines, type CountKey } from './output.ts';
import { NewPids } from './pids.ts';

// How often the counts are looked at for processes not seen before (see pids.ts).
const POLL_MS = 1000;

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  checkExclusive(o);
  const duration = o.duration ?? FOREVER;
  const kernelStacks = !o['user-stacks-only'];
  const userStacks = !o['kernel-stacks-only'];
  const perThread = o.tid !== undefined && o.json;
  const frequency = o.count === undefined ? o.frequency ?? 49 : undefined;

  const cgroupMap = o.cgroupmap ? openPinnedMap(o.cgroupmap, CGROUP_MAP) : null;
  const mntnsMap = o.mntnsmap ? openPinnedMap(o.mntnsmap, MNTNS_MAP) : null;
  const containers = containerFilters(cgroupMap, mntnsMap, !o.ebpf);
  let program: ProfileProgram;
  let bpf;
  try {
    program = configureProfile({
      pids: o.pid, tids: o.tid, kernelStacks, userStacks, includeIdle: o['include-idle'], frequency, period: o.count,
      cpu: o.cpu >= 0 ? o.cpu : undefined, stackStorage: o['stack-storage-size'], perThread, containers: containers.defines,
    });
    bpf = ctx.load({ ...program, autoAttach: false });
  } finally {
    containers.unpin();
    for (const map of [cgroupMap, mntnsMap]) if (map) fs.closeSync(map.fd);
  }
  // The processes or threads to sample, before the first sample can be taken.
  if (o.pid || o.tid) {
    const targets = bpf.table<HashTable<number, number>>('targets');
    for (const id of o.pid ?? o.tid ?? []) targets.set(id, 1);
  }

  if (!o.folded && !o.json) {
    ctx.print(headerLine({ frequency, period: o.count, pids: o.pid, tids: o.tid, kernelStacks, userStacks, cpu: o.cpu, duration }));
  }
  ctx.attach(bpf, program);

  const counts = bpf.table<HashTable<CountKey, bigint>>('counts');
  const symbolizer = new Symbolizer();
  const seen = new NewPids(counts, (pid) => symbolizer.remember(pid));
  const deadline = Date.now() + duration * 1000;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0 || !(await ctx.sleep(Math.min(POLL_MS, left)))) break;
    seen.poll();
  }
  seen.poll();

  // --- the report: what bcc prints once sampling ends ---
  if (!o.folded && !o.json) ctx.print('');
  const stackTable = bpf.table<StackTraceTable>('stack_traces');
  const collected = collect(counts.entries(), (id) => stackTable.walk(id), symbolizer, { kernelStacks, userStacks, perThread });
  const text = { delimiter: o.delimited && kernelStacks && userStacks, annotations: o.annotations };
  if (o.json) for (const s of collected.stacks) ctx.json(jsonStack(s));
  else process.stdout.write(stackLines(collected.stacks, { ...text, folded: o.folded }));
  if (o.svg) {
    const who = o.pid ? `PID ${o.pid.join(',')}` : o.tid ? `TID ${o.tid.join(',')}` : 'all threads';
    const rate = frequency !== undefined ? `${frequency} Hz` : `every ${o.count} events`;
    fs.writeFileSync(o.svg, flameGraphSvg(flameStacks(collected.stacks, text), {
      title: 'CPU Flame Graph', countName: 'samples', subtitle: `profile: ${who}, ${rate}, ${program.counter}`,
    }));
  }
  const warning = missingWarning(collected);
  if (warning) process.stderr.write(`${warning}\n`);
  const lost = bpf.table<ArrayTable<bigint>>('lost').get(0) ?? 0n;
  if (lost > 0n) ctx.warn(`${lost} samples not counted: more than ${program.countEntries} distinct stacks (see --stack-storage-size)`);
  if (o.explain) {
    ctx.warn(`symbolised ${collected.stacks.length} stacks: ${collected.addresses} distinct addresses (user ones from ${collected.processes} processes) in ${collected.symboliseMs.toFixed(1)} ms`);
  }
});
