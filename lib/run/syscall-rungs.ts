// The first two rungs of a tool that traces a family of system calls at entry and exit (setuids,
// killsnoop): each call's syscalls:sys_enter_X/sys_exit_X tracepoints, else the raw tracepoints
// sys_enter/sys_exit that every syscall runs, the family picked by this architecture's numbers.
import type { AttachCandidate } from './attach-plan.ts';
import type { KernelView } from '../kernel/view.ts';

export type SyscallHooks<S extends string> = { kind: 'tracepoint'; syscalls: S[] } | { kind: 'raw'; numbers: Record<S, number> };

export interface SyscallFamily<S extends string> {
  tool: string;
  syscalls: readonly S[];
  /** A call every kernel has: without its tracepoints there are no syscall tracepoints at all. */
  always: S;
  /** How many calls, in words, for the raw rung's label ("the six"). */
  countWord: string;
  /** Syscall numbers per Node process.arch: ABI, they never change on an architecture. */
  numbers: Record<string, Record<S, number>>;
  arch: string;
}

export function syscallRungs<S extends string>(kernel: KernelView, family: SyscallFamily<S>): AttachCandidate<SyscallHooks<S>>[] {
  const hasTracepoints = (s: S) => kernel.tracepoint('syscalls', `sys_enter_${s}`) && kernel.tracepoint('syscalls', `sys_exit_${s}`);
  return [
    {
      label: 'tracepoints syscalls:sys_enter_* and sys_exit_* of each',
      unavailable: () => (hasTracepoints(family.always) ? null : 'this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS is off)'),
      get value(): SyscallHooks<S> { return { kind: 'tracepoint', syscalls: family.syscalls.filter(hasTracepoints) }; },
    },
    {
      label: `raw tracepoints sys_enter and sys_exit (every syscall runs them; ${family.countWord} are picked by number)`,
      unavailable: () => (!kernel.rawTracepoints() ? 'needs Linux 4.17'
        : !family.numbers[family.arch] ? `the syscall numbers of ${family.arch} are not known to ${family.tool}` : null),
      value: { kind: 'raw', numbers: family.numbers[family.arch] },
    },
  ];
}
