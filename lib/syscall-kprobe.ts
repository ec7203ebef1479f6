// The kernel function behind a system call, for kprobes where the syscall tracepoints are missing
// (kernels built without CONFIG_FTRACE_SYSCALLS). Since 4.17 the entry point carries an
// architecture prefix (__x64_sys_execve, __arm64_sys_execve, …); bcc's get_syscall_fnname tries
// the same prefixes in this order and keeps the first that /proc/kallsyms lists.
import fs from 'node:fs';

const PREFIXES = ['sys_', '__x64_sys_', '__x32_compat_sys_', '__ia32_compat_sys_', '__arm64_sys_',
  '__s390x_sys_', '__s390_sys_', '__riscv_sys_'];

let symbols: Set<string> | null = null;

function kernelFunctions(): Set<string> {
  if (symbols) return symbols;
  symbols = new Set();
  try {
    for (const line of fs.readFileSync('/proc/kallsyms', 'utf8').split('\n')) {
      // "ffffffff81234560 T __x64_sys_execve": text symbols only, module ones included.
      const sp1 = line.indexOf(' ');
      const type = line[sp1 + 1];
      if (type !== 'T' && type !== 't' && type !== 'W' && type !== 'w') continue;
      const end = line.indexOf('\t', sp1 + 3);
      symbols.add(line.slice(sp1 + 3, end < 0 ? undefined : end));
    }
  } catch { /* unreadable: no function can be found */ }
  return symbols;
}

/** "__x64_sys_execve" for "execve" on x86_64, or null when the kernel has no such function. */
export function syscallFunction(syscall: string): string | null {
  const known = kernelFunctions();
  for (const prefix of PREFIXES) {
    if (known.has(`${prefix}${syscall}`)) return `${prefix}${syscall}`;
  }
  return null;
}
