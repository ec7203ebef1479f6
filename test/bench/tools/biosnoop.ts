// biosnoop in the bench: its anchors, modes and workload (see test/bench/lib/tracers.ts).
// The workload is biolatency's (workloads/dio.c): 4 KiB O_DIRECT reads from a loop device over
// /dev/shm, one request each, one at a time, so the added cost is per 4 KiB I/O. Every tracer
// prints one line per I/O, as ours does.
// bcc's biosnoop-bpfcc attaches kprobes (blk_mq_start_request, and blk_account_io_* where the
// kernel lacks block_io_start/block_io_done) and bpftrace's biosnoop.bt kprobes on
// blk_account_io_*: on a kernel without kprobes neither starts (or bpftrace attaches nothing, and
// sees no I/O), and the tables say so. The anchor that runs everywhere is a bpftrace program on
// the same block tracepoints as ours, with requests matched by (dev, sector) as bcc's fallback does.
import { ours, bcc, bpftrace, type ToolBench } from '../lib/tracers.ts';

const BPFTRACE_BLOCK = `BEGIN { printf("%-12s %-16s %-7s %-10s %-7s %7s\\n", "TIME(ms)", "COMM", "PID", "SECTOR", "BYTES", "LAT(us)"); }
tracepoint:block:block_io_start { @pid[args->dev, args->sector] = pid; @comm[args->dev, args->sector] = comm; }
tracepoint:block:block_rq_issue { @start[args->dev, args->sector] = nsecs; @bytes[args->dev, args->sector] = args->bytes; }
tracepoint:block:block_rq_complete /@start[args->dev, args->sector]/ {
  printf("%-12u %-16s %-7d %-10d %-7d %7d\\n", elapsed / 1000000, @comm[args->dev, args->sector], @pid[args->dev, args->sector],
    args->sector, @bytes[args->dev, args->sector], (nsecs - @start[args->dev, args->sector]) / 1000);
  delete(@start[args->dev, args->sector]); delete(@bytes[args->dev, args->sector]);
  delete(@pid[args->dev, args->sector]); delete(@comm[args->dev, args->sector]);
}
END { clear(@start); clear(@bytes); clear(@pid); clear(@comm); }`;

/** Rows of the workload's reads: each tracer prints the comm ("dio") in its own column. */
function rowsOfDio(stdout: string): number {
  let n = 0;
  for (const line of stdout.split('\n')) if (/^\S+\s+dio\s/.test(line)) n++;
  return n;
}

export const bench: ToolBench = {
  name: 'biosnoop',
  modes: ['default'],
  event: '4 KiB O_DIRECT read',
  tracers: [
    ours('biosnoop', ['default'], () => []),
    bcc('biosnoop', ['default'], /^TIME\(s\)/m, () => []),
    bpftrace('bpftrace biosnoop.bt', ['default'], /^TIME\(ms\)/m, () => ({ file: '/usr/sbin/biosnoop.bt' })),
    bpftrace('bpftrace block tracepoints', ['default'], /^TIME\(ms\)/m, () => ({ text: BPFTRACE_BLOCK })),
  ],
  workload: (setup, amount) => {
    // test/bench/run.ts makes the loop device when the block tools are benched.
    if (!setup.loopDevice) throw new Error('no loop device (test/bench/run.ts makes one only when biolatency is benched)');
    return { file: setup.bin.dio, args: [setup.loopDevice, amount] };
  },
  counted: (_tracer, stdout) => rowsOfDio(stdout),
};
