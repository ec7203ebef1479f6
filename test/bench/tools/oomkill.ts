// oomkill in the bench: its anchors and workload (see test/bench/lib/tracers.ts).
//
// Start-up and RSS are the figures that matter for oomkill. Its one probe fires once per OOM kill,
// and a workload that makes the kernel kill a process per event measures the OOM killer, not the
// tracer: there is no per-event cost to benchmark. The added-cost and load phases therefore run
// getppid(), which no tracer of these probes sees, so they show that attaching oomkill costs the
// rest of the system nothing (an added cost near 0 ns, tracer CPU near 0); they are not a cost per kill.
// bcc's oomkill and bpftrace's oomkill.bt hook a kprobe on oom_kill_process: on kernels without
// kprobes they fail to start (bcc) or attach nothing (bpftrace), and the tables say so.
import { ours, bcc, bpftrace, type ToolBench } from '../lib/tracers.ts';

export const bench: ToolBench = {
  name: 'oomkill',
  modes: ['default'],
  // Not an OOM kill (see above): a system call none of these tracers sees.
  event: 'getppid()',
  tracers: [
    ours('oomkill', ['default'], () => []),
    bcc('oomkill', ['default'], /^Tracing OOM kills/m, () => []),
    bpftrace('bpftrace oomkill.bt', ['default'], /^Tracing oom_kill_process/m, () => ({ file: '/usr/sbin/oomkill.bt' })),
  ],
  workload: (setup, amount) => ({ file: setup.bin.getppid, args: [amount] }),
  // getppid() at ~170 ns a call: a million calls make a run long enough to measure.
  overheadEvents: 1_000_000,
};
