// capable in the bench: its anchors, modes and workload (see test/bench/lib/tracers.ts). The
// workload, capcheck, makes one CAP_SYS_NICE check per operation (two setpriority() calls); its
// comm marks its rows in every tracer's output.
// bcc's capable and bpftrace's capable.bt hook a kprobe on cap_capable: on kernels without kprobes
// bcc fails to start and bpftrace attaches nothing, and the tables say so. The bpftrace program on
// the capability:cap_capable tracepoint (Linux 6.14+) is the anchor that runs where they do not.
import { ours, bcc, bpftrace, type ToolBench } from '../lib/tracers.ts';

// capable.bt's columns, from the tracepoint: its ret as the verdict (capable.bt has none).
const TRACEPOINT_PROGRAM = `
BEGIN { printf("Tracing cap_capable... Hit Ctrl-C to end.\\n"); printf("%-9s %-6s %-6s %-16s %-4s %s\\n", "TIME", "UID", "PID", "COMM", "CAP", "VERDICT"); }
tracepoint:capability:cap_capable { time("%H:%M:%S  "); printf("%-6d %-6d %-16s %-4d %s\\n", uid, pid, comm, args->cap, args->ret == 0 ? "allow" : "deny"); }
`;

export const bench: ToolBench = {
  name: 'capable',
  modes: ['default'],
  event: 'capability check',
  tracers: [
    ours('capable', ['default'], () => []),
    bcc('capable', ['default'], /^TIME/m, () => []),
    bpftrace('bpftrace capable.bt', ['default'], /^TIME/m, () => ({ file: '/usr/sbin/capable.bt' })),
    bpftrace('bpftrace cap_capable tracepoint', ['default'], /^TIME/m, () => ({ text: TRACEPOINT_PROGRAM })),
  ],
  workload: (setup, amount) => ({ file: setup.bin.capcheck, args: [amount] }),
  counted: (_tracer, stdout) => stdout.split('\n').filter((l) => /\bcapcheck\b/.test(l) && /\b23\b/.test(l)).length,
};
