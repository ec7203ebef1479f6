// The tools `bpfkit` knows, with the one-line descriptions `bpfkit --list` prints.
export const TOOLS: Record<string, string> = {
  execsnoop: 'Trace new processes via exec() syscalls',
  syscount: 'Summarize syscall counts and latencies',
  biolatency: 'Summarize block device I/O latency as a histogram',
  tcptop: 'Summarize TCP send/recv throughput by host, top-style',
};
