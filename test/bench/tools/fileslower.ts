// fileslower in the bench: its anchors, modes and workload (see test/bench/lib/tracers.ts).
// The workload preads 64 bytes of one cached tmpfs file in a tight loop (workloads/preadloop.c):
// every read is timed and none is slow, so the added cost per read() is what timing each call
// costs, the figure issue 19 asks for. bcc's tool hooks vfs_read/vfs_write with kprobes (absent
// on the development VM: it does not run there); bpftrace ships no fileslower.bt.
import { ours, bcc, type ToolBench } from '../lib/tracers.ts';

export const bench: ToolBench = {
  name: 'fileslower',
  modes: ['default'],
  event: 'read',
  tracers: [
    ours('fileslower', ['default'], () => []),
    bcc('fileslower', ['default'], /^TIME\(s\)\s+COMM/m, () => []),
  ],
  workload: (setup, amount) => ({ file: setup.bin.preadloop, args: [amount] }),
  overheadEvents: 200_000,
};
