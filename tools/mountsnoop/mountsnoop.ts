#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// mountsnoop  Trace mount and umount syscalls system-wide.
//             bcc's mountsnoop on bpfkit: one line per mount(), umount() or call of the new
//             mount API, with the caller's mount namespace and the call written out as C.
//
// USAGE: mountsnoop [-h] [-P] [--cgroupmap CGROUPMAP] [--mntnsmap MNTNSMAP] [--json] [--explain]
//                   [--ebpf] [--no-cache]
//
// What it traces and why, the differences from bcc and --json: tools/mountsnoop/README.md;
// real runs: tools/mountsnoop/mountsnoop_example.txt.
//
// Copyright (c) 2016 Facebook, Inc. (bcc's mountsnoop, by Omar Sandoval, whose output this reproduces).
import fs from 'node:fs';
import type { BPF } from 'bcc-node-bindings';
import { LineBatch, streamUntilStopped } from '../../lib/run/event-output.ts';
import { runTool } from '../../lib/run/tool.ts';
import { CGROUP_MAP, MNTNS_MAP, containerFilters, openPinnedMap } from '../../lib/kernel/pinned-maps.ts';
import { openEvents } from '../../lib/run/event-channel.ts';
import { spec, type Options } from './options.ts';
import { configureMountsnoop, type MountsnoopProgram } from './program.ts';
import { decodeMountRecord, headerLine, jsonLine, rowLine } from './events.ts';

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  const parent = o.parent_process;

  const cgroupMap = o.cgroupmap ? openPinnedMap(o.cgroupmap, CGROUP_MAP) : null;
  const mntnsMap = o.mntnsmap ? openPinnedMap(o.mntnsmap, MNTNS_MAP) : null;
  const containers = containerFilters(cgroupMap, mntnsMap, !o.ebpf);
  let bpf: BPF;
  let program: MountsnoopProgram;
  try {
    program = configureMountsnoop({ containers: containers.defines });
    bpf = ctx.load({ ...program, autoAttach: false });
  } finally {
    containers.unpin();
    for (const map of [cgroupMap, mntnsMap]) if (map) fs.closeSync(map.fd);
  }

  // The output loop: one record per call, at its return.
  const out = new LineBatch(ctx.print);
  const onRecord = (record: Buffer) => {
    const ev = decodeMountRecord(record);
    out.push(o.json ? jsonLine(ev) : rowLine(ev, parent));
  };

  // Open before attaching: a perf buffer drops what arrives before its readers exist.
  const events = openEvents(bpf, program.ringBuffer, onRecord);
  await streamUntilStopped(ctx, bpf, program, events, { header: !o.json ? headerLine(parent) : null, out });
});
