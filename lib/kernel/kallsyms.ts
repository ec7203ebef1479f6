// The kernel's functions, from /proc/kallsyms: the one reader the tools share, for kprobes where
// a stable tracepoint is missing. Read once per process and only when a kprobe is considered
// (about 100 ms for the whole file).
import fs from 'node:fs';
import path from 'node:path';
import { tracefsPath } from 'bcc-node-bindings';

let symbols: Set<string> | null = null;
let traceable: Set<string> | null | undefined;

/** Text symbols (functions), module ones included; empty when the file cannot be read. */
function kernelFunctions(): Set<string> {
  if (symbols) return symbols;
  symbols = new Set();
  try {
    for (const line of fs.readFileSync('/proc/kallsyms', 'utf8').split('\n')) {
      // "ffffffff81234560 T __x64_sys_execve": text symbols only.
      const sp1 = line.indexOf(' ');
      const type = line[sp1 + 1];
      if (type !== 'T' && type !== 't' && type !== 'W' && type !== 'w') continue;
      const end = line.indexOf('\t', sp1 + 3);
      symbols.add(line.slice(sp1 + 3, end < 0 ? undefined : end));
    }
  } catch { /* unreadable: no function can be found */ }
  return symbols;
}

/**
 * The functions tracing can attach to by name (tracefs' available_filter_functions), or null
 * where that list cannot be read. kallsyms also names local copies a compiler left of inlined
 * functions, which kprobes refuse: Debian 12's 6.1 has a `t blk_account_io_done` that fails with
 * EINVAL and is not in this list.
 */
function traceableFunctions(): Set<string> | null {
  if (traceable !== undefined) return traceable;
  const root = tracefsPath();
  traceable = null;
  if (!root) return traceable;
  try {
    const text = fs.readFileSync(path.join(root, 'available_filter_functions'), 'utf8');
    // "tcp_sendmsg", or "nf_hook_slow [nf_tables]" for a module's.
    traceable = new Set(text.split('\n').map((line) => line.split(' ')[0]).filter(Boolean));
  } catch { /* unreadable: kallsyms alone answers */ }
  return traceable;
}

/** Whether the running kernel has a function of that name that kprobes and fentry can attach to. */
export function kernelFunctionExists(name: string): boolean {
  if (!kernelFunctions().has(name)) return false;
  const listed = traceableFunctions();
  return listed === null || listed.has(name);
}

// Since 4.17 a syscall's entry point carries an architecture prefix (__x64_sys_execve,
// __arm64_sys_execve, …); bcc's get_syscall_fnname tries the same prefixes in this order.
const SYSCALL_PREFIXES = ['sys_', '__x64_sys_', '__x32_compat_sys_', '__ia32_compat_sys_', '__arm64_sys_',
  '__s390x_sys_', '__s390_sys_', '__riscv_sys_'];

/** "__x64_sys_execve" for "execve" on x86_64, or null when the kernel has no such function. */
export function syscallFunction(syscall: string): string | null {
  const known = kernelFunctions();
  for (const prefix of SYSCALL_PREFIXES) {
    if (known.has(`${prefix}${syscall}`)) return `${prefix}${syscall}`;
  }
  return null;
}
