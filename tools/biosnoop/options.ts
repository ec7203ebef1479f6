// biosnoop's command line: bcc's options (-Q, -d, -P) with their help texts and examples, and
// libbpf-tools' additions (-t, -m, a duration; its -c needs a filter at the request's creation,
// which the block-request core does not offer yet). No side effects on import: the man pages and
// the option tests read this spec too.
import type { ToolSpec } from '../../lib/run/cli.ts';
import { diskByName, type Disk } from '../../lib/block/disks.ts';
import { summaryOf } from '../index.ts';

export const spec: ToolSpec = {
  name: 'biosnoop',
  description: summaryOf('biosnoop'),
  options: [
    { long: 'queue', short: 'Q', type: 'boolean', help: 'include OS queued time' },
    { long: 'disk', short: 'd', type: 'string', metavar: 'DISK', parse: diskByName, help: 'trace this disk only' },
    { long: 'pattern', short: 'P', type: 'boolean', help: 'display block I/O pattern (sequential or random)' },
    { long: 'timestamp', short: 't', type: 'boolean', help: 'include timestamp on output (wall clock, HH:MM:SS.mmm, instead of TIME(s))' },
    { long: 'min', short: 'm', type: 'int', min: 0, max: 2_147_483, metavar: 'MIN', help: 'min latency to trace, in ms' },
  ],
  positionals: [{ name: 'duration', type: 'int', min: 1, max: 99999999, help: 'total duration of trace in seconds' }],
  examples: [
    ['biosnoop', 'trace all block I/O'],
    ['biosnoop -Q', 'include OS queued time'],
    ['biosnoop -d sdc', 'trace sdc only'],
    ['biosnoop -P', 'display block I/O pattern'],
    ['biosnoop -t', 'use timestamps instead'],
    ['biosnoop 10', 'trace for 10 seconds only'],
    ['biosnoop -m 1', 'trace for slower than 1ms'],
    ['biosnoop --json', 'one JSON object per I/O, with exact numbers'],
  ],
};

export interface Options {
  queue: boolean;
  disk?: Disk;
  pattern: boolean;
  timestamp: boolean;
  min?: number;
  duration?: number;
}
