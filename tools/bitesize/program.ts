// bitesize's program from its configuration and the running kernel (a KernelView): the C file,
// its #defines (listed at the top of bitesize.bpf.c) and the block-request core's probes, best
// first (lib/block/requests.ts): raw tracepoints passing the request, classic tracepoints keyed by
// (dev, sector), kprobes where the block tracepoints are missing. BPFKIT_AVOID rules kinds out.
//
// Sizes are counted at completion, from the size at issue, for the process that created the
// request (block_io_start, else block_rq_insert; where neither exists, the task current at issue).
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import type { DefineValue, ToolProgram } from '../../lib/run/program.ts';
import { planBlockRequests, type BlockProbe } from '../../lib/block/requests.ts';

export interface BitesizeConfig {
  /** The terminal's histograms, per process name (off only for metrics alone). */
  perComm: boolean;
  /** Metrics: histograms per disk and operation, with byte sums. */
  perDisk: boolean;
  /** -d: the kernel dev_t (major << 20 | minor) of the only disk traced. */
  disk?: number;
  /** -c: only I/O created by tasks of this comm; the name goes into a map (see commFilterKey). */
  comm?: string;
  /** Metrics: maps sized for this many label sets. */
  seriesLimit?: number;
}

export interface BitesizeProgram extends ToolProgram {
  matchByRequest: boolean;
  probes: BlockProbe[];
}

// A histogram has at most 33 slots here (sizes are u32): room for many process names at once.
const COMMS = 1024;
const SLOTS = 33;
const MAX_ENTRIES = 1 << 20;
/** The kernel keeps TASK_COMM_LEN - 1 bytes of a name. */
export const COMM_BYTES = 15;

export function configureBitesize(config: BitesizeConfig, kernel: KernelView = liveKernel()): BitesizeProgram {
  if (!config.perComm && !config.perDisk) throw new Error('bitesize needs per-comm or per-disk histograms');
  const plan = planBlockRequests(kernel);
  const groups = config.seriesLimit !== undefined ? Math.min(MAX_ENTRIES, config.seriesLimit) : COMMS;
  const defines: Record<string, DefineValue> = {
    PER_COMM: config.perComm,
    PER_DISK: config.perDisk,
    FILTER_DEV: config.disk !== undefined,
    TARGET_DEV: config.disk ?? 0,
    FILTER_COMM: config.comm !== undefined,
    HIST_ENTRIES: Math.min(MAX_ENTRIES, groups * SLOTS),
    GROUP_ENTRIES: groups,
    ...plan.defines,
  };
  return {
    file: 'bitesize.bpf.c',
    defines,
    attachments: plan.attachments,
    matchByRequest: plan.matchByRequest,
    probes: plan.probes,
    attach: (bpf) => plan.attach(bpf),
  };
}

/**
 * The comm_filter map's value for -c: the name's first 15 bytes as the kernel keeps them (cut
 * inside a UTF-8 character if need be, as the kernel cuts), NUL-padded to the key's 16.
 */
export function commFilterKey(comm: string): Buffer {
  const key = Buffer.alloc(COMM_BYTES + 1);
  Buffer.from(comm, 'utf8').copy(key, 0, 0, COMM_BYTES);
  return key;
}
