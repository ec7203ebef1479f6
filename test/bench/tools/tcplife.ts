// tcplife in the bench: its anchors, modes and workload (see test/bench/lib/tracers.ts). Each
// connection of the workload closes two ends, "connloop" and "connloop-srv": two rows.
// bcc's tcplife uses sock:inet_sock_set_state where it exists, so it runs on a kernel without
// kprobes; bpftrace's tcplife.bt needs a kprobe on tcp_set_state, and where there is none the
// bench says it did not start.
import { ours, bcc, bpftrace, type ToolBench } from '../lib/tracers.ts';

export const bench: ToolBench = {
  name: 'tcplife',
  modes: ['default'],
  event: 'connection',
  tracers: [
    ours('tcplife', ['default'], () => []),
    bcc('tcplife', ['default'], /^PID/m, () => []),
    bpftrace('bpftrace tcplife.bt', ['default'], /^PID/m, () => ({ file: '/usr/sbin/tcplife.bt' })),
  ],
  workload: (setup, amount) => ({ file: setup.bin.connloop, args: ['connect', amount] }),
  // bcc's default layout cuts COMM to 10 characters ("connloop-s"), and names a passive end
  // after whichever task ran when it closed, often the client: both ends are counted, halved.
  counted: (_tracer, stdout) => Math.floor(stdout.split('\n').filter((l) => /^\d+\s+connloop/.test(l)).length / 2),
};
