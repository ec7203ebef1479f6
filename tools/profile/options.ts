// profile's command line: bcc's options, help texts and examples, plus --svg. No side effects on
// import (the man pages and the option tests read `spec`).
import fs from 'node:fs';
import path from 'node:path';
import { onlineCpus } from 'bcc-node-bindings';
import { UsageError, existingPid, existingTid, type ParsedOptions, type ToolSpec } from '../../lib/run/cli.ts';
import { CONTAINER_MAP_OPTIONS } from '../../lib/kernel/pinned-maps.ts';
import { summaryOf } from '../index.ts';

/** bcc's "forever": the duration when none is given. */
export const FOREVER = 99999999;
export const DEFAULT_HZ = 49;
export const DEFAULT_STACK_STORAGE = 16384;
/** Each stack slot reserves 127 frames (1 KiB) when the map is made: 256 MiB is past any need. */
export const MAX_STACK_STORAGE = 262144;

export interface Options extends ParsedOptions {
  pid?: number[];
  tid?: number[];
  'user-stacks-only': boolean;
  'kernel-stacks-only': boolean;
  frequency?: number;
  count?: number;
  delimited: boolean;
  annotations: boolean;
  'include-idle': boolean;
  folded: boolean;
  'stack-storage-size': number;
  cpu: number;
  cgroupmap?: string;
  mntnsmap?: string;
  svg?: string;
  duration?: number;
}

/** bcc's positive_int_list: "185" or "185,186"; each must exist now (tracing none prints nothing). */
function idList(check: (id: number) => number) {
  return (value: string): number[] => {
    const ids = value.split(',').map((part) => {
      if (!/^\d+$/.test(part.trim())) throw new UsageError(`expected comma-separated integers, got ${JSON.stringify(value)}`);
      return Number(part.trim());
    });
    return [...new Set(ids.map(check))];
  };
}

/** The kernel refuses a frequency above perf_event_max_sample_rate with a bare EINVAL: said here instead. */
export function maxSampleRate(): number {
  try { return Number(fs.readFileSync('/proc/sys/kernel/perf_event_max_sample_rate', 'utf8').trim()) || 100000; } catch { return 100000; }
}

function frequency(hz: number): number {
  const max = maxSampleRate();
  if (hz > max) throw new UsageError(`${hz} Hz is above this kernel's perf_event_max_sample_rate (${max})`);
  return hz;
}

function cpu(n: number): number {
  if (n === -1) return n;
  let online: number[] = [];
  try { online = onlineCpus(); } catch { /* no sysfs: the attach says so */ }
  if (online.length && !online.includes(n)) throw new UsageError(`CPU ${n} is not online (online: ${online.join(',')})`);
  return n;
}

/** --svg FILE: written at the end, so a directory that does not exist would lose the whole run. */
export function svgPath(file: string): string {
  const dir = path.dirname(path.resolve(file));
  let isDir = false;
  try { isDir = fs.statSync(dir).isDirectory(); } catch { /* reported below */ }
  if (!isDir) throw new UsageError(`${JSON.stringify(dir)} is not a directory`);
  return file;
}

export const spec: ToolSpec = {
  name: 'profile',
  description: summaryOf('profile'),
  options: [
    { long: 'pid', short: 'p', type: 'string', metavar: 'PID', parse: idList(existingPid), help: 'profile process with one or more comma separated PIDs only' },
    { long: 'tid', short: 'L', type: 'string', metavar: 'TID', parse: idList(existingTid), help: 'profile thread with one or more comma separated TIDs only' },
    { long: 'user-stacks-only', short: 'U', type: 'boolean', help: 'show stacks from user space only (no kernel space stacks)' },
    { long: 'kernel-stacks-only', short: 'K', type: 'boolean', help: 'show stacks from kernel space only (no user space stacks)' },
    { long: 'frequency', short: 'F', type: 'int', min: 1, max: 1_000_000, metavar: 'FREQUENCY', parse: frequency, help: 'sample frequency, Hertz' },
    { long: 'count', short: 'c', type: 'int', min: 1, max: Number.MAX_SAFE_INTEGER, metavar: 'COUNT', help: 'sample period, number of events' },
    { long: 'delimited', short: 'd', type: 'boolean', help: 'insert delimiter between kernel/user stacks' },
    { long: 'annotations', short: 'a', type: 'boolean', help: 'add _[k] annotations to kernel frames' },
    { long: 'include-idle', short: 'I', type: 'boolean', help: 'include CPU idle stacks' },
    { long: 'folded', short: 'f', type: 'boolean', help: 'output folded format, one line per stack (for flame graphs)' },
    {
      long: 'stack-storage-size', type: 'int', min: 1, max: MAX_STACK_STORAGE, default: DEFAULT_STACK_STORAGE, metavar: 'STACK_STORAGE_SIZE',
      help: `the number of unique stack traces that can be stored and displayed (default ${DEFAULT_STACK_STORAGE})`,
    },
    { long: 'cpu', short: 'C', type: 'int', min: 0, max: 4096, default: -1, metavar: 'CPU', parse: cpu, help: 'cpu number to run profile on' },
    ...CONTAINER_MAP_OPTIONS,
    { long: 'svg', type: 'string', metavar: 'FILE', parse: svgPath, help: 'also write an interactive flame graph (SVG) of the stacks to FILE' },
  ],
  positionals: [
    { name: 'duration', type: 'int', min: 1, max: FOREVER, help: 'duration of trace, in seconds' },
  ],
  examples: [
    ['profile', 'profile stack traces at 49 Hertz until Ctrl-C'],
    ['profile -F 99', 'profile stack traces at 99 Hertz'],
    ['profile -c 1000000', 'profile stack traces every 1 in a million events'],
    ['profile 5', 'profile at 49 Hertz for 5 seconds only'],
    ['profile -f 5', 'output in folded format for flame graphs'],
    ['profile -p 185', 'only profile process with PID 185'],
    ['profile -L 185', 'only profile thread with TID 185'],
    ['profile -U', 'only show user space stacks (no kernel)'],
    ['profile -K', 'only show kernel space stacks (no user)'],
    ['profile --cgroupmap mappath', 'only trace cgroups in this BPF map'],
    ['profile --mntnsmap mappath', 'only trace mount namespaces in the map'],
    ['profile -F 99 --svg cpu.svg 10', 'sample for 10 s and write a flame graph to cpu.svg'],
    ['profile --json 5', 'one JSON object per stack, frames with their modules'],
  ],
};

/** bcc's mutually exclusive groups, checked after parsing, worded as argparse words them. */
export function checkExclusive(o: Options): void {
  const pairs: Array<[keyof Options, string, keyof Options, string]> = [
    ['tid', '-L/--tid', 'pid', '-p/--pid'],
    ['kernel-stacks-only', '-K/--kernel-stacks-only', 'user-stacks-only', '-U/--user-stacks-only'],
    ['count', '-c/--count', 'frequency', '-F/--frequency'],
  ];
  for (const [a, aName, b, bName] of pairs) {
    const given = (k: keyof Options) => o[k] !== undefined && o[k] !== false;
    if (given(a) && given(b)) throw new UsageError(`argument ${aName}: not allowed with argument ${bName}`);
  }
  if (o.json && o.folded) throw new UsageError('--json and -f/--folded exclude each other');
}
