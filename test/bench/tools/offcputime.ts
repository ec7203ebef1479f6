// offcputime in the bench: its anchors, modes and workload (see test/bench/lib/tracers.ts). The
// workload (test/workloads/offcputime-pingpong.c) passes a byte between two processes through two
// pipes: each round trip blocks each side once, so "ns per round trip" is what a tracer adds for
// two sleeps and their context switches (with a stack walk of each thread going off CPU).
// bcc's offcputime-bpfcc hooks a kprobe on finish_task_switch: this VM's kernel has no kprobes, so
// it fails to start and the tables say so. bpftrace packages no offcputime.bt: the anchor is the
// same accounting on sched:sched_switch (stacks kept at switch-out, summed at switch-in).
import { ours, bcc, bpftrace, pidArg, type Launch, type ToolBench } from '../lib/tracers.ts';
import { workload } from '../../helpers/workloads.ts';

const MODES = ['default', '-p'];
const args = (launch: Launch) => (launch.mode === '-p' ? ['-p', pidArg(launch)] : []);

const BPFTRACE_OFFCPU = `BEGIN { printf("Tracing off-CPU time\\n"); }
tracepoint:sched:sched_switch {
  @st[tid] = nsecs; @ks[tid] = kstack; @us[tid] = ustack;
  $n = args->next_pid;
  $s = @st[$n];
  if ($s) {
    @[@ks[$n], @us[$n], args->next_comm] = sum((nsecs - $s) / 1000);
    delete(@st[$n]); delete(@ks[$n]); delete(@us[$n]);
  }
}`;

export const bench: ToolBench = {
  name: 'offcputime',
  modes: MODES,
  event: 'pipe round trip',
  overheadEvents: 100_000,
  tracers: [
    ours('offcputime', MODES, args),
    bcc('offcputime', MODES, /^Tracing off-CPU time/m, args),
    bpftrace('bpftrace sched_switch program', ['default'], /^Tracing off-CPU time$/m, () => ({ text: BPFTRACE_OFFCPU })),
  ],
  workload: (_setup, amount) => ({ file: workload('offcputime-pingpong'), args: [amount] }),
};
