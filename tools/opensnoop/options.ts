// opensnoop's command line: bcc's options, help texts and examples. No side effects on import
// (the man pages and the option tests read `spec`).
import { PID_OPTION_RANGE, UsageError, existingPid, existingTid, uidFromUser, type ToolSpec } from '../../lib/run/cli.ts';
import { CONTAINER_MAP_OPTIONS } from '../../lib/kernel/pinned-maps.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { summaryOf } from '../index.ts';

export interface FlagFilter {
  /** Bits of which at least one must be set. */
  mask: number;
  /** O_RDONLY was named: an access mode of 0, which no bit can say. */
  rdonly: boolean;
}

export interface Options extends MetricsOptions {
  timestamp: boolean;
  'print-uid': boolean;
  failed: boolean;
  pid?: number;
  tid?: number;
  cgroupmap?: string;
  mntnsmap?: string;
  uid?: number;
  duration?: number;
  name?: string;
  extended_fields: boolean;
  flag_filter?: FlagFilter;
  'full-path': boolean;
  'buffer-pages'?: number;
}

/**
 * The open flags -f takes, by the names Python's os module (and so bcc) knows, with the values
 * of the kernel's asm-generic fcntl.h (x86_64, arm64, riscv). O_LARGEFILE is the kernel's bit,
 * which Python spells 0 on 64-bit machines (bcc's -f O_LARGEFILE matches nothing).
 */
export const OPEN_FLAGS: Readonly<Record<string, number>> = Object.freeze({
  O_RDONLY: 0, O_WRONLY: 0o1, O_RDWR: 0o2, O_ACCMODE: 0o3, O_CREAT: 0o100, O_EXCL: 0o200, O_NOCTTY: 0o400,
  O_TRUNC: 0o1000, O_APPEND: 0o2000, O_NONBLOCK: 0o4000, O_NDELAY: 0o4000, O_DSYNC: 0o10000, O_ASYNC: 0o20000,
  O_DIRECT: 0o40000, O_LARGEFILE: 0o100000, O_DIRECTORY: 0o200000, O_NOFOLLOW: 0o400000, O_NOATIME: 0o1000000,
  O_CLOEXEC: 0o2000000, O_SYNC: 0o4010000, O_FSYNC: 0o4010000, O_RSYNC: 0o4010000, O_PATH: 0o10000000,
  O_TMPFILE: 0o20200000,
});

/** -f: one flag name, or several joined by commas ("O_WRONLY,O_RDWR"; repeated -f are joined so). */
export function flagFilter(value: string): FlagFilter {
  const filter: FlagFilter = { mask: 0, rdonly: false };
  for (const name of value.split(',')) {
    const flag = name.trim();
    if (!Object.hasOwn(OPEN_FLAGS, flag)) throw new UsageError(`Bad flag: ${JSON.stringify(flag)} (one of ${Object.keys(OPEN_FLAGS).join(', ')})`);
    if (flag === 'O_RDONLY') filter.rdonly = true;
    filter.mask |= OPEN_FLAGS[flag];
  }
  return filter;
}

/** A power of two, as the kernel sizes ring and perf buffers. */
function powerOfTwo(value: number): number {
  if ((value & (value - 1)) !== 0) throw new UsageError(`expected a power of two, got ${value}`);
  return value;
}

export const spec: ToolSpec = {
  name: 'opensnoop',
  description: summaryOf('opensnoop'),
  options: [
    { long: 'timestamp', short: 'T', type: 'boolean', help: 'include timestamp on output' },
    { long: 'print-uid', short: 'U', type: 'boolean', help: 'print UID column' },
    { long: 'failed', short: 'x', type: 'boolean', help: 'only show failed opens' },
    { long: 'pid', short: 'p', type: 'int', ...PID_OPTION_RANGE, parse: existingPid, metavar: 'PID', help: 'trace this PID only' },
    { long: 'tid', short: 't', type: 'int', ...PID_OPTION_RANGE, parse: existingTid, metavar: 'TID', help: 'trace this TID only' },
    ...CONTAINER_MAP_OPTIONS,
    { long: 'uid', short: 'u', type: 'string', metavar: 'UID', parse: uidFromUser, help: 'trace this UID only' },
    { long: 'duration', short: 'd', type: 'int', min: 1, max: 2_147_483, metavar: 'DURATION', help: 'total duration of trace in seconds' },
    { long: 'name', short: 'n', type: 'string', metavar: 'NAME', help: 'only print process names containing this name' },
    { long: 'extended_fields', short: 'e', type: 'boolean', help: 'show extended fields' },
    { long: 'flag_filter', short: 'f', type: 'string', repeatable: true, metavar: 'FLAG_FILTER', parse: flagFilter, help: 'filter on flags argument (e.g., O_WRONLY)' },
    { long: 'full-path', short: 'F', type: 'boolean', help: 'show full path for an open file with relative path' },
    {
      long: 'buffer-pages', short: 'b', type: 'int', min: 1, max: 1 << 18, parse: powerOfTwo, metavar: 'BUFFER_PAGES',
      help: 'size of the ring buffer in pages (perf buffer: per CPU); a power of two, defaults to 16 MiB (perf: 64)',
    },
    ...METRICS_OPTIONS,
  ],
  examples: [
    ['opensnoop', 'trace all open() syscalls'],
    ['opensnoop -T', 'include timestamps'],
    ['opensnoop -U', 'include UID'],
    ['opensnoop -x', 'only show failed opens'],
    ['opensnoop -p 181', 'only trace PID 181'],
    ['opensnoop -t 123', 'only trace TID 123'],
    ['opensnoop -u 1000', 'only trace UID 1000'],
    ['opensnoop -d 10', 'trace for 10 seconds only'],
    ['opensnoop -n main', 'only print process names containing "main"'],
    ['opensnoop -e', 'show extended fields'],
    ['opensnoop -f O_WRONLY -f O_RDWR', 'only print calls for writing'],
    ['opensnoop -F', 'show full path for an open file with relative path'],
    ['opensnoop --cgroupmap mappath', 'only trace cgroups in this BPF map'],
    ['opensnoop --mntnsmap mappath', 'only trace mount namespaces in the map'],
    ['opensnoop --json', 'one JSON object per open'],
    ['opensnoop --metrics 9435', 'serve opens and open errors per command to Prometheus'],
  ],
};
