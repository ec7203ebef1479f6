// runqlen in the bench (see test/bench/lib/tracers.ts). A sampler has no events of its own: its
// programs run 99 times a second on every CPU whatever the load, in timer interrupts, so their
// cost is charged to whichever task was interrupted, not to the tracer. What the framework
// measures here is the tracer process itself (start-up, RSS, CPU idle and under load: reading
// the maps once per interval) and the added cost per getppid() call on a CPU-bound loop (the
// interrupts it takes). bpftrace's runqlen.bt names cfs_rq.nr_running, which 6.13+ renamed
// nr_queued: where it fails, the same program on nr_queued stands in for it.
import { ours, bcc, bpftrace, type ToolBench } from '../lib/tracers.ts';

const BT_NR_QUEUED = 'BEGIN { printf("Sampling run queue length at 99 Hertz\\n"); } '
  + 'profile:hz:99 { $len = ((struct task_struct *)curtask)->se.cfs_rq->nr_queued; '
  + '$len = $len > 0 ? $len - 1 : 0; @runqlen = lhist($len, 0, 100, 1); }';

export const bench: ToolBench = {
  name: 'runqlen',
  modes: ['default'],
  event: 'getppid() call',
  tracers: [
    ours('runqlen', ['default'], () => []),
    bcc('runqlen', ['default'], /^Sampling run queue length/m, () => []),
    bpftrace('bpftrace runqlen.bt', ['default'], /^Sampling run queue length/m, () => ({ file: '/usr/sbin/runqlen.bt' })),
    bpftrace('bpftrace runqlen.bt on nr_queued', ['default'], /^Sampling run queue length/m, () => ({ text: BT_NR_QUEUED })),
  ],
  workload: (setup, amount) => ({ file: setup.bin.getppid, args: [amount] }),
};
