// biosnoop's configuration (tools/biosnoop/program.ts) against stand-in kernels: each rung of the
// block core's ladders chosen where the kernel has it, the record stream, the options as #defines,
// and a kernel with nothing to trace the completion with refused with every reason.
import test from 'node:test';
import assert from 'node:assert/strict';
import { configureBiosnoop } from '../../tools/biosnoop/program.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

const OFFSETS = {
  'request.__sector': 48, 'request.__data_len': 44, 'request.cmd_flags': 24, 'request.q': 0,
  'request_queue.disk': 112, 'gendisk.major': 0, 'gendisk.first_minor': 4,
};
const kernel = (overrides: FakeKernel = {}) => fakeKernel({ offsets: OFFSETS, ...overrides });
const chosen = (p: ReturnType<typeof configureBiosnoop>) => Object.fromEntries(p.attachments.map((a) => [a.purpose, a.chosen]));
const ALL_BLOCK = ['block_rq_complete', 'block_rq_issue', 'block_io_start', 'block_rq_insert', 'block_rq_requeue', 'block_rq_merge'];

test('on a kernel like this one: raw tracepoints, the owner from block_io_start, a ring buffer', () => {
  const p = configureBiosnoop({ pattern: false }, kernel());
  assert.equal(p.file, 'biosnoop.bpf.c');
  assert.equal(p.matchByRequest, true);
  assert.equal(p.ringBuffer, true);
  assert.deepEqual(chosen(p), {
    'I/O completion': 'raw tracepoint block_rq_complete',
    'I/O issue': 'raw tracepoint block_rq_issue',
    'I/O creation (its process)': 'raw tracepoint block_io_start',
    requeue: 'raw tracepoint block_rq_requeue',
    merge: 'raw tracepoint block_rq_merge',
    'event records': 'ring buffer',
  });
  assert.equal(p.defines!.BLOCK_DONE_RAW_TP, true);
  assert.equal(p.defines!.USE_RINGBUF, true);
  assert.equal(typeof p.defines!.RINGBUF_PAGES, 'number');
});

test('before 6.5 the owner comes from block_rq_insert', () => {
  assert.equal(chosen(configureBiosnoop({ pattern: false }, kernel({ missing: ['block_io_start'] })))['I/O creation (its process)'],
    'raw tracepoint block_rq_insert');
});

test('without BTF offsets or raw tracepoints: classic tracepoints keyed by (dev, sector)', () => {
  for (const k of [kernel({ offsets: {} }), kernel({ rawTracepoints: () => false })]) {
    const p = configureBiosnoop({ pattern: true }, k);
    assert.equal(p.matchByRequest, false);
    assert.equal(chosen(p)['I/O completion'], 'tracepoint block:block_rq_complete');
    assert.equal(chosen(p)['I/O creation (its process)'], 'tracepoint block:block_io_start');
    assert.equal(p.defines!.BLOCK_MATCH_BY_REQUEST, false);
  }
});

test('without block tracepoints: kprobes on the accounting functions; without ring buffers: a perf buffer', () => {
  const p = configureBiosnoop({ pattern: false }, kernel({ missing: ALL_BLOCK, kprobes: () => true, ringBuffer: () => false }));
  assert.equal(chosen(p)['I/O completion'], 'kprobe __blk_account_io_done');
  assert.equal(chosen(p)['I/O issue'], 'kprobe blk_mq_start_request');
  assert.equal(chosen(p)['event records'], 'perf buffer');
  assert.equal(p.defines!.USE_RINGBUF, false);
  assert.equal(p.defines!.RINGBUF_PAGES, undefined);
});

test('nothing to trace completions with: an error that gives every reason', () => {
  assert.throws(() => configureBiosnoop({ pattern: false }, kernel({ missing: ALL_BLOCK })),
    /no way to trace I\/O completion on this kernel: .*raw tracepoint block_rq_complete: this kernel has no such tracepoint.*kprobe blk_account_io_done: this kernel has no kprobes/);
});

test('options become numbers: -d the dev_t, -P, -m in ns', () => {
  const p = configureBiosnoop({ disk: (7 << 20) | 3, pattern: true, minMs: 5 }, kernel());
  assert.deepEqual([p.defines!.FILTER_DEV, p.defines!.TARGET_DEV, p.defines!.PATTERN, p.defines!.MIN_NS], [true, (7 << 20) | 3, true, 5_000_000]);
  const none = configureBiosnoop({ pattern: false }, kernel());
  assert.deepEqual([none.defines!.FILTER_DEV, none.defines!.PATTERN, none.defines!.MIN_NS], [false, false, 0]);
});
