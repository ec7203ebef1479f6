// biotop in the bench: its anchors, modes and workload (see test/bench/lib/tracers.ts). The
// workload is biolatency's: 4 KiB O_DIRECT reads on the bench's loop device, one request each.
// bpftrace ships no biotop.bt; bcc's biotop-bpfcc needs kprobes (blk_mq_start_request and the
// accounting functions) where the kernel has no block_io_start/block_io_done tracepoints.
import { ours, bcc, type ToolBench } from '../lib/tracers.ts';

export const bench: ToolBench = {
  name: 'biotop',
  modes: ['default'],
  event: 'I/O',
  tracers: [
    // -C: no screen clearing; one summary every second, as bcc's default.
    ours('biotop', ['default'], () => ['-C']),
    bcc('biotop', ['default'], /^Tracing/m, () => ['-C']),
  ],
  workload: (setup, amount) => {
    if (!setup.loopDevice) throw new Error('no loop device');
    return { file: setup.bin.dio, args: [setup.loopDevice, amount] };
  },
  counted: (_tracer, stdout) => iosCounted(stdout),
};

/**
 * The I/O column of loop-device rows, summed over every interval (bcc's table and ours are the
 * same, but for bcc's Kbytes under Python 3: "4.0"). The machine's own disk I/O is left out.
 */
export function iosCounted(stdout: string): number | null {
  let total = 0;
  let rows = 0;
  for (const m of stdout.matchAll(/^\d+ +.{16} [RW] \d+ +\d+ +loop\d+ +(\d+) +\d+(?:\.\d+)? +\d+\.\d\d$/gm)) { total += Number(m[1]); rows++; }
  return rows ? total : 0;
}
