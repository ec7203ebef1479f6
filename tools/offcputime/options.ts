// offcputime's command line: bcc's options (-p -t -u -k -U -K -d -f -m -M --state
// --stack-storage-size duration), help texts and examples, plus bpfkit's own (--svg, --json,
// --metrics). No side effects on import (the man pages and the option tests read `spec`).
import fs from 'node:fs';
import path from 'node:path';
import { PID_OPTION_RANGE, UsageError, existingPid, existingTid, type ToolSpec } from '../../lib/run/cli.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { summaryOf } from '../index.ts';

export interface Options extends MetricsOptions {
  pid?: number;
  tid?: number;
  'user-threads-only': boolean;
  'kernel-threads-only': boolean;
  'user-stacks-only': boolean;
  'kernel-stacks-only': boolean;
  delimited: boolean;
  folded: boolean;
  'stack-storage-size': number;
  'min-block-time': number;
  'max-block-time'?: number;
  state?: number;
  svg?: string;
  duration?: number;
}

/** Stacks the kernel can keep: each reserves 127 frames (1 KiB), allocated when the map is made. */
export const MAX_STACK_STORAGE = 1 << 20;
/** task_struct.__state is an unsigned int. */
const MAX_STATE = 0xffffffff;

/** --svg FILE: checked now, so that a run of minutes does not end with nowhere to write. */
export function svgPath(file: string): string {
  const dir = path.dirname(path.resolve(file));
  let isDir = false;
  try { isDir = fs.statSync(dir).isDirectory(); } catch { /* missing */ }
  if (!isDir) throw new UsageError(`no such directory ${JSON.stringify(dir)}`);
  return file;
}

export const spec: ToolSpec = {
  name: 'offcputime',
  description: summaryOf('offcputime'),
  options: [
    { long: 'pid', short: 'p', type: 'int', ...PID_OPTION_RANGE, parse: existingPid, metavar: 'PID', help: 'trace this PID only' },
    { long: 'tid', short: 't', type: 'int', ...PID_OPTION_RANGE, parse: existingTid, metavar: 'TID', help: 'trace this TID only' },
    { long: 'user-threads-only', short: 'u', type: 'boolean', help: 'user threads only (no kernel threads)' },
    { long: 'kernel-threads-only', short: 'k', type: 'boolean', help: 'kernel threads only (no user threads)' },
    { long: 'user-stacks-only', short: 'U', type: 'boolean', help: 'show stacks from user space only (no kernel space stacks)' },
    { long: 'kernel-stacks-only', short: 'K', type: 'boolean', help: 'show stacks from kernel space only (no user space stacks)' },
    { long: 'delimited', short: 'd', type: 'boolean', help: 'insert delimiter between kernel/user stacks' },
    { long: 'folded', short: 'f', type: 'boolean', help: 'output folded format' },
    {
      long: 'stack-storage-size', type: 'int', min: 1, max: MAX_STACK_STORAGE, default: 1024, metavar: 'STACK_STORAGE_SIZE',
      help: 'the number of unique stack traces that can be stored and displayed (default 1024)',
    },
    {
      long: 'min-block-time', short: 'm', type: 'int', min: 1, default: 1, metavar: 'MIN_BLOCK_TIME',
      help: 'the amount of time in microseconds over which we store traces (default 1)',
    },
    {
      long: 'max-block-time', short: 'M', type: 'int', min: 1, metavar: 'MAX_BLOCK_TIME',
      help: 'the amount of time in microseconds under which we store traces (default U64_MAX)',
    },
    {
      long: 'state', type: 'int', min: 0, max: MAX_STATE, metavar: 'STATE',
      help: 'filter on this thread state bitmask (eg, 2 == TASK_UNINTERRUPTIBLE) see include/linux/sched.h',
    },
    { long: 'svg', type: 'string', metavar: 'FILE', parse: svgPath, help: 'also write an interactive flame graph (SVG) to FILE at the end' },
    ...METRICS_OPTIONS,
  ],
  positionals: [
    { name: 'duration', type: 'int', min: 1, max: 99999999, help: 'duration of trace, in seconds' },
  ],
  examples: [
    ['offcputime', 'trace off-CPU stack time until Ctrl-C'],
    ['offcputime 5', 'trace for 5 seconds only'],
    ['offcputime -f 5', '5 seconds, and output in folded format'],
    ['offcputime -m 1000', 'trace only events that last more than 1000 usec'],
    ['offcputime -M 10000', 'trace only events that last less than 10000 usec'],
    ['offcputime -p 185', 'only trace threads for PID 185'],
    ['offcputime -t 188', 'only trace thread 188'],
    ['offcputime -u', 'only trace user threads (no kernel)'],
    ['offcputime -k', 'only trace kernel threads (no user)'],
    ['offcputime -U', 'only show user space stacks (no kernel)'],
    ['offcputime -K', 'only show kernel space stacks (no user)'],
    ['offcputime --state 2', 'only time blocks in uninterruptible sleep (TASK_UNINTERRUPTIBLE)'],
    ['offcputime --svg offcpu.svg 10', '10 seconds, and a flame graph of it in offcpu.svg'],
    ['offcputime --json 5', 'one JSON object per stack'],
    ['offcputime --metrics 9435', 'serve off-CPU seconds per command to Prometheus on 127.0.0.1:9435'],
  ],
};

/** bcc's mutually exclusive groups, in argparse's words. */
export function checkExclusive(o: Options): void {
  const threads: Array<[keyof Options, string]> = [
    ['pid', '-p/--pid'], ['tid', '-t/--tid'], ['user-threads-only', '-u/--user-threads-only'], ['kernel-threads-only', '-k/--kernel-threads-only'],
  ];
  const stacks: Array<[keyof Options, string]> = [['user-stacks-only', '-U/--user-stacks-only'], ['kernel-stacks-only', '-K/--kernel-stacks-only']];
  for (const group of [threads, stacks]) {
    const given = group.filter(([k]) => o[k] !== undefined && o[k] !== false);
    if (given.length > 1) throw new UsageError(`argument ${given[1][1]}: not allowed with argument ${given[0][1]}`);
  }
  if (o['kernel-threads-only'] && o['user-stacks-only']) {
    throw new UsageError("displaying user stacks for kernel threads doesn't make sense (-k with -U)");
  }
  const max = o['max-block-time'];
  if (max !== undefined && max < o['min-block-time']) {
    throw new UsageError(`argument -M/--max-block-time: ${max} is below -m/--min-block-time (${o['min-block-time']}): nothing would be counted`);
  }
}
