// setuids' command line: bcc's style of options (-p, -T) around bpftrace's tool, which has none.
// No side effects on import (the man pages and the option tests read `spec`).
import { PID_OPTION_RANGE, existingPid, type ToolSpec } from '../../lib/run/cli.ts';
import { summaryOf } from '../index.ts';

export interface Options {
  pid?: number;
  timestamp: boolean;
}

export const spec: ToolSpec = {
  name: 'setuids',
  description: summaryOf('setuids'),
  options: [
    { long: 'pid', short: 'p', type: 'int', ...PID_OPTION_RANGE, parse: existingPid, metavar: 'PID', help: 'trace this PID only' },
    { long: 'timestamp', short: 'T', type: 'boolean', help: 'include timestamp on output (TIME(s): seconds since tracing began)' },
  ],
  examples: [
    ['setuids', 'trace every call of the setuid family: setuid, setgid, setre*, setres*, setfs*'],
    ['setuids -p 181', 'only trace PID 181'],
    ['setuids -T', 'include timestamps'],
    ['setuids --json', 'one JSON object per call, with every id the caller had before it'],
  ],
};
