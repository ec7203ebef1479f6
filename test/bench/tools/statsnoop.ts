// statsnoop in the bench: its anchors, modes and workload (see test/bench/lib/tracers.ts). The
// workload's comm, "statloop", marks its rows in every tracer's output.
import { ours, bcc, bpftrace, type ToolBench } from '../lib/tracers.ts';

export const bench: ToolBench = {
  name: 'statsnoop',
  modes: ['default'],
  event: 'stat',
  tracers: [
    ours('statsnoop', ['default'], () => []),
    // bcc's header is "PID COMM FD ERR PATH"; bpftrace's statsnoop.bt prints a line before its own.
    bcc('statsnoop', ['default'], /^PID/m, () => []),
    bpftrace('bpftrace statsnoop.bt', ['default'], /^PID/m, () => ({ file: '/usr/sbin/statsnoop.bt' })),
  ],
  workload: (setup, amount) => ({ file: setup.bin.statloop, args: [amount] }),
  counted: (_tracer, stdout) => stdout.split('\n').filter((l) => /\bstatloop\b/.test(l)).length,
};
