// What a tool's plan may ask of the running kernel, as one interface: a tool's configuration
// function takes a KernelView (defaulting to liveKernel()), so its choices can be tested without
// a kernel by handing it another one (see test/unit/biolatency-program.test.ts).
import os from 'node:os';
import {
  fentryUsable, kernelBtf, kernelBtfOrNull, kprobesAvailable, possibleCpus, rawTracepointSupported, ringBufferSupported, tracepointExists,
} from 'bcc-node-bindings';
import { kernelFunctionExists, syscallFunction } from './kallsyms.ts';
import { tracepointFields } from './tracepoint-fields.ts';

export interface KernelView {
  /** tracefs lists events/<category>/<event>. */
  tracepoint(category: string, event: string): boolean;
  /** A tracepoint's field names ("pid", "comm", …, without common_*), or null when it does not exist. */
  tracepointFields(category: string, event: string): string[] | null;
  /** Raw tracepoints can be loaded (4.17+). */
  rawTracepoints(): boolean;
  /** The kernel has kprobes (CONFIG_KPROBES). */
  kprobes(): boolean;
  /** A kernel function of that name exists (kallsyms); it may be renamed or inlined elsewhere. */
  kernelFunction(name: string): boolean;
  /** The kernel function behind a syscall ("__x64_sys_execve"), or null. */
  syscallFunction(syscall: string): string | null;
  /** fentry/fexit programs load and attach here. */
  fentry(): boolean;
  /** BPF ring buffers (5.8+). */
  ringBuffer(): boolean;
  /** Byte offset of struct.field ("ns.inum" for nested) in the running kernel's BTF, or undefined. */
  offset(struct: string, field: string): number | undefined;
  /** Index of the argument of type `struct <type> *` a raw tracepoint passes, from BTF, or undefined. */
  rawArg(tp: string, type: string): number | undefined;
  /** uname -r. */
  release: string;
  /** Possible CPUs (per-CPU maps and buffers are sized by them). */
  cpus(): number;
}

export function liveKernel(): KernelView {
  return {
    tracepoint: tracepointExists,
    tracepointFields,
    rawTracepoints: rawTracepointSupported,
    kprobes: kprobesAvailable,
    kernelFunction: kernelFunctionExists,
    syscallFunction,
    fentry: fentryUsable,
    ringBuffer: ringBufferSupported,
    offset(struct, field) {
      try { return kernelBtf().fieldLocation(struct, field)?.offset; } catch { return undefined; }
    },
    rawArg: (tp, type) => kernelBtfOrNull()?.rawTracepointArg(tp, type),
    release: os.release(),
    cpus: () => possibleCpus().length,
  };
}
