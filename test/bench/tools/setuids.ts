// setuids in the bench: its anchor and workload (see test/bench/lib/tracers.ts). The workload
// calls setresuid(-1, -1, -1), which changes nothing, in a tight loop (workloads/setuidloop.c):
// the added cost per setuid-family call. bcc has no setuids; bpftrace's packaged setuids.bt
// traces setresuid on the syscall tracepoints, as ours does. The comm "setuidloop" marks the
// workload's rows in both outputs.
import { ours, bpftrace, type ToolBench } from '../lib/tracers.ts';

export const bench: ToolBench = {
  name: 'setuids',
  modes: ['default'],
  event: 'setresuid',
  tracers: [
    ours('setuids', ['default'], () => []),
    bpftrace('bpftrace setuids.bt', ['default'], /^TIME/m, () => ({ file: '/usr/sbin/setuids.bt' })),
  ],
  workload: (setup, amount) => ({ file: setup.bin.setuidloop, args: [amount] }),
  overheadEvents: 100_000,
  counted: (_tracer, stdout) => stdout.split('\n').filter((l) => /\bsetuidloop\b/.test(l)).length,
};
