// fileslower's command line: bcc's options, help texts and examples, plus --metrics. No side
// effects on import (the man pages and the option tests read `spec`).
import { PID_OPTION_RANGE, existingPid, type ToolSpec } from '../../lib/run/cli.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { summaryOf } from '../index.ts';

/** The largest min_ms: a day (its nanoseconds stay an exact integer in the #define). */
export const MAX_MIN_MS = 86_400_000;

export const spec: ToolSpec = {
  name: 'fileslower',
  description: summaryOf('fileslower'),
  options: [
    { long: 'pid', short: 'p', type: 'int', ...PID_OPTION_RANGE, parse: existingPid, metavar: 'PID', help: 'trace this PID only' },
    { long: 'all-files', short: 'a', type: 'boolean', help: 'include non-regular file types (sockets, FIFOs, etc)' },
    ...METRICS_OPTIONS,
  ],
  positionals: [
    { name: 'min_ms', type: 'int', min: 0, max: MAX_MIN_MS, help: 'minimum I/O duration to trace, in ms (default 10)' },
  ],
  examples: [
    ['fileslower', 'trace sync file I/O slower than 10 ms (default)'],
    ['fileslower 1', 'trace sync file I/O slower than 1 ms'],
    ['fileslower -p 185', 'trace PID 185 only'],
    ['fileslower -a 0', 'every read and write of a named file, sockets and devices too'],
    ['fileslower --json', 'one JSON object per slow I/O'],
    ['fileslower --metrics 9435', 'serve slow I/O counts and latency histograms to Prometheus'],
  ],
};

export interface Options extends MetricsOptions {
  pid?: number;
  'all-files': boolean;
  min_ms?: number;
}
