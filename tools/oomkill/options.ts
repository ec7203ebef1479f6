// oomkill's command line. bcc's oomkill takes no options; these are the toolkit's (--json,
// --metrics, …). No side effects on import (the man pages and the option tests read `spec`).
import type { ToolSpec } from '../../lib/run/cli.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { summaryOf } from '../index.ts';

export type Options = MetricsOptions;

export const spec: ToolSpec = {
  name: 'oomkill',
  description: summaryOf('oomkill'),
  options: [...METRICS_OPTIONS],
  examples: [
    ['oomkill', 'trace OOM kills'],
    ['oomkill --json', 'one JSON object per kill, with the victim\'s memory'],
    ['oomkill --metrics 9435', 'serve OOM kills per victim command to Prometheus'],
  ],
};
