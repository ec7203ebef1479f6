// mountsnoop in the bench: its anchors, modes and workload (see test/bench/lib/tracers.ts).
// bcc's mountsnoop needs kprobes (on the syscall functions), which this VM's kernel lacks, and
// bpftrace ships no mountsnoop.bt: the anchor besides bcc's is a bpftrace program on the same
// syscall tracepoints, printing one line per call as ours does.
import { ours, bcc, bpftrace, type ToolBench } from '../lib/tracers.ts';

const BPFTRACE_MOUNTS = `BEGIN { printf("Tracing mount calls\\n"); }
tracepoint:syscalls:sys_enter_mount { @src[tid] = args->dev_name; @dst[tid] = args->dir_name; @fs[tid] = args->type; }
tracepoint:syscalls:sys_exit_mount /@dst[tid]/ {
  printf("%-16s %-7d %-7d mount(\\"%s\\", \\"%s\\", \\"%s\\") = %d\\n", comm, pid, tid, str(@src[tid]), str(@dst[tid]), str(@fs[tid]), args->ret);
  delete(@src[tid]); delete(@dst[tid]); delete(@fs[tid]);
}
tracepoint:syscalls:sys_enter_umount { @dst[tid] = args->name; }
tracepoint:syscalls:sys_exit_umount /@dst[tid]/ {
  printf("%-16s %-7d %-7d umount(\\"%s\\") = %d\\n", comm, pid, tid, str(@dst[tid]), args->ret);
  delete(@dst[tid]);
}`;

export const bench: ToolBench = {
  name: 'mountsnoop',
  modes: ['default'],
  event: 'mount+umount',
  tracers: [
    ours('mountsnoop', ['default'], () => []),
    bcc('mountsnoop', ['default'], /^COMM/m, () => []),
    bpftrace('bpftrace mount tracepoints', ['default'], /^Tracing mount calls/m, () => ({ text: BPFTRACE_MOUNTS })),
  ],
  workload: (setup, amount) => ({ file: setup.bin.mountloop, args: [amount] }),
  // A tmpfs mount and umount take ~90-120 µs together here: 2,000 pairs are a quarter second untraced.
  overheadEvents: 2000,
};
