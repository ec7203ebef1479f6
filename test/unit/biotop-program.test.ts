// How biotop configures its program on kernels other than this one (stand-in KernelViews): each
// rung of the block-request core's ladders, the filters and table sizes as #defines, the probes
// attached completion first, nothing usable → NOT_SUPPORTED, and the exporter's configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError, type BPF } from 'bcc-node-bindings';
import { configureBiotop } from '../../tools/biotop/program.ts';
import { exporterMetrics, metricsEntries } from '../../tools/biotop/metrics.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import type { ProgramConfig, ToolProgram } from '../../lib/run/program.ts';
import type { ToolContext } from '../../lib/run/tool.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

const OFFSETS = {
  'request.__sector': 48, 'request.__data_len': 40, 'request.cmd_flags': 24, 'request.q': 0,
  'request_queue.disk': 112, 'gendisk.major': 0, 'gendisk.first_minor': 4,
};
const kernel = (overrides: FakeKernel = {}) => fakeKernel({ offsets: OFFSETS, ...overrides });
const chosen = (p: ToolProgram) => Object.fromEntries(p.attachments.map((a) => [a.purpose, a.chosen]));
const ALL_BLOCK_TP = ['block_rq_complete', 'block_rq_issue', 'block_io_start', 'block_rq_insert', 'block_rq_requeue', 'block_rq_merge'];

/** The attach calls a program makes, in order. */
function attachCalls(p: ToolProgram): string[] {
  const calls: string[] = [];
  const bpf = {
    attachRawTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => calls.push(`raw ${tp} ${fnName}`),
    attachTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => calls.push(`tp ${tp} ${fnName}`),
    attachKprobe: ({ event, fnName }: { event: string; fnName: string }) => calls.push(`kprobe ${event} ${fnName}`),
  } as unknown as BPF;
  p.attach(bpf);
  return calls;
}

test('on a kernel like this one: raw tracepoints, the owner from block_io_start, every process, rows per PID', () => {
  const p = configureBiotop({ maxEntries: 10240 }, kernel());
  assert.equal(p.file, 'biotop.bpf.c');
  assert.deepEqual(chosen(p), {
    'I/O completion': 'raw tracepoint block_rq_complete',
    'I/O issue': 'raw tracepoint block_rq_issue',
    'I/O creation (its process)': 'raw tracepoint block_io_start',
    requeue: 'raw tracepoint block_rq_requeue',
    merge: 'raw tracepoint block_rq_merge',
  });
  assert.equal(p.defines!.BLOCK_MATCH_BY_REQUEST, true);
  assert.equal(p.defines!.FILTER_PID, 0);
  assert.equal(p.defines!.KEY_BY_PID, true);
  assert.equal(p.defines!.MAX_ENTRIES, 10240);
  assert.equal(p.defines!.BLOCK_RQ_DATA_LEN_OFFSET, 40);
  assert.deepEqual(attachCalls(p), [
    'raw block_rq_complete on_block_done', 'raw block_rq_issue on_block_issue', 'raw block_io_start on_block_created',
    'raw block_rq_requeue on_block_requeue', 'raw block_rq_merge on_block_merge',
  ]);
});

test('-p and the metrics configuration reach the program as numbers', () => {
  const p = configureBiotop({ pid: 4321, maxEntries: 64, keyByPid: false }, kernel());
  assert.equal(p.defines!.FILTER_PID, 4321);
  assert.equal(p.defines!.KEY_BY_PID, false);
  assert.equal(p.defines!.MAX_ENTRIES, 64);
});

test('before 6.5: the owner from block_rq_insert', () => {
  assert.equal(chosen(configureBiotop({ maxEntries: 64 }, kernel({ missing: ['block:block_io_start'] })))['I/O creation (its process)'],
    'raw tracepoint block_rq_insert');
});

test('without raw tracepoints (or BTF for the request): classic tracepoints keyed by (dev, sector)', () => {
  for (const k of [kernel({ rawTracepoints: () => false }), fakeKernel()]) {
    const p = configureBiotop({ maxEntries: 64 }, k);
    assert.equal(p.defines!.BLOCK_MATCH_BY_REQUEST, false);
    assert.deepEqual(chosen(p), {
      'I/O completion': 'tracepoint block:block_rq_complete',
      'I/O issue': 'tracepoint block:block_rq_issue',
      'I/O creation (its process)': 'tracepoint block:block_io_start',
      requeue: 'tracepoint block:block_rq_requeue',
      merge: 'tracepoint block:block_rq_merge',
    });
    assert.equal(attachCalls(p)[0], 'tp block:block_rq_complete tracepoint__block__block_rq_complete');
  }
  const old = configureBiotop({ maxEntries: 64 }, fakeKernel({ missing: ['block:block_io_start'] }));
  assert.equal(chosen(old)['I/O creation (its process)'], 'tracepoint block:block_rq_insert');
});

test('without block tracepoints: kprobes on the block functions', () => {
  const p = configureBiotop({ maxEntries: 64 }, kernel({ missing: ALL_BLOCK_TP, kprobes: () => true }));
  assert.equal(chosen(p)['I/O completion'], 'kprobe __blk_account_io_done');
  assert.equal(chosen(p)['I/O issue'], 'kprobe blk_mq_start_request');
  assert.equal(chosen(p)['I/O creation (its process)'], 'kprobe __blk_account_io_start');
  assert.match(chosen(p).requeue, /^none /);
  assert.match(chosen(p).merge, /^none /);
  assert.equal(p.defines!.BLOCK_DONE_KPROBE, true);
  assert.deepEqual(attachCalls(p).slice(0, 3), [
    'kprobe __blk_account_io_done on_block_done', 'kprobe blk_mq_start_request on_block_issue', 'kprobe __blk_account_io_start on_block_created',
  ]);
});

test('nothing to trace completions with is a NOT_SUPPORTED error that gives every reason', () => {
  assert.throws(() => configureBiotop({ maxEntries: 64 }, kernel({ missing: ALL_BLOCK_TP })), (err) => {
    assert.ok(isBpfError(err, 'NOT_SUPPORTED'));
    assert.match((err as Error).message, /I\/O completion/);
    assert.match((err as Error).message, /this kernel has no kprobes/);
    return true;
  });
});

test('the exporter loads the same program for every process, rows per command, sized from the series limit', async () => {
  const loaded: ProgramConfig[] = [];
  const attached: ToolProgram[] = [];
  const ctx = {
    load: (c: ProgramConfig) => { loaded.push(c); return { table: () => ({}) } as unknown as BPF; },
    attach: (_bpf: BPF, p: ToolProgram) => { attached.push(p); },
  } as unknown as ToolContext<unknown>;
  const collector = await exporterMetrics(ctx, 500, kernel());
  assert.equal(collector.tool, 'biotop');
  assert.equal(loaded[0].defines!.FILTER_PID, 0);
  assert.equal(loaded[0].defines!.KEY_BY_PID, false);
  assert.equal(loaded[0].defines!.MAX_ENTRIES, metricsEntries(500));
  assert.equal(attached.length, 1);
  await assert.rejects(exporterMetrics(ctx, 500, kernel({ missing: ALL_BLOCK_TP })), MissingPrerequisite);
});
