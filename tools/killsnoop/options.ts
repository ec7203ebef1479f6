// killsnoop's command line: bcc's options, help texts and examples, and -n from libbpf-tools'
// sigsnoop. No side effects on import (the man pages and the option tests read `spec`).
import { PID_OPTION_RANGE, UsageError, existingPid, type ToolSpec } from '../../lib/run/cli.ts';
import { parseSignal } from '../../lib/kernel/signals.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { summaryOf } from '../index.ts';

export interface Options extends MetricsOptions {
  failed: boolean;
  pid?: number;
  tpid?: number;
  signal?: number[];
  name: boolean;
}

/** -s: "9", "9,15", "KILL,TERM", "SIGUSR1,RTMIN+2" → signal numbers, sorted, each once. */
export function signalList(value: string): number[] {
  const out = new Set<number>();
  for (const part of value.split(',')) {
    const n = parseSignal(part.trim());
    if (n === undefined) throw new UsageError(`no signal ${JSON.stringify(part)} (a number from 0 to 64, or a name as kill -l prints it)`);
    out.add(n);
  }
  return [...out].sort((a, b) => a - b);
}

export const spec: ToolSpec = {
  name: 'killsnoop',
  description: summaryOf('killsnoop'),
  options: [
    { long: 'failed', short: 'x', type: 'boolean', help: 'only show failed kill syscalls' },
    { long: 'pid', short: 'p', type: 'int', ...PID_OPTION_RANGE, parse: existingPid, metavar: 'PID', help: 'trace this PID only which is the sender of signal' },
    // The target need not exist: a signal to a PID that is gone (ESRCH) is worth seeing.
    { long: 'tpid', short: 'T', type: 'int', ...PID_OPTION_RANGE, metavar: 'TPID', help: 'trace this target PID only which is the receiver of signal' },
    { long: 'signal', short: 's', type: 'string', metavar: 'SIGNAL', parse: signalList, help: 'trace a signal or a signal list (numbers or names: 9,15 or KILL,TERM)' },
    { long: 'name', short: 'n', type: 'boolean', help: 'print signal names (as kill -l does) instead of numbers' },
    ...METRICS_OPTIONS,
  ],
  examples: [
    ['killsnoop', 'trace all kill() signals'],
    ['killsnoop -x', 'only show failed kills'],
    ['killsnoop -p 181', 'only trace PID 181'],
    ['killsnoop -T 189', 'only trace target PID 189'],
    ['killsnoop -s 9', 'only trace signal 9'],
    ['killsnoop -s 9,15', 'trace signal 9 and 15'],
    ['killsnoop -s KILL,TERM -n', 'trace SIGKILL and SIGTERM, and print signal names'],
    ['killsnoop --json', 'one JSON object per signal'],
    ['killsnoop --metrics 9435', 'serve signals by signal, and failures by signal and errno, to Prometheus'],
  ],
};
