// tcpretrans in the bench: its anchors, modes and workload (see test/bench/lib/tracers.ts).
// Retransmits cannot be made on demand at a steady rate (no netem here), so the cost measured is
// what every connection pays while tcpretrans runs: its owner tracking on the state changes
// (inet_sock_set_state) of connloop's connect/close cycles. bcc's tool and bpftrace's
// tcpretrans.bt attach kprobes only, and do not run on a kernel without them.
import { ours, bcc, bpftrace, type ToolBench } from '../lib/tracers.ts';

export const bench: ToolBench = {
  name: 'tcpretrans',
  modes: ['default'],
  event: 'connection',
  tracers: [
    ours('tcpretrans', ['default'], () => []),
    bcc('tcpretrans', ['default'], /^TIME/m, () => []),
    bpftrace('bpftrace tcpretrans.bt', ['default'], /^TIME/m, () => ({ file: '/usr/sbin/tcpretrans.bt' })),
  ],
  workload: (setup, amount) => ({ file: setup.bin.connloop, args: ['connect', amount] }),
};
