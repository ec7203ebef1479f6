// syscount in the bench: its anchors, modes and workload (see test/bench/lib/tracers.ts).
import { ours, bcc, bpftrace, pidArg, type Launch, type ToolBench } from '../lib/tracers.ts';

const SYSCOUNT_MODES = ['default', '-p', '-P', '-L'];
const syscountArgs = (launch: Launch) =>
  launch.mode === '-p' ? ['-p', pidArg(launch)] : launch.mode === 'default' ? [] : [launch.mode];

/** bpftrace equivalents of each syscount mode, on the raw_syscalls tracepoints. */
function syscountBpftrace(launch: Launch): { text: string } {
  const enter = 'tracepoint:raw_syscalls:sys_enter';
  const body: Record<string, string> = {
    default: `${enter} { @[args->id] = count(); }`,
    '-p': `${enter} /pid == ${launch.mode === '-p' ? pidArg(launch) : 0}/ { @[args->id] = count(); }`,
    '-P': `${enter} { @[pid, comm] = count(); }`,
    '-L': `${enter} { @start[tid] = nsecs; } tracepoint:raw_syscalls:sys_exit /@start[tid]/ ` +
      '{ @ns[args->id] = sum(nsecs - @start[tid]); @n[args->id] = count(); delete(@start[tid]); }',
  };
  return { text: `BEGIN { printf("Tracing syscalls\\n"); } ${body[launch.mode]}` };
}

export const bench: ToolBench = {
  name: 'syscount',
  modes: SYSCOUNT_MODES,
  event: 'syscall',
  tracers: [
    ours('syscount', SYSCOUNT_MODES, syscountArgs),
    bcc('syscount', SYSCOUNT_MODES, /^Tracing /m, syscountArgs),
    bpftrace('bpftrace one-liner', SYSCOUNT_MODES, /^Tracing syscalls$/m, syscountBpftrace),
    bpftrace('bpftrace syscount.bt', ['default'], /^Counting syscalls/m, () => ({ file: '/usr/sbin/syscount.bt' })),
  ],
  workload: (setup, amount) => ({ file: setup.bin.getppid, args: [amount] }),
};
