// How bitesize configures its program on kernels other than this one (a kernel described by a
// stand-in KernelView): the block-request core's probes it picks, every rung of each ladder, and
// the #defines it hands the C. Also the -c name as it goes into the comm_filter map.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError } from 'bcc-node-bindings';
import type { KernelView } from '../../lib/kernel/view.ts';
import { commFilterKey, configureBitesize, type BitesizeConfig, type BitesizeProgram } from '../../tools/bitesize/program.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

const OFFSETS: Record<string, number> = {
  'request.q': 0, 'request.__sector': 48, 'request.__data_len': 44, 'request.cmd_flags': 24,
  'request_queue.disk': 104, 'gendisk.major': 0, 'gendisk.first_minor': 4,
};

const kernel = (overrides: FakeKernel = {}): KernelView => fakeKernel({ offsets: OFFSETS, ...overrides });
const configure = (c: Partial<BitesizeConfig> = {}, k = kernel()) => configureBitesize({ perComm: true, perDisk: false, ...c }, k);
const targets = (program: BitesizeProgram) => program.probes.map((p) => `${p.kind} ${p.target}`);
const chosen = (program: BitesizeProgram) => program.attachments.map((a) => `${a.purpose}: ${a.chosen.replace(/^none \(.*/s, 'none')}`);
const BLOCK_TRACEPOINTS = ['block_rq_complete', 'block_rq_issue', 'block_io_start', 'block_rq_insert', 'block_rq_requeue', 'block_rq_merge'];

function withAvoid<T>(kinds: string, body: () => T): T {
  const before = process.env.BPFKIT_AVOID;
  process.env.BPFKIT_AVOID = kinds;
  try {
    return body();
  } finally {
    if (before === undefined) delete process.env.BPFKIT_AVOID;
    else process.env.BPFKIT_AVOID = before;
  }
}

test('raw tracepoints: the request itself at completion, issue and creation (block_io_start)', () => {
  const program = configure();
  assert.equal(program.file, 'bitesize.bpf.c');
  assert.equal(program.matchByRequest, true);
  assert.deepEqual(targets(program), [
    'raw_tracepoint block_rq_complete', 'raw_tracepoint block_rq_issue', 'raw_tracepoint block_io_start',
    'raw_tracepoint block_rq_requeue', 'raw_tracepoint block_rq_merge',
  ]);
  const d = program.defines!;
  assert.deepEqual(
    [d.PER_COMM, d.PER_DISK, d.FILTER_DEV, d.TARGET_DEV, d.FILTER_COMM, d.HIST_ENTRIES, d.GROUP_ENTRIES],
    [true, false, false, 0, false, 1024 * 33, 1024],
  );
  assert.deepEqual([d.BLOCK_MATCH_BY_REQUEST, d.BLOCK_DONE_RAW_TP, d.BLOCK_ISSUE_RAW_TP, d.BLOCK_CREATED_RAW_TP, d.BLOCK_RQ_DATA_LEN_OFFSET],
    [true, true, true, true, 44]);
});

test('kernels before 6.5 own the request at block_rq_insert', () => {
  const program = configure({}, kernel({ missing: ['block_io_start'] }));
  assert.deepEqual(chosen(program).slice(0, 3), [
    'I/O completion: raw tracepoint block_rq_complete', 'I/O issue: raw tracepoint block_rq_issue',
    'I/O creation (its process): raw tracepoint block_rq_insert',
  ]);
});

test('without raw tracepoints (or the BTF offsets they need): classic tracepoints keyed by (dev, sector)', () => {
  for (const k of [kernel({ rawTracepoints: () => false }), fakeKernel({ offsets: {} })]) {
    const program = configure({}, k);
    assert.equal(program.matchByRequest, false);
    assert.deepEqual(targets(program), [
      'tracepoint block:block_rq_complete', 'tracepoint block:block_rq_issue', 'tracepoint block:block_io_start',
      'tracepoint block:block_rq_requeue', 'tracepoint block:block_rq_merge',
    ]);
    assert.equal(program.defines!.BLOCK_CREATED_TRACEPOINT_IO_START, true);
  }
  const older = configure({}, kernel({ rawTracepoints: () => false, missing: ['block_io_start'] }));
  assert.equal(older.defines!.BLOCK_CREATED_TRACEPOINT_RQ_INSERT, true);
});

test('BPFKIT_AVOID=raw_tracepoint picks the classic tracepoints, and =raw_tracepoint,tracepoint the kprobes where there are some', () => {
  assert.deepEqual(withAvoid('raw_tracepoint', () => targets(configure())).slice(0, 2),
    ['tracepoint block:block_rq_complete', 'tracepoint block:block_rq_issue']);
  const kprobes = kernel({ kprobes: () => true });
  const program = withAvoid('raw_tracepoint,tracepoint', () => configure({}, kprobes));
  assert.deepEqual(targets(program), ['kprobe __blk_account_io_done', 'kprobe blk_mq_start_request', 'kprobe __blk_account_io_start']);
  assert.deepEqual(chosen(program).slice(3), ['requeue: none', 'merge: none']);
});

test('kprobes where the block tracepoints are missing; the creation is optional, its absence keeps the owner at issue', () => {
  const k = kernel({ missing: BLOCK_TRACEPOINTS, kprobes: () => true, kernelFunction: (fn) => fn !== '__blk_account_io_done' && fn !== '__blk_account_io_start' && fn !== 'blk_account_io_start' });
  const program = configure({}, k);
  assert.deepEqual(targets(program), ['kprobe blk_account_io_done', 'kprobe blk_mq_start_request']);
  assert.deepEqual(chosen(program).slice(2), ['I/O creation (its process): none', 'requeue: none', 'merge: none']);
  assert.equal(program.defines!.BLOCK_CREATED_KPROBE, false);
});

test('nothing to trace completions with: an error naming every candidate', () => {
  assert.throws(() => configure({}, kernel({ missing: BLOCK_TRACEPOINTS })), (err: Error) =>
    isBpfError(err, 'NOT_SUPPORTED') && /I\/O completion/.test(err.message) && /kprobe blk_account_io_done: this kernel has no kprobes/.test(err.message));
  assert.throws(() => withAvoid('raw_tracepoint,tracepoint,kprobe', () => configure()), (err: Error) => isBpfError(err, 'NOT_SUPPORTED'));
});

test('-d and -c become a number and a flag; metrics size the maps by the series limit', () => {
  const d = configure({ disk: 7 * 2 ** 20 + 3, comm: 'fio', perDisk: true, seriesLimit: 50 }).defines!;
  assert.deepEqual([d.FILTER_DEV, d.TARGET_DEV, d.FILTER_COMM, d.PER_DISK, d.HIST_ENTRIES, d.GROUP_ENTRIES], [true, 7 * 2 ** 20 + 3, true, true, 50 * 33, 50]);
  // The name itself is never a define: it goes into the comm_filter map.
  assert.ok(!Object.values(d).some((v) => typeof v === 'string'));
  assert.throws(() => configure({ perComm: false, perDisk: false }), /per-comm or per-disk/);
});

test('-c NAME keeps the first 15 bytes, as the kernel keeps a task\'s name, NUL-padded to 16', () => {
  assert.deepEqual(commFilterKey('fio'), Buffer.from('fio\0\0\0\0\0\0\0\0\0\0\0\0\0'));
  assert.deepEqual(commFilterKey('a-very-long-process-name'), Buffer.from('a-very-long-pro\0'));
  // Cut inside a character, as the kernel cuts: 7 × "é" is 14 bytes, the 8th's first byte is the 15th.
  assert.deepEqual([...commFilterKey('éééééééé')], [...Buffer.from('ééééééé'), 0xc3, 0]);
});
