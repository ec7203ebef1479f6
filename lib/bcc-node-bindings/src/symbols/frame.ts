// A named address, and its text as bcc's BPF.sym() / BPF.ksym() print it.
import path from 'node:path';

export interface Frame {
  addr: bigint;
  /** The function ("burn_cpu", "Foo::bar(int)" demangled, "LazyCompile:*fib /x.js:3" from a perf map),
   *  or null when nothing names the address. */
  name: string | null;
  /** Bytes from the function's start (0 when name is null). */
  offset: number;
  /** The file that maps the address, as the process sees it ("/usr/lib/x86_64-linux-gnu/libc.so.6"),
   *  "[perf-map]" for a JIT region named by /tmp/perf-PID.map, the kernel module for a kernel
   *  address in one ("nf_tables"), or undefined (core kernel, or nothing maps it). */
  module?: string;
}

/** What bcc prints where no symbol covers an address. */
export const UNKNOWN = '[unknown]';

/**
 * As bcc's BPF.sym(addr, pid, show_module, show_offset) / ksym(addr, show_module, show_offset) print:
 * "burn_cpu", "burn_cpu+0x1a", "burn_cpu [burn-cpu]" (module basename), "[unknown]", "[unknown] [libc.so.6]".
 * A module already in brackets ("[perf-map]", "[vdso]") is not bracketed twice.
 */
export function formatFrame(frame: Frame, options: { offset?: boolean; module?: boolean } = {}): string {
  let text = frame.name === null ? UNKNOWN : frame.name;
  if (options.offset && frame.name !== null) text += `+0x${frame.offset.toString(16)}`;
  if (options.module && frame.module) {
    const mod = frame.module.startsWith('[') ? frame.module : `[${path.basename(frame.module)}]`;
    text += ` ${mod}`;
  }
  return text;
}
