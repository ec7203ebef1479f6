// The block-request core's plan (lib/block/requests.ts) against stand-in kernels: which probes it
// picks for completion, issue and creation, that they all key requests the same way, and the
// offsets it hands bpf/include/bpfkit/block_requests.h. Also the operation letters (lib/block/flags.ts).
import test from 'node:test';
import assert from 'node:assert/strict';
import { planBlockRequests } from '../../lib/block/requests.ts';
import { bccRwFlag, ioDirection } from '../../lib/block/flags.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

const OFFSETS = {
  'request.__sector': 48, 'request.__data_len': 40, 'request.cmd_flags': 24, 'request.q': 0,
  'request_queue.disk': 112, 'gendisk.major': 0, 'gendisk.first_minor': 4,
};
const kernel = (overrides: FakeKernel = {}) => fakeKernel({ offsets: OFFSETS, ...overrides });
const chosen = (plan: ReturnType<typeof planBlockRequests>) => Object.fromEntries(plan.attachments.map((a) => [a.purpose, a.chosen]));

test('on a kernel like this one: raw tracepoints keyed by request, the owner from block_io_start', () => {
  const plan = planBlockRequests(kernel());
  assert.equal(plan.matchByRequest, true);
  assert.deepEqual(chosen(plan), {
    'I/O completion': 'raw tracepoint block_rq_complete',
    'I/O issue': 'raw tracepoint block_rq_issue',
    'I/O creation (its process)': 'raw tracepoint block_io_start',
    requeue: 'raw tracepoint block_rq_requeue',
    merge: 'raw tracepoint block_rq_merge',
  });
  assert.equal(plan.probes[0].fnName, 'on_block_done', 'completion attaches first');
  assert.equal(plan.defines.BLOCK_DONE_RAW_TP, true);
  assert.equal(plan.defines.BLOCK_DONE_TRACEPOINT, false);
  assert.equal(plan.defines.BLOCK_CREATED_RAW_TP, true);
  assert.equal(plan.defines.BLOCK_RQ_SECTOR_OFFSET, 48);
  assert.equal(plan.defines.BLOCK_Q_DISK_OFFSET, 112);
  assert.equal(plan.defines.BLOCK_RQ_DISK_OFFSET, undefined);
});

test('before 6.5 (no block_io_start) the owner comes from the accounting function where kprobes reach it, else block_rq_insert', () => {
  const withKprobes = planBlockRequests(kernel({ missing: ['block:block_io_start'], kprobes: () => true }));
  assert.equal(chosen(withKprobes)['I/O creation (its process)'], 'kprobe __blk_account_io_start');
  assert.equal(withKprobes.defines.BLOCK_CREATED_KPROBE, true);
  assert.equal(chosen(withKprobes)['I/O completion'], 'raw tracepoint block_rq_complete', 'kprobes and raw tracepoints key alike');
  const inlined = planBlockRequests(kernel({ missing: ['block:block_io_start'], kprobes: () => true, kernelFunction: () => false }));
  assert.equal(chosen(inlined)['I/O creation (its process)'], 'raw tracepoint block_rq_insert');
  const plan = planBlockRequests(kernel({ missing: ['block:block_io_start'] }));
  assert.equal(chosen(plan)['I/O creation (its process)'], 'raw tracepoint block_rq_insert');
});

test('before 5.17 the disk is read from request.rq_disk', () => {
  const plan = planBlockRequests(kernel({ offsets: { ...OFFSETS, 'request.rq_disk': 16 } }));
  assert.equal(plan.defines.BLOCK_RQ_DISK_OFFSET, 16);
  assert.equal(plan.defines.BLOCK_Q_DISK_OFFSET, undefined);
});

test('without BTF offsets the classic tracepoints are used, keyed by (dev, sector)', () => {
  const plan = planBlockRequests(kernel({ offsets: {} }));
  assert.equal(plan.matchByRequest, false);
  assert.equal(chosen(plan)['I/O completion'], 'tracepoint block:block_rq_complete');
  assert.equal(chosen(plan)['I/O creation (its process)'], 'tracepoint block:block_io_start');
  assert.equal(plan.defines.BLOCK_CREATED_TRACEPOINT_IO_START, true);
  assert.equal(plan.probes[0].fnName, 'tracepoint__block__block_rq_complete');
});

test('without block tracepoints, kprobes on the accounting functions', () => {
  const plan = planBlockRequests(kernel({ missing: ['block_rq_complete', 'block_rq_issue', 'block_io_start', 'block_rq_insert', 'block_rq_requeue', 'block_rq_merge'], kprobes: () => true }));
  assert.deepEqual(plan.probes.map((p) => `${p.kind} ${p.target}`), ['kprobe __blk_account_io_done', 'kprobe blk_mq_start_request', 'kprobe __blk_account_io_start']);
  assert.equal(chosen(plan).requeue.startsWith('none'), true);
});

test('nothing usable: one error naming every reason', () => {
  assert.throws(() => planBlockRequests(kernel({ missing: ['block_rq_complete'] })), /I\/O completion/);
});

test('operation letters from cmd_flags and from rwbs', () => {
  assert.equal(ioDirection(0), 'R');
  assert.equal(ioDirection(1 | (1 << 11)), 'W');
  assert.equal(ioDirection(2), 'F');
  assert.equal(ioDirection(3), 'D');
  assert.equal(ioDirection(5), 'E');
  assert.equal(ioDirection(9), '?');
  assert.equal(ioDirection(0, 'RA'), 'R');
  assert.equal(ioDirection(0, 'WS'), 'W');
  assert.equal(ioDirection(0, 'FWS'), 'W');
  assert.equal(ioDirection(0, 'FF'), 'F');
  assert.equal(ioDirection(0, 'F'), 'F');
  assert.equal(ioDirection(0, 'DE'), 'E');
  assert.equal(ioDirection(0, 'N'), '?');
  assert.equal(bccRwFlag(1), 'W');
  assert.equal(bccRwFlag(3), 'R');
  assert.equal(bccRwFlag(0, 'FWS'), 'W');
});
