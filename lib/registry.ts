// The tools `bpfkit` knows, with the one-line descriptions `bpfkit --list` prints.
export const TOOLS: Record<string, string> = {
  execsnoop: 'Trace new processes via exec() syscalls',
  syscount: 'Summarize syscall counts and latencies',
  biolatency: 'Summarize block device I/O latency as a histogram',
  tcptop: 'Summarize TCP send/recv throughput by host, top-style',
};

// Commands that are not tools of their own: `bpfkit exporter` runs several tools' programs.
export const AGENTS: Record<string, string> = {
  exporter: 'Serve the tools\' metrics to Prometheus (several tools, one port)',
};
