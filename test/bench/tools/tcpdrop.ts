// tcpdrop in the bench: its anchors, modes and workload (see test/bench/lib/tracers.ts). The
// workload is connloop's refused mode: each connect() to a closed loopback port is one SYN the
// kernel drops (NO_SOCKET), one record and one stack walk for ours.
// bcc's tcpdrop attaches to skb:kfree_skb where tcp_drop() is gone, but skips packets without a
// socket, so it prints none of these drops (its cost is still the probe's); bpftrace's tcpdrop.bt
// likewise reads the socket. Only ours counts them.
import { ours, bcc, bpftrace, type ToolBench } from '../lib/tracers.ts';

export const bench: ToolBench = {
  name: 'tcpdrop',
  modes: ['default'],
  event: 'refused connect',
  tracers: [
    ours('tcpdrop', ['default'], () => []),
    bcc('tcpdrop', ['default'], /^TIME/m, () => []),
    bpftrace('bpftrace tcpdrop.bt', ['default'], /^Tracing tcp drops/m, () => ({ file: '/usr/sbin/tcpdrop.bt' })),
  ],
  workload: (setup, amount) => ({ file: setup.bin.connloop, args: ['refused', amount] }),
  counted: (tracer, stdout) => (tracer.kind === 'bpfkit' ? stdout.split('\n').filter((l) => / \(SYN\) NO_SOCKET$/.test(l)).length : null),
};
