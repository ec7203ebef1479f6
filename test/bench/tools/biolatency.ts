// biolatency in the bench: its anchors, modes and workload (see test/bench/lib/tracers.ts).
import path from 'node:path';
import { ours, bcc, bpftrace, ANCHORS, histogramTotal, type ToolBench } from '../lib/tracers.ts';

export const bench: ToolBench = {
  name: 'biolatency',
  modes: ['default'],
  event: 'I/O',
  tracers: [
    ours('biolatency', ['default'], () => []),
    bcc('biolatency', ['default'], /^Tracing block/m, () => []),
    bpftrace('bpftrace biolatency.bt', ['default'], /^Tracing block/m, () => ({ file: '/usr/sbin/biolatency.bt' })),
    bpftrace('bpftrace block tracepoints', ['default'], /^Tracing block/m, () => ({ file: path.join(ANCHORS, 'biolatency-tp.bt') })),
  ],
  workload: (setup, amount) => {
    if (!setup.loopDevice) throw new Error('no loop device');
    return { file: setup.bin.dio, args: [setup.loopDevice, amount] };
  },
  counted: (_tracer, stdout) => histogramTotal(stdout),
};
