// statsnoop's command line: bcc's options, help texts and examples, and -T. No side effects on
// import (the man pages and the option tests read `spec`).
import { PID_OPTION_RANGE, existingPid, type ToolSpec } from '../../lib/run/cli.ts';
import { summaryOf } from '../index.ts';

export interface Options {
  time: boolean;
  timestamp: boolean;
  sysname: boolean;
  failed: boolean;
  pid?: number;
}

export const spec: ToolSpec = {
  name: 'statsnoop',
  description: summaryOf('statsnoop'),
  options: [
    { long: 'time', short: 'T', type: 'boolean', help: 'include time column on output (HH:MM:SS)' },
    { long: 'timestamp', short: 't', type: 'boolean', help: 'include timestamp on output' },
    { long: 'sysname', short: 's', type: 'boolean', help: 'include syscall name on output' },
    { long: 'failed', short: 'x', type: 'boolean', help: 'only show failed stats' },
    { long: 'pid', short: 'p', type: 'int', ...PID_OPTION_RANGE, parse: existingPid, metavar: 'PID', help: 'trace this PID only' },
  ],
  examples: [
    ['statsnoop', 'trace all stat() syscalls'],
    ['statsnoop -t', 'include timestamps'],
    ['statsnoop -T', 'include time (HH:MM:SS)'],
    ['statsnoop -s', 'include syscall name'],
    ['statsnoop -x', 'only show failed stats'],
    ['statsnoop -p 181', 'only trace PID 181'],
    ['statsnoop --json', 'one JSON object per call'],
  ],
};
