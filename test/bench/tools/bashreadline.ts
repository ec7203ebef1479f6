// bashreadline in the bench: its anchors and workload (see test/bench/lib/tracers.ts).
//
// bashreadline is idle nearly all the time (lines come at typing speed): start-up and RSS are
// the figures that matter. The added cost is per line an interactive bash reads: the workload
// (test/workloads/bashreadline-pty.c, bench mode) runs `bash -i` on a pty of its own and types
// ": bpfkit-bench" lines ahead in batches, timing from the first line to the last prompt. Each
// line costs bash's own work (parse, run `:`, redraw the prompt) and one uretprobe hit: a trap
// on the function's entry to hijack its return address and one on its return, then the program.
// Ours probes readline_internal_teardown, bcc's packaged tool and bpftrace's bashreadline.bt
// readline(): one uretprobe hit per line all the same. Every tracer probes /bin/bash, so every
// bash on the machine is traced; the rows are counted by the bench's marker.
import { ours, bcc, bpftrace, type ToolBench } from '../lib/tracers.ts';
import { workload } from '../../helpers/workloads.ts';

export const bench: ToolBench = {
  name: 'bashreadline',
  modes: ['default'],
  event: 'line read by bash -i',
  tracers: [
    ours('bashreadline', ['default'], () => []),
    bcc('bashreadline', ['default'], /^TIME/m, () => []),
    bpftrace('bpftrace bashreadline.bt', ['default'], /^TIME/m, () => ({ file: '/usr/sbin/bashreadline.bt' })),
  ],
  // Built where the tests build it (test/helpers/workloads.ts), on first use.
  workload: (_setup, amount) => ({ file: workload('bashreadline-pty'), args: ['bench', amount] }),
  counted: (_tracer, stdout) => stdout.split('\n').filter((l) => l.endsWith(': bpfkit-bench')).length,
  // bash takes tens of microseconds a line: 5,000 lines are a fraction of a second untraced.
  overheadEvents: 5000,
};
