// Where the block-request core (bpf/include/bpfkit/block_requests.h) attaches on the running kernel,
// best first, and the #defines it needs. The tools that follow each request from creation to
// completion (biosnoop, biotop, bitesize) share it:
//
//   1. raw tracepoints: they pass the `struct request *`, a key that holds from creation to
//      completion; disk, sector, size and flags are read from it at offsets from the kernel's BTF.
//   2. classic tracepoints block:block_*: requests matched by (dev, sector) as bcc matches them,
//      the rest read from the tracepoints' fields (kernels before 4.17 have no raw tracepoints).
//   3. kprobes on blk_mq_start_request and the accounting functions: only where the block
//      tracepoints are missing.
//
// All probes must key requests the same way: the completion is chosen first, the others among the
// candidates that key like it. The creation point (who owns the I/O) is block_io_start (6.5+,
// called where the I/O is accounted, in the submitter's context), else a kprobe on the accounting
// function, else block_rq_insert (only requests that wait in a scheduler or queue; the others
// are owned by the task at issue, which for a request issued straight to the driver is the
// submitter, and their queued time is unknown).
import type { BPF } from 'bcc-node-bindings';
import { chooseAttach, type AttachCandidate, type AttachChoice } from '../run/attach-plan.ts';
import { liveKernel, type KernelView } from '../kernel/view.ts';
import { releaseAtLeast } from '../kernel/release.ts';
import type { DefineValue } from '../run/program.ts';

export type BlockProbeKind = 'raw_tracepoint' | 'tracepoint' | 'kprobe';

export interface BlockProbe {
  kind: BlockProbeKind;
  /** "block_rq_issue" (raw), "block:block_rq_issue", or a kernel function. */
  target: string;
  /** The C function attached (classic tracepoints: TRACEPOINT_PROBE's name). */
  fnName: string;
}

export interface BlockRequestsPlan {
  /** true: requests keyed by address; false: by (dev, sector). */
  matchByRequest: boolean;
  /** The header's configuration: merge into the tool's defines. */
  defines: Record<string, DefineValue>;
  /** For --explain: completion, issue, creation, requeue, merge. */
  attachments: AttachChoice[];
  /** In attach order (completion first). */
  probes: BlockProbe[];
  /** Attaches every block probe, completion first: each request seen created can then be matched. */
  attach(bpf: BPF): void;
}

// Each probe point and its C variants; every one is defined (0 or 1) so the program shows what was chosen.
const VARIANTS = {
  CREATED: ['RAW_TP', 'TRACEPOINT_IO_START', 'TRACEPOINT_RQ_INSERT', 'KPROBE'],
  ISSUE: ['RAW_TP', 'TRACEPOINT', 'KPROBE'],
  REQUEUE: ['RAW_TP', 'TRACEPOINT'],
  MERGE: ['RAW_TP', 'TRACEPOINT'],
  DONE: ['RAW_TP', 'TRACEPOINT', 'KPROBE'],
} as const;
type Point = keyof typeof VARIANTS;

interface Option {
  byRequest: boolean;
  probe: BlockProbe;
  defines: Record<string, number | boolean>;
}

export function planBlockRequests(kernel: KernelView = liveKernel()): BlockRequestsPlan {
  const reads = requestReads(kernel);
  const raw = (event: string, point: Point): AttachCandidate<Option> => ({
    label: `raw tracepoint ${event}`,
    unavailable: () => (!kernel.rawTracepoints() ? 'this kernel cannot attach raw tracepoints'
      : !kernel.tracepoint('block', event) ? 'this kernel has no such tracepoint'
      : reads.missing),
    value: {
      byRequest: true,
      probe: { kind: 'raw_tracepoint', target: event, fnName: `on_block_${fnSuffix(point)}` },
      defines: { [`BLOCK_${point}_RAW_TP`]: true, [`BLOCK_${point}_ARG`]: kernel.rawArg(event, 'request') ?? legacyRawArg(event, kernel.release) },
    },
  });
  const tp = (event: string, point: Point, variant = 'TRACEPOINT'): AttachCandidate<Option> => ({
    label: `tracepoint block:${event}`,
    unavailable: () => (!kernel.tracepoint('block', event) ? 'this kernel has no such tracepoint' : null),
    value: {
      byRequest: false,
      probe: { kind: 'tracepoint', target: `block:${event}`, fnName: `tracepoint__block__${event}` },
      defines: { [`BLOCK_${point}_${variant}`]: true },
    },
  });
  const kprobe = (fn: string, point: Point): AttachCandidate<Option> => ({
    label: `kprobe ${fn}`,
    unavailable: () => (!kernel.kprobes() ? 'this kernel has no kprobes'
      : !kernel.kernelFunction(fn) ? 'no such kernel function here (renamed or inlined)'
      : reads.missing),
    value: { byRequest: true, probe: { kind: 'kprobe', target: fn, fnName: `on_block_${fnSuffix(point)}` }, defines: { [`BLOCK_${point}_KPROBE`]: true } },
  });

  // Completion first: without it nothing is reported. chooseAttach throws a NOT_SUPPORTED error
  // listing every reason when nothing here will do.
  const done = chooseAttach('I/O completion', [
    raw('block_rq_complete', 'DONE'),
    tp('block_rq_complete', 'DONE'),
    kprobe('__blk_account_io_done', 'DONE'),
    kprobe('blk_account_io_done', 'DONE'),
  ]);
  const byRequest = done.value.byRequest;
  const same = (candidates: AttachCandidate<Option>[]) => candidates.filter((c) => c.value.byRequest === byRequest);
  const chosen = [done];
  const unchosen: AttachChoice[] = [];
  chosen.push(chooseAttach('I/O issue', same([
    raw('block_rq_issue', 'ISSUE'),
    tp('block_rq_issue', 'ISSUE'),
    kprobe('blk_mq_start_request', 'ISSUE'),
  ])));
  const optional = (purpose: string, candidates: AttachCandidate<Option>[]) => {
    try {
      chosen.push(chooseAttach(purpose, same(candidates)));
    } catch (err) {
      unchosen.push({ purpose, chosen: `none (${(err as Error).message})`, rejected: [] });
    }
  };
  // block_rq_insert sees only the requests that wait in a queue (not those issued straight to
  // the driver): where the accounting function is a kprobe target it comes first.
  optional('I/O creation (its process)', [
    raw('block_io_start', 'CREATED'),
    kprobe('__blk_account_io_start', 'CREATED'),
    kprobe('blk_account_io_start', 'CREATED'),
    raw('block_rq_insert', 'CREATED'),
    tp('block_io_start', 'CREATED', 'TRACEPOINT_IO_START'),
    tp('block_rq_insert', 'CREATED', 'TRACEPOINT_RQ_INSERT'),
  ]);
  optional('requeue', [raw('block_rq_requeue', 'REQUEUE'), tp('block_rq_requeue', 'REQUEUE')]);
  optional('merge', [raw('block_rq_merge', 'MERGE'), tp('block_rq_merge', 'MERGE')]);

  const defines: Record<string, DefineValue> = { BLOCK_MATCH_BY_REQUEST: byRequest };
  for (const [point, variants] of Object.entries(VARIANTS)) {
    for (const variant of variants) defines[`BLOCK_${point}_${variant}`] = false;
  }
  for (const c of chosen) Object.assign(defines, c.value.defines);
  if (byRequest) Object.assign(defines, reads.defines);
  const probes = chosen.map((c) => c.value.probe);
  return {
    matchByRequest: byRequest,
    defines,
    attachments: [...chosen.map((c) => c.choice), ...unchosen],
    probes,
    attach: (bpf: BPF) => attachBlockProbes(bpf, probes),
  };
}

function fnSuffix(point: Point): string {
  return point === 'CREATED' ? 'created' : point.toLowerCase();
}

export function attachBlockProbes(bpf: BPF, probes: readonly BlockProbe[]): void {
  for (const probe of probes) {
    if (probe.kind === 'raw_tracepoint') bpf.attachRawTracepoint({ tp: probe.target, fnName: probe.fnName });
    else if (probe.kind === 'tracepoint') bpf.attachTracepoint({ tp: probe.target, fnName: probe.fnName });
    else bpf.attachKprobe({ event: probe.target, fnName: probe.fnName });
  }
}

/** The request fields the core reads from a request pointer: offsets from BTF, or why not. */
function requestReads(kernel: KernelView): { defines: Record<string, number>; missing: string | null } {
  const fields: Array<[string, string, string]> = [
    ['BLOCK_RQ_SECTOR_OFFSET', 'request', '__sector'],
    ['BLOCK_RQ_DATA_LEN_OFFSET', 'request', '__data_len'],
    ['BLOCK_RQ_CMD_FLAGS_OFFSET', 'request', 'cmd_flags'],
    ['BLOCK_DISK_MAJOR_OFFSET', 'gendisk', 'major'],
    ['BLOCK_DISK_FIRST_MINOR_OFFSET', 'gendisk', 'first_minor'],
  ];
  // Before 5.17 a request named its disk (rq_disk); since, through its queue.
  if (kernel.offset('request', 'rq_disk') !== undefined) fields.push(['BLOCK_RQ_DISK_OFFSET', 'request', 'rq_disk']);
  else fields.push(['BLOCK_RQ_Q_OFFSET', 'request', 'q'], ['BLOCK_Q_DISK_OFFSET', 'request_queue', 'disk']);
  const defines: Record<string, number> = {};
  for (const [name, struct, field] of fields) {
    const offset = kernel.offset(struct, field);
    if (offset === undefined) return { defines, missing: `needs ${struct}.${field} from the kernel's BTF to read the request` };
    defines[name] = offset;
  }
  return { defines, missing: null };
}

/** Without BTF: since 5.11 (commit a54895fa) the request tracepoints pass (rq), before (q, rq). */
export function legacyRawArg(event: string, release: string): number {
  if (event === 'block_rq_complete' || event === 'block_io_start') return 0;
  return releaseAtLeast(5, 11, release) ? 0 : 1;
}
