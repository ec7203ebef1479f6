// exitsnoop in the bench: its anchors, modes and workload (see test/bench/lib/tracers.ts).
// bpftrace ships no exitsnoop.bt: its anchor is the same work written here on the same tracepoint
// (the process's leader only, age from task->start_time, the raw exit status), printed per exit.
import { ours, bcc, bpftrace, type ToolBench } from '../lib/tracers.ts';

const EXITSNOOP_BT = 'BEGIN { printf("Tracing exits\\n"); } ' +
  'tracepoint:sched:sched_process_exit /pid == tid/ { ' +
  'printf("%-16s %-7d %-7d %-7d %d.%02d %d\\n", comm, pid, curtask->real_parent->tgid, tid, ' +
  '(nsecs - curtask->start_time) / 1000000000, (nsecs - curtask->start_time) / 10000000 % 100, curtask->exit_code); }';

export const bench: ToolBench = {
  name: 'exitsnoop',
  modes: ['default'],
  event: 'process exit (fork + _exit(0) + wait)',
  tracers: [
    ours('exitsnoop', ['default'], () => []),
    bcc('exitsnoop', ['default'], /^PCOMM/m, () => []),
    bpftrace('bpftrace one-liner', ['default'], /^Tracing exits$/m, () => ({ text: EXITSNOOP_BT })),
  ],
  workload: (setup, amount) => ({ file: setup.bin.forkexit, args: [amount, '1'] }),
};
