// Where biolatency attaches, chosen on the running kernel, best first:
//
//   1. raw tracepoints block_rq_issue / block_rq_complete (and block_io_start for -Q): stable
//      tracepoints that pass the `struct request *` itself, a key that stays the same from queue
//      to completion. Disk and flags are read from the request at offsets from the kernel's BTF.
//   2. classic tracepoints block:block_rq_issue / block:block_rq_complete: kernels before 4.17 have
//      no raw tracepoints. Requests are matched by (dev, sector) as bcc does, disk and flags come
//      from the dev and rwbs fields, so no struct is read at all.
//   3. kprobes on blk_mq_start_request / [__]blk_account_io_done: only where the block
//      tracepoints are missing (these functions are renamed or inlined across versions).
//
// All probes must agree on the key, so the completion probe is chosen first and the others from
// the candidates that key the same way. Requeue and merge probes are optional refinements.
// BPFKIT_BIOLATENCY_AVOID=raw_tracepoint,tracepoint,kprobe rules kinds out, to try the fallbacks.
import os from 'node:os';
import { kernelBtf, kernelBtfOrNull, kprobesAvailable, rawTracepointSupported, tracepointExists } from 'bcc-node-bindings';
import { chooseAttach, type AttachCandidate, type AttachChoice } from '../../lib/run/attach-plan.ts';
import { releaseAtLeast } from '../../lib/kernel/release.ts';
import { kernelFunctionExists } from '../../lib/kernel/kallsyms.ts';

export type ProbeKind = 'raw_tracepoint' | 'tracepoint' | 'kprobe';

export interface Probe {
  kind: ProbeKind;
  /** "block_rq_issue" (raw), "block:block_rq_issue", or a kernel function. */
  target: string;
  /** The C function attached. */
  fnName: string;
}

export interface BiolatencyPlan {
  /** true: requests keyed by address; false: by (dev, sector). */
  matchByRequest: boolean;
  probes: Probe[];
  /** For --explain. */
  choices: AttachChoice[];
  /** #defines that select the probes' C code (see tools/biolatency/biolatency.bpf.c). */
  defines: Record<string, number>;
}

export interface PlanRequest {
  queued: boolean;
  /** -D or -d: the disk of each request is needed. */
  disk: boolean;
  /** -F: the flags of each request are needed. */
  flags: boolean;
}

/** What the plan asks of the kernel; tests substitute their own. */
export interface KernelView {
  rawTracepoints(): boolean;
  tracepoint(category: string, event: string): boolean;
  kprobe(fn: string): string | null;
  /** Index of the `struct request *` a raw tracepoint passes, from BTF (undefined: unknown). */
  rawArg(tp: string): number | undefined;
  /** Byte offset of struct.field in the running kernel, from BTF (undefined: unknown). */
  offset(struct: string, field: string): number | undefined;
  avoided(kind: ProbeKind): boolean;
  release: string;
}

const PROBE = { none: 0, raw_tracepoint: 1, kprobe: 2, tracepoint: 3 } as const;

type Match = 'request' | 'dev-sector';
interface Option {
  match: Match;
  probe: Probe;
  defines: Record<string, number>;
}

export function planBiolatency(want: PlanRequest, kernel: KernelView = liveKernel()): BiolatencyPlan {
  const reads = requestReads(want, kernel);
  const raw = (event: string, fnName: string, prefix: string): AttachCandidate<Option> => ({
    label: `raw tracepoint ${event}`,
    unavailable: () => kernel.avoided('raw_tracepoint') ? 'excluded by BPFKIT_BIOLATENCY_AVOID'
      : !kernel.rawTracepoints() ? 'this kernel cannot attach raw tracepoints'
      : !kernel.tracepoint('block', event) ? 'this kernel has no such tracepoint'
      : reads.missing,
    value: {
      match: 'request', probe: { kind: 'raw_tracepoint', target: event, fnName },
      defines: { [`${prefix}_PROBE`]: PROBE.raw_tracepoint, [`${prefix}_ARG`]: kernel.rawArg(event) ?? legacyRawArg(event, kernel.release) },
    },
  });
  const tp = (event: string, prefix: string, extra: Record<string, number> = {}): AttachCandidate<Option> => ({
    label: `tracepoint block:${event}`,
    unavailable: () => kernel.avoided('tracepoint') ? 'excluded by BPFKIT_BIOLATENCY_AVOID'
      : !kernel.tracepoint('block', event) ? 'this kernel has no such tracepoint' : null,
    value: {
      match: 'dev-sector', probe: { kind: 'tracepoint', target: `block:${event}`, fnName: `tracepoint__block__${event}` },
      defines: { [`${prefix}_PROBE`]: PROBE.tracepoint, ...extra },
    },
  });
  const kprobe = (fn: string, fnName: string, prefix: string): AttachCandidate<Option> => ({
    label: `kprobe ${fn}`,
    unavailable: () => kernel.avoided('kprobe') ? 'excluded by BPFKIT_BIOLATENCY_AVOID' : kernel.kprobe(fn) ?? reads.missing,
    value: { match: 'request', probe: { kind: 'kprobe', target: fn, fnName }, defines: { [`${prefix}_PROBE`]: PROBE.kprobe } },
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
  const choices: AttachChoice[] = [];
  chosen.push(chooseAttach('I/O issue', same([
    raw('block_rq_issue', 'on_issue', 'ISSUE'),
    tp('block_rq_issue', 'ISSUE'),
    kprobe('blk_mq_start_request', 'on_issue', 'ISSUE'),
  ])));
  if (want.queued) {
    chosen.push(chooseAttach('I/O queued (-Q)', same([
      raw('block_io_start', 'on_queued', 'QUEUED'),
      raw('block_rq_insert', 'on_queued', 'QUEUED'),
      tp('block_io_start', 'QUEUED', { QUEUED_TRACEPOINT: 1 }),
      tp('block_rq_insert', 'QUEUED', { QUEUED_TRACEPOINT: 2 }),
      kprobe('__blk_account_io_start', 'on_queued', 'QUEUED'),
      kprobe('blk_account_io_start', 'on_queued', 'QUEUED'),
    ])));
  }
  const optional = (purpose: string, candidates: AttachCandidate<Option>[]) => {
    try {
      chosen.push(chooseAttach(purpose, same(candidates)));
    } catch (err) {
      choices.push({ purpose, chosen: `none (${(err as Error).message})`, rejected: [] });
    }
  };
  optional('requeue', [raw('block_rq_requeue', 'on_requeue', 'REQUEUE'), tp('block_rq_requeue', 'REQUEUE')]);
  // Without -Q nothing is recorded before issue, and merges happen before issue.
  if (want.queued) optional('merge (-Q)', [raw('block_rq_merge', 'on_merge', 'MERGE'), tp('block_rq_merge', 'MERGE')]);

  const defines: Record<string, number> = {
    MATCH_BY_REQUEST: match === 'request' ? 1 : 0,
    ISSUE_PROBE: 0, QUEUED_PROBE: 0, REQUEUE_PROBE: 0, MERGE_PROBE: 0, DONE_PROBE: 0,
  };
  for (const c of chosen) Object.assign(defines, c.value.defines);
  if (match === 'request') Object.assign(defines, reads.defines);
  return {
    matchByRequest: match === 'request',
    probes: chosen.map((c) => c.value.probe),
    choices: [...chosen.map((c) => c.choice), ...choices],
    defines,
  };
}

/** The request fields the C program reads when probes pass the request: offsets or why not. */
function requestReads(want: PlanRequest, kernel: KernelView): { defines: Record<string, number>; missing: string | null } {
  const fields: Array<[string, string, string]> = [];
  if (want.disk) {
    fields.push(['RQ_Q_OFFSET', 'request', 'q'], ['Q_DISK_OFFSET', 'request_queue', 'disk'],
      ['DISK_MAJOR_OFFSET', 'gendisk', 'major'], ['DISK_FIRST_MINOR_OFFSET', 'gendisk', 'first_minor']);
  }
  if (want.flags) fields.push(['RQ_CMD_FLAGS_OFFSET', 'request', 'cmd_flags']);
  const defines: Record<string, number> = {};
  for (const [name, struct, field] of fields) {
    const offset = kernel.offset(struct, field);
    if (offset === undefined) {
      return { defines, missing: `needs ${struct}.${field} from the kernel's BTF to read the request's ${want.disk ? 'disk' : 'flags'}` };
    }
    defines[name] = offset;
  }
  // Optional: lets partial completions (a driver completing a request piece by piece) be told apart.
  const dataLen = kernel.offset('request', '__data_len');
  if (dataLen !== undefined) defines.RQ_DATA_LEN_OFFSET = dataLen;
  return { defines, missing: null };
}

/** Without BTF: since 5.11 (commit a54895fa) the request tracepoints pass (rq), before (q, rq). */
function legacyRawArg(event: string, release: string): number {
  if (event === 'block_rq_complete' || event === 'block_io_start') return 0;
  return releaseAtLeast(5, 11, release) ? 0 : 1;
}

export function liveKernel(): KernelView {
  const avoid = new Set((process.env.BPFKIT_BIOLATENCY_AVOID ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  return {
    rawTracepoints: rawTracepointSupported,
    tracepoint: tracepointExists,
    kprobe(fn) {
      if (!kprobesAvailable()) return 'this kernel has no kprobes';
      return kernelFunctionExists(fn) ? null : 'no such kernel function here (renamed or inlined)';
    },
    rawArg: (tp) => kernelBtfOrNull()?.rawTracepointArg(tp, 'request'),
    offset(struct, field) {
      try { return kernelBtf().fieldLocation(struct, field)?.offset; } catch { return undefined; }
    },
    avoided: (kind) => avoid.has(kind),
    release: os.release(),
  };
}
