// syscount's command line: bcc's options, help texts and examples, and the validators only they
// use. No side effects on import (the man pages and the option tests read `spec`).
import { UsageError, existingPid, existingTid, type ToolSpec } from '../../lib/run/cli.ts';
import { cgroupV2Path } from '../../lib/kernel/cgroups.ts';
import { parseErrno } from '../../lib/kernel/errno.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { summaryOf } from '../index.ts';
import { syscallByName, syscalls } from '../../lib/kernel/syscalls.ts';

export interface Options extends MetricsOptions {
  pid?: number; tid?: number; ppid?: number; interval?: number; duration?: number; top: number;
  failures: boolean; errno?: number; latency: boolean; milliseconds: boolean; process: boolean;
  list: boolean; syscall?: number; cgroup?: string;
}

/** Syscall numbers the program's per-CPU array covers; anything above (x32's) goes to a small hash. */
export const NR_SLOTS = Math.max(512, 2 ** Math.ceil(Math.log2(Math.max(...syscalls().map((s) => s.nr), 0) + 1)));

export const spec: ToolSpec = {
  name: 'syscount',
  description: summaryOf('syscount'),
  options: [
    { long: 'pid', short: 'p', type: 'int', help: 'trace only this pid', parse: existingPid },
    { long: 'tid', short: 't', type: 'int', help: 'trace only this tid', parse: existingTid },
    { long: 'ppid', short: 'c', type: 'int', help: 'trace only child of this pid', parse: existingPid },
    { long: 'interval', short: 'i', type: 'int', min: 1, max: 99999999, help: 'print summary at this interval (seconds)' },
    { long: 'duration', short: 'd', type: 'int', min: 1, max: 99999999, help: 'total duration of trace, in seconds' },
    { long: 'top', short: 'T', type: 'int', min: 1, max: 100000, default: 10, help: 'print only the top syscalls by count or latency' },
    { long: 'failures', short: 'x', type: 'boolean', help: 'trace only failed syscalls (return < 0)' },
    { long: 'errno', short: 'e', type: 'string', parse: errnoOption, help: 'trace only syscalls that return this error (numeric or EPERM, etc.)' },
    { long: 'latency', short: 'L', type: 'boolean', help: 'collect syscall latency' },
    { long: 'milliseconds', short: 'm', type: 'boolean', help: 'display latency in milliseconds (default: microseconds)' },
    { long: 'process', short: 'P', type: 'boolean', help: 'count by process and not by syscall' },
    { long: 'list', short: 'l', type: 'boolean', help: 'print list of recognized syscalls and exit' },
    { long: 'syscall', type: 'string', parse: syscallOption, help: 'trace this syscall only (use option -l to get all recognized syscalls)' },
    { long: 'cgroup', type: 'string', metavar: 'PATH', parse: cgroupV2Path, help: 'trace only tasks in this cgroup v2 directory (and below it; relative to the v2 mount)' },
    ...METRICS_OPTIONS,
  ],
  restAfter: 'exec',
  // Listing names reads no kernel state: any user may, as with bcc's.
  needsRoot: (o) => !o.list,
  chart: true,
  examples: [
    ['syscount', 'count syscalls, print the top 10 on Ctrl-C'],
    ['syscount -P', 'count syscalls by process'],
    ['syscount -i 1', 'print the top 10 syscalls every second'],
    ['syscount -i 1 -d 3', 'print every second, stop after three seconds'],
    ['syscount -p 181', 'only process 181'],
    ['syscount -t 181', 'only thread 181'],
    ['syscount -c 181', 'only children of process 181'],
    ['syscount -x', 'count only failed syscalls'],
    ['syscount -e ENOENT', 'count only syscalls that failed with ENOENT'],
    ['syscount -L', 'also measure time spent in syscalls (µs)'],
    ['syscount -L -m -P', 'time by process, in ms'],
    ['syscount --syscall write -P', 'count only write() calls, by process'],
    ['syscount --cgroup system.slice', 'only tasks in this cgroup v2 (and below)'],
    ['syscount -l', 'list the syscall names this tool knows'],
    ['syscount --exec ls -l /tmp', 'run ls -l /tmp, count only its syscalls, exit with its status (as time does)'],
    ['syscount --json -i 1', 'one JSON object per second'],
    ['syscount --chart', 'chart calls/s of the top syscalls, every second'],
    ['syscount --metrics 9435', 'serve calls per syscall to Prometheus (tools/syscount/metrics.ts)'],
  ],
};

function errnoOption(text: string): number {
  const n = parseErrno(text);
  if (n === undefined) throw new UsageError(`couldn't map ${text} to an errno`);
  return n;
}

function syscallOption(text: string): number {
  if (/^\d+$/.test(text)) {
    const nr = Number(text);
    if (nr >= NR_SLOTS) throw new UsageError(`syscall number ${nr} is out of range (0 to ${NR_SLOTS - 1})`);
    return nr;
  }
  const found = syscallByName(text);
  if (!found) throw new UsageError(`syscall '${text}' not found (syscount -l lists them)`);
  return found.nr;
}
