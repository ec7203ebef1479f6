// exitsnoop's one configuration: what to report (plain data from the options, or the exporter's
// fixed choice) and a KernelView → exitsnoop.bpf.c's #defines, where the probe goes and why, and
// the attach. The tool and `bpfkit exporter` both load the program through configureExitsnoop.
import type { BPF } from 'bcc-node-bindings';
import { ringBufferPages } from '../../lib/run/event-channel.ts';
import { chooseAttach } from '../../lib/run/attach-plan.ts';
import type { ToolProgram } from '../../lib/run/program.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { taskParentOffsets } from '../../lib/kernel/offsets.ts';
import { taskExitOffsets } from './offsets.ts';

export interface ExitsnoopConfig {
  /** --per-thread: every thread's exit, not only each process's end. */
  perThread: boolean;
  /** -x: leave out exit status 0. */
  failedOnly: boolean;
  /** -p: this process (tgid) only. */
  pid?: number;
}

export interface ExitsnoopProgram extends ToolProgram {
  /** Records come through a ring buffer, else a perf buffer (bpfkit/events.h). */
  ringBuffer: boolean;
}

/** What the exporter counts: every process's end on the machine, successes included. */
export const EXPORTER_CONFIG: ExitsnoopConfig = { perThread: false, failedOnly: false };

type Hook = 'tracepoint' | 'raw' | 'kprobe';

export function configureExitsnoop(config: ExitsnoopConfig, kernel: KernelView = liveKernel()): ExitsnoopProgram {
  const exit = chooseAttach(config.perThread ? 'thread exits' : 'process exits', [
    {
      label: 'tracepoint sched:sched_process_exit',
      unavailable: () => (kernel.tracepoint('sched', 'sched_process_exit') ? null : 'no such tracepoint in tracefs'),
      value: 'tracepoint' as Hook,
    },
    {
      label: 'raw tracepoint sched_process_exit',
      unavailable: () => (kernel.rawTracepoints() ? null : 'this kernel has no raw tracepoints (4.17+)'),
      value: 'raw' as Hook,
    },
    {
      label: 'kprobe on do_exit',
      unavailable: () => (!kernel.kprobes() ? 'this kernel has no kprobes'
        : !kernel.kernelFunction('do_exit') ? 'no do_exit in /proc/kallsyms' : null),
      value: 'kprobe' as Hook,
    },
  ]);
  const stream = chooseAttach('event records', [
    { label: 'ring buffer', unavailable: () => (kernel.ringBuffer() ? null : 'needs Linux 5.8'), value: true },
    { label: 'perf buffer', unavailable: () => null, value: false },
  ]);
  const hook = exit.value;
  const ringBuffer = stream.value;

  return {
    file: 'exitsnoop.bpf.c',
    defines: {
      EXIT_TRACEPOINT: hook === 'tracepoint',
      EXIT_RAW_TRACEPOINT: hook === 'raw',
      EXIT_KPROBE: hook === 'kprobe',
      PER_THREAD: config.perThread,
      FILTER_PID: config.pid !== undefined,
      TARGET_PID: config.pid ?? 0,
      FILTER_FAILED: config.failedOnly,
      USE_RINGBUF: ringBuffer,
      ...(ringBuffer ? { RINGBUF_PAGES: ringBufferPages(kernel.cpus()) } : {}),
      // Read at the running kernel's offsets: bpfkit/task.h says why headers cannot be trusted for them.
      ...taskParentOffsets(kernel),
      ...taskExitOffsets(kernel),
    },
    attachments: [exit.choice, stream.choice],
    ringBuffer,
    attach(bpf: BPF) {
      if (hook === 'tracepoint') bpf.attachTracepoint({ tp: 'sched:sched_process_exit', fnName: 'tracepoint__sched__sched_process_exit' });
      else if (hook === 'raw') bpf.attachRawTracepoint({ tp: 'sched_process_exit', fnName: 'raw_tracepoint__sched_process_exit' });
      else bpf.attachKprobe({ event: 'do_exit', fnName: 'exit_kprobe' });
    },
  };
}
