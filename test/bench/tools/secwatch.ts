// secwatch in the bench: its added cost per open() and per exec with the default rules loaded,
// on the loops opensnoop and execsnoop are measured on (workloads/openloop.c: open and close one
// /dev/shm file; execloop.c: fork and exec a no-op), with opensnoop and execsnoop started on the
// same loops in the same runs, so that the figures sit side by side. The loops' files match no
// default rule, the common case the rules must keep cheap: every open runs secwatch's entry and
// exit hooks, resolves the path in the kernel and looks it up in the rules' prefix tree, and no
// record reaches user space; every exec resolves the file run and matches the exec rules.
// Falco needs kprobes or its kernel module on this kernel, and bpftrace has no rules engine.
// Alert latency (the call to the printed line) is measured by hand: see tools/secwatch/README.md.
import { ours, type ToolBench } from '../lib/tracers.ts';

export const bench: ToolBench = {
  name: 'secwatch',
  modes: ['default'],
  event: 'open',
  tracers: [
    ours('secwatch', ['default'], () => []),
    ours('opensnoop', ['default'], () => [], 'opensnoop'),
  ],
  workload: (setup, amount) => ({ file: setup.bin.openloop, args: [amount] }),
  overheadEvents: 200_000,
  variants: [{
    event: 'exec',
    tracers: [
      ours('secwatch', ['default'], () => []),
      ours('execsnoop', ['default'], () => [], 'execsnoop'),
    ],
    workload: (setup, amount) => ({ file: setup.bin.execloop, args: [amount, '1', setup.bin.noop] }),
    overheadEvents: 2_000,
  }],
};
