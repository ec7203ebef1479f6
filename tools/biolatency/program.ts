// biolatency's program from its configuration and the running kernel (a KernelView): the C file,
// its #defines (the list is at the top of biolatency.bpf.c) and where each probe attaches, best
// first (README.md, "What it traces, and why"):
//
//   1. raw tracepoints block_rq_issue / block_rq_complete (block_io_start or block_rq_insert for
//      -Q): they pass the `struct request *`, a key that holds from queue to completion; disk and
//      flags are read from it at offsets from the kernel's BTF.
//   2. classic tracepoints block:block_rq_*: kernels before 4.17 have no raw tracepoints. Requests
//      are matched by (dev, sector) as bcc does; disk and flags come from the dev and rwbs fields.
//   3. kprobes on blk_mq_start_request / [__]blk_account_io_done: only where the block
//      tracepoints are missing (these functions are renamed or inlined across versions).
//
// All probes must agree on the key, so the completion probe is chosen first and the others from
// the candidates that key the same way. Requeue and merge probes are optional refinements.
import type { BPF } from 'bcc-node-bindings';
import { chooseAttach, type AttachCandidate, type AttachChoice } from '../../lib/run/attach-plan.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { attachBlockProbes, legacyRawArg, type BlockProbe, type BlockProbeKind } from '../../lib/block/requests.ts';
import type { DefineValue, ToolProgram } from '../../lib/run/program.ts';
import { describedMask, rwbsDefines, type RequestFlagLayout } from '../../lib/block/flags.ts';
import type { Grouping } from './output.ts';

export type ProbeKind = BlockProbeKind;
export type Probe = BlockProbe;

export interface BiolatencyConfig {
  /** -Q: time from when the request was queued in the OS. */
  queued: boolean;
  /** -D (and metrics mode), -F, or one histogram for all I/O. */
  grouping: Grouping;
  /** Nanoseconds per histogram unit: 1000 (usecs), 1000000 (-m msecs), 1 (the exporter's ns). */
  nsPerUnit: number;
  /** -d: the kernel dev_t (major << 20 | minor) of the only disk traced. */
  disk?: number;
  /** -e: sum latencies and count them per group. */
  extension: boolean;
  /** Metrics mode: maps sized for this many disks or flag sets, latency sums always kept. */
  seriesLimit?: number;
  /** Grouping 'flags': this kernel's flag numbers (lib/block/flags.ts requestFlagLayout). */
  flagLayout?: RequestFlagLayout;
  /** Attach kinds ruled out; by default from BPFKIT_BIOLATENCY_AVOID=raw_tracepoint,tracepoint,kprobe. */
  avoid?: readonly ProbeKind[];
}

export interface BiolatencyProgram extends ToolProgram {
  /** true: requests keyed by address; false: by (dev, sector). */
  matchByRequest: boolean;
  /** In attach order. */
  probes: Probe[];
}

// A histogram has at most 64 slots: -D keeps room for many disks, -F for many flag sets.
const HIST_ENTRIES: Record<Grouping, number> = { none: 128, disk: 64 * 128, flags: 64 * 64 };
const GROUP_ENTRIES = 1024;
const MAX_ENTRIES = 1 << 20;

// Every probe point and the C variants it has: each one a boolean #define, all of them always
// defined so that the program shows what was and was not chosen.
const VARIANTS = {
  ISSUE: ['RAW_TP', 'TRACEPOINT', 'KPROBE'],
  QUEUED: ['RAW_TP', 'TRACEPOINT_IO_START', 'TRACEPOINT_RQ_INSERT', 'KPROBE'],
  REQUEUE: ['RAW_TP', 'TRACEPOINT'],
  MERGE: ['RAW_TP', 'TRACEPOINT'],
  DONE: ['RAW_TP', 'TRACEPOINT', 'KPROBE'],
} as const;
type Point = keyof typeof VARIANTS;

type Match = 'request' | 'dev-sector';
interface Option {
  match: Match;
  probe: Probe;
  defines: Record<string, number | boolean>;
}

export function configureBiolatency(config: BiolatencyConfig, kernel: KernelView = liveKernel()): BiolatencyProgram {
  if (config.grouping === 'flags' && !config.flagLayout) throw new Error('grouping by flags needs the flag layout');
  const avoid = new Set(config.avoid ?? avoidedKinds());
  const reads = requestReads(config, kernel);
  const excluded = (kind: ProbeKind) => (avoid.has(kind) ? 'excluded by BPFKIT_BIOLATENCY_AVOID' : null);
  const raw = (event: string, fnName: string, point: Point): AttachCandidate<Option> => ({
    label: `raw tracepoint ${event}`,
    unavailable: () => excluded('raw_tracepoint')
      ?? (!kernel.rawTracepoints() ? 'this kernel cannot attach raw tracepoints'
        : !kernel.tracepoint('block', event) ? 'this kernel has no such tracepoint'
        : reads.missing),
    value: {
      match: 'request', probe: { kind: 'raw_tracepoint', target: event, fnName },
      defines: { [`${point}_RAW_TP`]: true, [`${point}_ARG`]: kernel.rawArg(event, 'request') ?? legacyRawArg(event, kernel.release) },
    },
  });
  const tp = (event: string, point: Point, variant = 'TRACEPOINT'): AttachCandidate<Option> => ({
    label: `tracepoint block:${event}`,
    unavailable: () => excluded('tracepoint') ?? (!kernel.tracepoint('block', event) ? 'this kernel has no such tracepoint' : null),
    value: {
      match: 'dev-sector', probe: { kind: 'tracepoint', target: `block:${event}`, fnName: `tracepoint__block__${event}` },
      defines: { [`${point}_${variant}`]: true },
    },
  });
  const kprobe = (fn: string, fnName: string, point: Point): AttachCandidate<Option> => ({
    label: `kprobe ${fn}`,
    unavailable: () => excluded('kprobe')
      ?? (!kernel.kprobes() ? 'this kernel has no kprobes'
        : !kernel.kernelFunction(fn) ? 'no such kernel function here (renamed or inlined)'
        : reads.missing),
    value: { match: 'request', probe: { kind: 'kprobe', target: fn, fnName }, defines: { [`${point}_KPROBE`]: true } },
  });

  // Completion first: without it there is nothing to measure, and bcc then prints empty
  // histograms without a word. chooseAttach throws a NOT_SUPPORTED error listing every reason.
  const done = chooseAttach('I/O completion', [
    raw('block_rq_complete', 'on_done', 'DONE'),
    tp('block_rq_complete', 'DONE'),
    kprobe('__blk_account_io_done', 'on_done', 'DONE'),
    kprobe('blk_account_io_done', 'on_done', 'DONE'),
  ]);
  const match = done.value.match;
  const same = (candidates: AttachCandidate<Option>[]) => candidates.filter((c) => c.value.match === match);

  const chosen = [done];
  const unchosen: AttachChoice[] = [];
  chosen.push(chooseAttach('I/O issue', same([
    raw('block_rq_issue', 'on_issue', 'ISSUE'),
    tp('block_rq_issue', 'ISSUE'),
    kprobe('blk_mq_start_request', 'on_issue', 'ISSUE'),
  ])));
  if (config.queued) {
    chosen.push(chooseAttach('I/O queued (-Q)', same([
      raw('block_io_start', 'on_queued', 'QUEUED'),
      raw('block_rq_insert', 'on_queued', 'QUEUED'),
      tp('block_io_start', 'QUEUED', 'TRACEPOINT_IO_START'),
      tp('block_rq_insert', 'QUEUED', 'TRACEPOINT_RQ_INSERT'),
      kprobe('__blk_account_io_start', 'on_queued', 'QUEUED'),
      kprobe('blk_account_io_start', 'on_queued', 'QUEUED'),
    ])));
  }
  const optional = (purpose: string, candidates: AttachCandidate<Option>[]) => {
    try {
      chosen.push(chooseAttach(purpose, same(candidates)));
    } catch (err) {
      unchosen.push({ purpose, chosen: `none (${(err as Error).message})`, rejected: [] });
    }
  };
  optional('requeue', [raw('block_rq_requeue', 'on_requeue', 'REQUEUE'), tp('block_rq_requeue', 'REQUEUE')]);
  // Without -Q nothing is recorded before issue, and merges happen before issue.
  if (config.queued) optional('merge (-Q)', [raw('block_rq_merge', 'on_merge', 'MERGE'), tp('block_rq_merge', 'MERGE')]);

  const matchByRequest = match === 'request';
  const layout = config.grouping === 'flags' ? config.flagLayout : undefined;
  const defines: Record<string, DefineValue> = {
    MATCH_BY_REQUEST: matchByRequest,
    QUEUED: config.queued,
    NS_PER_UNIT: config.nsPerUnit,
    GROUP_BY_DISK: config.grouping === 'disk',
    GROUP_BY_FLAGS: config.grouping === 'flags',
    FILTER_DEV: config.disk !== undefined,
    TARGET_DEV: config.disk ?? 0,
    // Metrics export each group's latency sum (the histogram's _sum).
    EXTENSION: config.extension || config.seriesLimit !== undefined,
    ...mapSizes(config),
    FLAGS_MASK: layout ? describedMask(layout) : 0,
  };
  for (const [point, variants] of Object.entries(VARIANTS)) {
    for (const variant of variants) defines[`${point}_${variant}`] = false;
  }
  for (const c of chosen) Object.assign(defines, c.value.defines);
  if (matchByRequest) Object.assign(defines, reads.defines);
  else if (layout) Object.assign(defines, rwbsDefines(layout));

  const probes = chosen.map((c) => c.value.probe);
  const attachments = [...chosen.map((c) => c.choice), ...unchosen];
  if (layout) attachments.push({ purpose: 'flag names (-F)', chosen: layout.source, rejected: [] });
  return {
    file: 'biolatency.bpf.c',
    defines,
    attachments,
    matchByRequest,
    probes,
    attach: (bpf: BPF) => attachBlockProbes(bpf, probes),
  };
}

/** Every (group, slot) pair gets its own entry: bcc's 64 in all drop buckets when several disks are busy. */
function mapSizes(config: BiolatencyConfig): { HIST_ENTRIES: number; GROUP_ENTRIES: number } {
  if (config.seriesLimit !== undefined) {
    return { HIST_ENTRIES: Math.min(MAX_ENTRIES, 64 * config.seriesLimit), GROUP_ENTRIES: Math.min(MAX_ENTRIES, config.seriesLimit) };
  }
  const oneDisk = config.grouping === 'disk' && config.disk !== undefined;
  return {
    HIST_ENTRIES: oneDisk ? HIST_ENTRIES.none : HIST_ENTRIES[config.grouping],
    GROUP_ENTRIES: config.grouping === 'none' ? 1 : GROUP_ENTRIES,
  };
}

/** The request fields the C program reads when probes pass the request: offsets, or why not. */
function requestReads(config: BiolatencyConfig, kernel: KernelView): { defines: Record<string, number>; missing: string | null } {
  const disk = config.grouping === 'disk' || config.disk !== undefined;
  const fields: Array<[string, string, string]> = [];
  if (disk) {
    fields.push(['RQ_Q_OFFSET', 'request', 'q'], ['Q_DISK_OFFSET', 'request_queue', 'disk'],
      ['DISK_MAJOR_OFFSET', 'gendisk', 'major'], ['DISK_FIRST_MINOR_OFFSET', 'gendisk', 'first_minor']);
  }
  if (config.grouping === 'flags') fields.push(['RQ_CMD_FLAGS_OFFSET', 'request', 'cmd_flags']);
  const defines: Record<string, number> = {};
  for (const [name, struct, field] of fields) {
    const offset = kernel.offset(struct, field);
    if (offset === undefined) {
      return { defines, missing: `needs ${struct}.${field} from the kernel's BTF to read the request's ${disk ? 'disk' : 'flags'}` };
    }
    defines[name] = offset;
  }
  // Optional: lets partial completions (a driver completing a request piece by piece) be told apart.
  const dataLen = kernel.offset('request', '__data_len');
  if (dataLen !== undefined) defines.RQ_DATA_LEN_OFFSET = dataLen;
  return { defines, missing: null };
}

/** BPFKIT_BIOLATENCY_AVOID=raw_tracepoint[,tracepoint,kprobe]: to try or test the fallbacks. */
export function avoidedKinds(env: NodeJS.ProcessEnv = process.env): ProbeKind[] {
  return (env.BPFKIT_BIOLATENCY_AVOID ?? '').split(',').map((s) => s.trim())
    .filter((s): s is ProbeKind => s === 'raw_tracepoint' || s === 'tracepoint' || s === 'kprobe');
}
