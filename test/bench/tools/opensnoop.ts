// opensnoop in the bench: its anchors, modes and workload (see test/bench/lib/tracers.ts).
// The workload opens and closes one tmpfs file in a tight loop (workloads/openloop.c): the added
// cost per open() is the figure issue 16 asks for. bcc's tool needs kprobes (absent here);
// bpftrace's packaged opensnoop.bt uses the syscall tracepoints and runs.
import { ours, bcc, bpftrace, type ToolBench } from '../lib/tracers.ts';

export const bench: ToolBench = {
  name: 'opensnoop',
  modes: ['default'],
  event: 'open',
  tracers: [
    ours('opensnoop', ['default'], () => []),
    bcc('opensnoop', ['default'], /^PID\s+COMM/m, () => []),
    bpftrace('bpftrace opensnoop.bt', ['default'], /^Tracing open syscalls/m, () => ({ file: '/usr/sbin/opensnoop.bt' })),
  ],
  workload: (setup, amount) => ({ file: setup.bin.openloop, args: [amount] }),
  overheadEvents: 200_000,
};
