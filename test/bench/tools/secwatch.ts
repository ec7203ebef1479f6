// secwatch in the bench: its added cost per open() with the default rules loaded, on the loop
// opensnoop is measured on (workloads/openloop.c: open and close one /dev/shm file), so that the
// two figures sit side by side. The loop's file matches no default rule, which is the common case
// the rules must keep cheap: every open runs secwatch's entry and exit hooks, resolves the path in
// the kernel and looks it up in the rules' prefix tree, and no record reaches user space.
// Falco needs kprobes or its kernel module on this kernel, and there is no bpftrace equivalent of
// a rules engine; opensnoop's row in the same run is the comparison the issue asks for.
//
// One ToolBench holds one event (its workload takes no mode), so exec's cost and the alert
// latency are not measured here: see the lead's notes in the secwatch report (issue 23).
import { ours, type ToolBench } from '../lib/tracers.ts';

export const bench: ToolBench = {
  name: 'secwatch',
  modes: ['default'],
  event: 'open',
  tracers: [
    ours('secwatch', ['default'], () => []),
  ],
  workload: (setup, amount) => ({ file: setup.bin.openloop, args: [amount] }),
  overheadEvents: 200_000,
};
