// execsnoop in the bench: its anchors, modes and workload (see test/bench/lib/tracers.ts).
import { ours, bcc, bpftrace, type ToolBench } from '../lib/tracers.ts';

export const bench: ToolBench = {
  name: 'execsnoop',
  modes: ['default'],
  event: 'exec',
  tracers: [
    ours('execsnoop', ['default'], () => []),
    bcc('execsnoop', ['default'], /^PCOMM/m, () => []),
    bpftrace('bpftrace execsnoop.bt', ['default'], /^TIME\(ms\)/m, () => ({ file: '/usr/sbin/execsnoop.bt' })),
  ],
  workload: (setup, amount) => ({ file: setup.bin.execloop, args: [amount, '1', setup.bin.noop] }),
};
