// runqlat in the bench: its anchors, modes and workload (see test/bench/lib/tracers.ts). The
// workload (test/workloads/runqlat-pingpong.c) passes a byte between two processes pinned to one
// CPU: one wakeup and one context switch per operation, so "ns per context switch" is what each
// tracer adds to the scheduler's hottest path.
// bcc's runqlat-bpfcc uses raw tracepoints where the kernel has them (it does here: kprobes are
// not needed); bpftrace's runqlat.bt uses the classic tracepoints (and misses preempted tasks:
// tools/runqlat/README.md).
import { ours, bcc, bpftrace, histogramTotal, type ToolBench } from '../lib/tracers.ts';
import { workload } from '../../helpers/workloads.ts';

const MODES = ['default', '-P'];
const args = (mode: string) => (mode === 'default' ? [] : [mode]);

export const bench: ToolBench = {
  name: 'runqlat',
  modes: MODES,
  event: 'context switch',
  overheadEvents: 100_000,
  tracers: [
    ours('runqlat', MODES, (launch) => args(launch.mode)),
    bcc('runqlat', MODES, /^Tracing run queue latency/m, (launch) => args(launch.mode)),
    bpftrace('bpftrace runqlat.bt', ['default'], /^Tracing CPU scheduler/m, () => ({ file: '/usr/sbin/runqlat.bt' })),
  ],
  workload: (_setup, amount) => ({ file: workload('runqlat-pingpong'), args: [amount] }),
  counted: (_tracer, stdout) => histogramTotal(stdout),
};
