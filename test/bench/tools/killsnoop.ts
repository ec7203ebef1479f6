// killsnoop in the bench: its anchors, modes and workload (see test/bench/lib/tracers.ts). The
// workload's comm, "killself", marks its rows in every tracer's output.
import { ours, bcc, bpftrace, type ToolBench } from '../lib/tracers.ts';

export const bench: ToolBench = {
  name: 'killsnoop',
  modes: ['default'],
  event: 'kill',
  tracers: [
    ours('killsnoop', ['default'], () => []),
    bcc('killsnoop', ['default'], /^TIME/m, () => []),
    bpftrace('bpftrace killsnoop.bt', ['default'], /^TIME/m, () => ({ file: '/usr/sbin/killsnoop.bt' })),
  ],
  workload: (setup, amount) => ({ file: setup.bin.killself, args: [amount] }),
  counted: (_tracer, stdout) => stdout.split('\n').filter((l) => /\bkillself\b/.test(l)).length,
};
