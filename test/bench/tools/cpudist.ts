// cpudist in the bench: its anchors, modes and workload (see test/bench/lib/tracers.ts). The
// workload is test/workloads/cpudist-pingpong.c: two processes pinned to one CPU passing a byte
// through pipes, one context switch per message, so the added cost reads as ns per switch.
// bcc's cpudist attaches a kprobe to finish_task_switch: on a kernel without kprobes (this VM) it
// cannot attach and the bench reports it as not running. bpftrace ships no cpudist.bt; the anchor
// is the same measure as a bpftrace program on the sched_switch tracepoint.
import { ours, bcc, bpftrace, histogramTotal, type ToolBench } from '../lib/tracers.ts';
import { workload } from '../../helpers/workloads.ts';

const ONCPU_BT = `
tracepoint:sched:sched_switch {
  if (@start[args->prev_pid]) { @usecs = hist((nsecs - @start[args->prev_pid]) / 1000); delete(@start[args->prev_pid]); }
  if (args->next_pid != 0) { @start[args->next_pid] = nsecs; }
}
BEGIN { printf("Tracing on-CPU time... Hit Ctrl-C to end.\\n"); }
END { clear(@start); }`;

export const bench: ToolBench = {
  name: 'cpudist',
  modes: ['default'],
  event: 'context switch',
  tracers: [
    ours('cpudist', ['default'], () => []),
    bcc('cpudist', ['default'], /^Tracing on-CPU/m, () => []),
    bpftrace('bpftrace sched_switch on-CPU', ['default'], /^Tracing on-CPU/m, () => ({ text: ONCPU_BT })),
  ],
  workload: (_setup, amount) => ({ file: workload('cpudist-pingpong'), args: [amount] }),
  counted: (_tracer, stdout) => histogramTotal(stdout),
};
