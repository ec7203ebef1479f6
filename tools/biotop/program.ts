// biotop's configuration → program: its C file and #defines, on the block-request core
// (lib/block/requests.ts), which chooses where each point of a request's life is traced on the
// kernel a KernelView describes: raw tracepoints, else classic tracepoints, else kprobes
// (`--explain` shows the ladders). The tool and `bpfkit exporter` both load biotop through
// configureBiotop, so every #define is spelled here once.
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { planBlockRequests } from '../../lib/block/requests.ts';
import type { ToolProgram } from '../../lib/run/program.ts';

export interface BiotopConfig {
  /** -p: count I/O created by this process only. */
  pid?: number;
  /** Rows of the kernel's counts table (per interval: the tool drains it). */
  maxEntries: number;
  /** false in metrics mode alone: rows per command, not per process (see biotop.bpf.c). */
  keyByPid?: boolean;
}

export function configureBiotop(config: BiotopConfig, kernel: KernelView = liveKernel()): ToolProgram {
  const plan = planBlockRequests(kernel);
  return {
    file: 'biotop.bpf.c',
    defines: {
      ...plan.defines,
      FILTER_PID: config.pid ?? 0,
      KEY_BY_PID: config.keyByPid ?? true,
      MAX_ENTRIES: config.maxEntries,
    },
    attachments: plan.attachments,
    attach: (bpf) => plan.attach(bpf),
  };
}
