// The registry: every command bpfkit has, in the order `bpfkit --list` shows them. A tool lives
// in tools/<name>/ (its entry tools/<name>/<name>.ts, its C program, notes and example file);
// tools/<name>.ts is a link to the entry, so `sudo ./tools/<name>.ts` runs from a checkout.
//
// Everything else that lists tools is made from this list or checked against it by
// test/unit/registry.test.ts: package.json's bin and man fields, the build's entry points, the
// dispatcher, the exporter, the man pages, the README's table, the conventions tests, the bench.
// This file imports nothing, so that `bpfkit --list` stays instant.

export interface ToolInfo {
  /** The command: `bpfkit <name>`, tools/<name>/<name>.ts, the bin link, the man page. */
  name: string;
  /** One line: `bpfkit --list`, the description in --help, the man page's NAME, the README. */
  summary: string;
  /** bcc's tool of the same job, when there is one (the man page's SEE ALSO). */
  bcc?: string;
  /** A node agent that runs other tools' programs, not a tracing tool of its own. */
  agent?: true;
  /** `bpfkit exporter` can load it: tools/<name>/metrics.ts exports `exporterMetrics`. */
  exporter?: true;
}

export const REGISTRY: readonly ToolInfo[] = [
  { name: 'execsnoop', summary: 'Trace new processes via exec() syscalls', bcc: 'execsnoop', exporter: true },
  { name: 'syscount', summary: 'Summarize syscall counts and latencies', bcc: 'syscount', exporter: true },
  { name: 'biolatency', summary: 'Summarize block device I/O latency as a histogram', bcc: 'biolatency', exporter: true },
  { name: 'tcptop', summary: 'Summarize TCP send/recv throughput by host, top-style', bcc: 'tcptop', exporter: true },
  { name: 'opensnoop', summary: 'Trace open() syscalls', bcc: 'opensnoop', exporter: true },
  { name: 'killsnoop', summary: 'Trace signals issued by the kill() syscall', bcc: 'killsnoop', exporter: true },
  { name: 'exitsnoop', summary: 'Trace all process termination (exit, fatal signal)', bcc: 'exitsnoop', exporter: true },
  { name: 'oomkill', summary: 'Trace the OOM killer', bcc: 'oomkill', exporter: true },
  { name: 'statsnoop', summary: 'Trace stat() syscalls', bcc: 'statsnoop' },
  { name: 'mountsnoop', summary: 'Trace mount and umount syscalls system-wide', bcc: 'mountsnoop' },
  { name: 'tcpconnect', summary: 'Trace TCP connects', bcc: 'tcpconnect', exporter: true },
  { name: 'tcpaccept', summary: 'Trace TCP accepts', bcc: 'tcpaccept', exporter: true },
  { name: 'tcplife', summary: 'Trace the lifespan of TCP sessions and summarize', bcc: 'tcplife', exporter: true },
  { name: 'tcpretrans', summary: 'Trace TCP retransmits', bcc: 'tcpretrans', exporter: true },
  { name: 'tcpconnlat', summary: 'Trace TCP connects and show connection latency', bcc: 'tcpconnlat', exporter: true },
  { name: 'tcpdrop', summary: 'Trace TCP drops by the kernel, with the reason and kernel stack', bcc: 'tcpdrop', exporter: true },
  { name: 'pktcount', summary: 'Count packets and bytes per protocol and port with XDP, and drop chosen ones' },
  { name: 'profile', summary: 'Profile CPU usage by sampling stack traces at a timed interval', bcc: 'profile' },
  { name: 'offcputime', summary: 'Summarize off-CPU time by stack trace', bcc: 'offcputime' },
  { name: 'runqlat', summary: 'Summarize run queue (scheduler) latency as a histogram', bcc: 'runqlat', exporter: true },
  { name: 'runqlen', summary: 'Summarize scheduler run queue length as a histogram', bcc: 'runqlen', exporter: true },
  { name: 'cpudist', summary: 'Summarize on- and off-CPU time per task as a histogram', bcc: 'cpudist', exporter: true },
  { name: 'biosnoop', summary: 'Trace block device I/O with PID and latency', bcc: 'biosnoop' },
  { name: 'biotop', summary: 'Block device (disk) I/O by process, top-style', bcc: 'biotop', exporter: true },
  { name: 'bitesize', summary: 'Summarize block device I/O size as a histogram per process', bcc: 'bitesize', exporter: true },
  { name: 'fileslower', summary: 'Trace slow synchronous file reads and writes', bcc: 'fileslower', exporter: true },
  { name: 'capable', summary: 'Trace security capability checks (cap_capable())', bcc: 'capable', exporter: true },
  { name: 'setuids', summary: 'Trace the setuid family of syscalls: privilege changes' },
  { name: 'bashreadline', summary: 'Print commands entered into bash, system-wide', bcc: 'bashreadline' },
  { name: 'secwatch', summary: 'Raise Falco-style alerts from rules on system calls, and kill or deny in the kernel', exporter: true },
  { name: 'exporter', summary: 'Serve the tools\' metrics to Prometheus (several tools, one port)', agent: true },
];

/** Tracing tools, without the agents. */
export const TOOL_NAMES: readonly string[] = REGISTRY.filter((t) => !t.agent).map((t) => t.name);

/** The entry of a command by name, or undefined. */
export function toolInfo(name: string): ToolInfo | undefined {
  return REGISTRY.find((t) => t.name === name);
}

/** The summary of a registered command; specs take their description from here. */
export function summaryOf(name: string): string {
  const info = toolInfo(name);
  if (!info) throw new Error(`${name} is not in tools/index.ts`);
  return info.summary;
}
