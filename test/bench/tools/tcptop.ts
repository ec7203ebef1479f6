// tcptop in the bench: its anchors, modes and workload (see test/bench/lib/tracers.ts).
import path from 'node:path';
import { ours, bcc, bpftrace, ANCHORS, TCP_MESSAGE_BYTES, type ToolBench } from '../lib/tracers.ts';

export const bench: ToolBench = {
  name: 'tcptop',
  modes: ['default'],
  event: 'send',
  tracers: [
    // --json for the many-flows run: one object per interval, every flow in it.
    ours('tcptop', ['default', 'json'], (launch) => (launch.mode === 'json' ? ['--json'] : ['-C'])),
    bcc('tcptop', ['default'], /^Tracing/m, () => ['-C']),
    bpftrace('bpftrace sock tracepoints', ['default'], /^Tracing/m, () => ({ file: path.join(ANCHORS, 'tcptop-tp.bt') })),
  ],
  workload: (setup, amount) => ({ file: setup.bin.tcpsend, args: ['send', amount, String(TCP_MESSAGE_BYTES)] }),
};
