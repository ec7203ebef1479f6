// tcpconnlat in the bench: its anchors, modes and workload (see test/bench/lib/tracers.ts).
// bpftrace packages no tcpconnlat.bt; bcc's needs kprobes (the bench says when it cannot run).
import { ours, bcc, type ToolBench } from '../lib/tracers.ts';

export const bench: ToolBench = {
  name: 'tcpconnlat',
  modes: ['default'],
  event: 'connection',
  tracers: [
    ours('tcpconnlat', ['default'], () => []),
    bcc('tcpconnlat', ['default'], /^PID/m, () => []),
  ],
  // Loopback connect/send/recv/close cycles: one established connect, one row, per cycle.
  workload: (setup, amount) => ({ file: setup.bin.connloop, args: ['connect', amount] }),
};
