// tcpconnect in the bench: its anchors, modes and workload (see test/bench/lib/tracers.ts).
// bcc's tcpconnect needs kprobes (tcp_v4_connect) and bpftrace's tcpconnect.bt kprobes too
// (tcp_connect): where the kernel has none they cannot start, and the bench says so.
import { ours, bcc, bpftrace, type ToolBench } from '../lib/tracers.ts';

export const bench: ToolBench = {
  name: 'tcpconnect',
  modes: ['default'],
  event: 'connect',
  tracers: [
    ours('tcpconnect', ['default'], () => []),
    bcc('tcpconnect', ['default'], /^PID/m, () => []),
    bpftrace('bpftrace tcpconnect.bt', ['default'], /^Tracing tcp connections/m, () => ({ file: '/usr/sbin/tcpconnect.bt' })),
  ],
  workload: (setup, amount) => ({ file: setup.bin.connloop, args: ['connect', amount] }),
};
