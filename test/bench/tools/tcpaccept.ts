// tcpaccept in the bench: its anchors, modes and workload (see test/bench/lib/tracers.ts). The
// workload's server child, "connloop-srv", accepts every connection: its rows are the ones counted.
import { ours, bcc, bpftrace, type ToolBench } from '../lib/tracers.ts';

export const bench: ToolBench = {
  name: 'tcpaccept',
  modes: ['default'],
  event: 'connection',
  tracers: [
    ours('tcpaccept', ['default'], () => []),
    // bcc's and bpftrace's need a kprobe on inet_csk_accept: on a kernel without kprobes the
    // bench reports that they did not start.
    bcc('tcpaccept', ['default'], /^PID/m, () => []),
    bpftrace('bpftrace tcpaccept.bt', ['default'], /^Tracing TCP accepts/m, () => ({ file: '/usr/sbin/tcpaccept.bt' })),
  ],
  workload: (setup, amount) => ({ file: setup.bin.connloop, args: ['connect', amount] }),
  counted: (_tracer, stdout) => stdout.split('\n').filter((l) => /\bconnloop-srv\b/.test(l)).length,
};
