// bitesize in the bench: its anchors, modes and workload (see test/bench/lib/tracers.ts). The
// workload is biolatency's: 4 KiB O_DIRECT reads from the bench's loop device, one at a time, so
// the added cost is per 4 KiB block I/O. bcc's bitesize.py counts at block_rq_issue (one
// tracepoint); bpftrace's bitesize.bt too, in bytes; ours follows each request from creation to
// completion (block-request core) to name the process that created it. bcc's compiles against
// kernel headers: with none for the running kernel it fails ("Failed to compile BPF module"); the
// bench points it at the closest headers package (setup.headers, BCC_KERNEL_SOURCE) and it runs.
import { ours, bcc, bpftrace, histogramTotal, type ToolBench } from '../lib/tracers.ts';

export const bench: ToolBench = {
  name: 'bitesize',
  modes: ['default'],
  event: 'I/O',
  tracers: [
    ours('bitesize', ['default'], () => []),
    bcc('bitesize', ['default'], /^Tracing block/m, () => []),
    bpftrace('bpftrace bitesize.bt', ['default'], /^Tracing block/m, () => ({ file: '/usr/sbin/bitesize.bt' })),
  ],
  workload: (setup, amount) => {
    if (!setup.loopDevice) throw new Error('no loop device (test/bench/run.ts makes one for the block tools)');
    return { file: setup.bin.dio, args: [setup.loopDevice, amount] };
  },
  counted: (_tracer, stdout) => histogramTotal(stdout),
};
