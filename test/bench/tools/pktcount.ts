// pktcount in the bench: ours only — bcc has no packet counter among its tools (only the
// examples in examples/networking/xdp, such as xdp_drop_count.py, which are not packaged as
// commands) and bpftrace cannot attach XDP. The workload floods UDP over loopback and pktcount
// counts on `lo` in generic mode (loopback has no native XDP): the added cost per datagram is the
// XDP program's, and packets per second with and without it are 1e9 / ns per datagram.
import { ours, type ToolBench } from '../lib/tracers.ts';

export const bench: ToolBench = {
  name: 'pktcount',
  modes: ['default'],
  event: 'packet',
  // A datagram costs ~2 µs: more of them than the default keeps the run long enough to measure.
  overheadEvents: 200_000,
  tracers: [ours('pktcount', ['default'], () => ['lo'])],
  workload: (setup, amount) => ({ file: setup.bin.udpflood, args: ['send', amount] }),
};
