// mountsnoop's command line: bcc's options, help texts and examples. No side effects on import
// (the man pages and the option tests read `spec`).
import type { ToolSpec } from '../../lib/run/cli.ts';
import { CONTAINER_MAP_OPTIONS } from '../../lib/kernel/pinned-maps.ts';
import { summaryOf } from '../index.ts';

export interface Options {
  parent_process: boolean;
  cgroupmap?: string;
  mntnsmap?: string;
}

export const spec: ToolSpec = {
  name: 'mountsnoop',
  description: summaryOf('mountsnoop'),
  options: [
    { long: 'parent_process', short: 'P', type: 'boolean', help: 'also snoop the parent process' },
    ...CONTAINER_MAP_OPTIONS,
  ],
  examples: [
    ['mountsnoop', 'trace mount(), umount() and the new mount API system-wide'],
    ['mountsnoop -P', 'also show the parent process (PCOMM, PPID)'],
    ['mountsnoop --cgroupmap mappath', 'only trace cgroups in this BPF map'],
    ['mountsnoop --mntnsmap mappath', 'only trace mount namespaces in the map'],
    ['mountsnoop --json', 'one JSON object per call'],
  ],
};
