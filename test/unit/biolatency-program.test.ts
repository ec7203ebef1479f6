// How biolatency configures its program on kernels other than this one (a kernel described by a
// stand-in KernelView): the probes it picks and the #defines it hands the C. Also the user-space
// helpers it relies on: disk names, log2 statistics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KernelView } from '../../lib/kernel/view.ts';
import { avoidedKinds, configureBiolatency, type BiolatencyConfig, type BiolatencyProgram } from '../../tools/biolatency/program.ts';
import { bccFlagLayout, describedMask, rwbsDefines } from '../../lib/block/flags.ts';
import { DiskNames, diskByName, kernelDev, majorOf, minorOf } from '../../lib/block/disks.ts';
import { log2Count, log2Merge, log2Percentile, log2SumBounds } from '../../lib/output/log2-stats.ts';
import { UsageError } from '../../lib/run/cli.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

const OFFSETS: Record<string, number> = {
  'request.q': 0, 'request.cmd_flags': 24, 'request.__data_len': 44, 'request_queue.disk': 104,
  'gendisk.major': 0, 'gendisk.first_minor': 4,
};

const kernel = (overrides: FakeKernel = {}): KernelView => fakeKernel({ offsets: OFFSETS, syscallFunction: () => null, ...overrides });

const FLAGS = bccFlagLayout();
const configure = (c: Partial<BiolatencyConfig> = {}, k = kernel()) => configureBiolatency({
  queued: false, grouping: 'none', nsPerUnit: 1000, extension: false, avoid: [],
  ...(c.grouping === 'flags' ? { flagLayout: FLAGS } : {}), ...c,
}, k);
const targets = (program: BiolatencyProgram) => program.probes.map((p) => `${p.kind} ${p.target} ${p.fnName}`);
/** The probe-choice defines that are set, in C's terms. */
const chosen = (program: BiolatencyProgram) => Object.keys(program.defines!).filter((k) => program.defines![k] === true && /_(RAW_TP|TRACEPOINT|KPROBE)/.test(k));
const NO_PROBES = {
  ISSUE_RAW_TP: false, ISSUE_TRACEPOINT: false, ISSUE_KPROBE: false,
  QUEUED_RAW_TP: false, QUEUED_TRACEPOINT_IO_START: false, QUEUED_TRACEPOINT_RQ_INSERT: false, QUEUED_KPROBE: false,
  REQUEUE_RAW_TP: false, REQUEUE_TRACEPOINT: false, MERGE_RAW_TP: false, MERGE_TRACEPOINT: false,
  DONE_RAW_TP: false, DONE_TRACEPOINT: false, DONE_KPROBE: false,
};

test('with raw tracepoints every probe gets the request itself', () => {
  const program = configure({ grouping: 'disk' });
  assert.equal(program.file, 'biolatency.bpf.c');
  assert.equal(program.matchByRequest, true);
  assert.deepEqual(targets(program), [
    'raw_tracepoint block_rq_complete on_done', 'raw_tracepoint block_rq_issue on_issue', 'raw_tracepoint block_rq_requeue on_requeue',
  ]);
  assert.deepEqual(program.defines, {
    MATCH_BY_REQUEST: true, QUEUED: false, NS_PER_UNIT: 1000, GROUP_BY_DISK: true, GROUP_BY_FLAGS: false,
    FILTER_DEV: false, TARGET_DEV: 0, EXTENSION: false, HIST_ENTRIES: 64 * 128, GROUP_ENTRIES: 1024, FLAGS_MASK: 0,
    ...NO_PROBES, DONE_RAW_TP: true, DONE_ARG: 0, ISSUE_RAW_TP: true, ISSUE_ARG: 0, REQUEUE_RAW_TP: true, REQUEUE_ARG: 0,
    RQ_Q_OFFSET: 0, Q_DISK_OFFSET: 104, DISK_MAJOR_OFFSET: 0, DISK_FIRST_MINOR_OFFSET: 4, RQ_DATA_LEN_OFFSET: 44,
  });
  assert.deepEqual(program.attachments.map((a) => `${a.purpose}: ${a.chosen}`), [
    'I/O completion: raw tracepoint block_rq_complete', 'I/O issue: raw tracepoint block_rq_issue', 'requeue: raw tracepoint block_rq_requeue',
  ]);
});

test('-Q starts at block_io_start and also drops requests merged away', () => {
  const program = configure({ queued: true, grouping: 'flags' });
  assert.deepEqual(targets(program).slice(2), [
    'raw_tracepoint block_io_start on_queued', 'raw_tracepoint block_rq_requeue on_requeue', 'raw_tracepoint block_rq_merge on_merge',
  ]);
  assert.deepEqual(chosen(program), ['ISSUE_RAW_TP', 'QUEUED_RAW_TP', 'REQUEUE_RAW_TP', 'MERGE_RAW_TP', 'DONE_RAW_TP']);
  assert.equal(program.defines!.RQ_CMD_FLAGS_OFFSET, 24);
  assert.equal(program.defines!.RQ_Q_OFFSET, undefined, 'no disk reads without -D or -d');
  assert.equal(program.defines!.GROUP_BY_FLAGS, true);
  assert.equal(program.defines!.FLAGS_MASK, describedMask(FLAGS));
  assert.deepEqual(program.attachments.at(-1), { purpose: 'flag names (-F)', chosen: "bcc's table", rejected: [] });
});

test('-Q before 6.5 (no block_io_start) starts at block_rq_insert', () => {
  const program = configure({ queued: true }, kernel({ missing: ['block_io_start'] }));
  assert.ok(targets(program).includes('raw_tracepoint block_rq_insert on_queued'));
  assert.deepEqual(program.attachments.find((c) => c.purpose.startsWith('I/O queued'))?.rejected,
    [{ label: 'raw tracepoint block_io_start', reason: 'this kernel has no such tracepoint' }]);
});

test('without raw tracepoints the classic tracepoints match by (dev, sector) and read no struct', () => {
  const program = configure({ queued: true, grouping: 'flags', disk: kernelDev(7, 3) }, kernel({ rawTracepoints: () => false }));
  assert.equal(program.matchByRequest, false);
  assert.deepEqual(targets(program), [
    'tracepoint block:block_rq_complete tracepoint__block__block_rq_complete',
    'tracepoint block:block_rq_issue tracepoint__block__block_rq_issue',
    'tracepoint block:block_io_start tracepoint__block__block_io_start',
    'tracepoint block:block_rq_requeue tracepoint__block__block_rq_requeue',
    'tracepoint block:block_rq_merge tracepoint__block__block_rq_merge',
  ]);
  assert.equal(program.defines!.QUEUED_TRACEPOINT_IO_START, true);
  assert.equal(program.defines!.QUEUED_TRACEPOINT_RQ_INSERT, false);
  assert.equal(program.defines!.MATCH_BY_REQUEST, false);
  assert.ok(!Object.keys(program.defines!).some((k) => k.endsWith('_OFFSET')), 'no struct offsets on classic tracepoints');
  // -F reads the rwbs letters instead of cmd_flags.
  for (const [name, value] of Object.entries(rwbsDefines(FLAGS))) assert.equal(program.defines![name], value, name);
  assert.equal(program.defines!.FILTER_DEV, true);
  assert.equal(program.defines!.TARGET_DEV, kernelDev(7, 3));
});

test('-D without BTF offsets falls back to the dev field of classic tracepoints, saying why', () => {
  const program = configure({ grouping: 'disk' }, kernel({ offset: () => undefined }));
  assert.equal(program.matchByRequest, false);
  assert.match(program.attachments[0].rejected[0].reason, /request\.q from the kernel's BTF/);
});

test('kprobes are used only where the block tracepoints are missing', () => {
  const k = kernel({
    rawTracepoints: () => false,
    tracepoint: () => false,
    kprobes: () => true,
    kernelFunction: (fn) => fn === 'blk_account_io_done' || fn === 'blk_mq_start_request',
  });
  const program = configure({}, k);
  assert.equal(program.matchByRequest, true);
  assert.deepEqual(targets(program), ['kprobe blk_account_io_done on_done', 'kprobe blk_mq_start_request on_issue']);
  assert.deepEqual(chosen(program), ['ISSUE_KPROBE', 'DONE_KPROBE']);
  assert.match(program.attachments.find((c) => c.purpose === 'requeue')!.chosen, /^none/);
  assert.deepEqual(program.attachments[0].rejected.map((r) => r.reason), [
    'this kernel cannot attach raw tracepoints', 'this kernel has no such tracepoint', 'no such kernel function here (renamed or inlined)',
  ]);
});

test('no completion probe at all is an error naming every candidate and its reason', () => {
  const k = kernel({ rawTracepoints: () => false, tracepoint: () => false });
  assert.throws(() => configure({}, k), (err: Error) => {
    assert.match(err.message, /no way to trace I\/O completion/);
    for (const c of ['raw tracepoint block_rq_complete', 'tracepoint block:block_rq_complete', 'kprobe __blk_account_io_done', 'kprobe blk_account_io_done']) {
      assert.ok(err.message.includes(c), c);
    }
    assert.ok(err.message.includes('this kernel has no kprobes'), err.message);
    return true;
  });
});

test('BPFKIT_BIOLATENCY_AVOID rules attach kinds out, and says so', () => {
  assert.deepEqual(avoidedKinds({ BPFKIT_BIOLATENCY_AVOID: 'raw_tracepoint, kprobe,bogus' }), ['raw_tracepoint', 'kprobe']);
  assert.deepEqual(avoidedKinds({}), []);
  const program = configure({ avoid: ['raw_tracepoint'] });
  assert.deepEqual(chosen(program), ['ISSUE_TRACEPOINT', 'REQUEUE_TRACEPOINT', 'DONE_TRACEPOINT']);
  assert.deepEqual(program.attachments[0].rejected, [{ label: 'raw tracepoint block_rq_complete', reason: 'excluded by BPFKIT_BIOLATENCY_AVOID' }]);
  assert.throws(() => configure({ avoid: ['raw_tracepoint', 'tracepoint'] }), /kprobe blk_account_io_done: this kernel has no kprobes/);
});

test('before 5.11 without BTF the request is the second raw tracepoint argument', () => {
  const program = configure({ queued: true }, kernel({ rawArg: () => undefined, release: '5.4.0-150-generic', missing: ['block_io_start'] }));
  assert.equal(program.defines!.ISSUE_ARG, 1);
  assert.equal(program.defines!.QUEUED_ARG, 1);
  assert.equal(program.defines!.DONE_ARG, 0, 'block_rq_complete always passed the request first');
});

test('map sizes: one disk needs one histogram; metrics mode sizes for the series limit and keeps sums', () => {
  const sizes = (p: BiolatencyProgram) => [p.defines!.HIST_ENTRIES, p.defines!.GROUP_ENTRIES, p.defines!.EXTENSION];
  assert.deepEqual(sizes(configure()), [128, 1, false]);
  assert.deepEqual(sizes(configure({ grouping: 'flags', extension: true })), [64 * 64, 1024, true]);
  assert.deepEqual(sizes(configure({ grouping: 'disk', disk: kernelDev(8, 0) })), [128, 1024, false]);
  assert.deepEqual(sizes(configure({ grouping: 'disk', seriesLimit: 2000 })), [64 * 2000, 2000, true]);
  assert.deepEqual(sizes(configure({ grouping: 'disk', seriesLimit: 20_000 })), [1 << 20, 20_000, true]);
});

test('the program attaches the chosen probes, completion first', () => {
  const calls: string[] = [];
  const bpf = {
    attachRawTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => calls.push(`raw ${tp} ${fnName}`),
    attachTracepoint: ({ tp, fnName }: { tp: string; fnName: string }) => calls.push(`tp ${tp} ${fnName}`),
    attachKprobe: ({ event, fnName }: { event: string; fnName: string }) => calls.push(`kprobe ${event} ${fnName}`),
  };
  configure({ queued: true }).attach(bpf as unknown as Parameters<BiolatencyProgram['attach']>[0]);
  assert.deepEqual(calls, [
    'raw block_rq_complete on_done', 'raw block_rq_issue on_issue', 'raw block_io_start on_queued',
    'raw block_rq_requeue on_requeue', 'raw block_rq_merge on_merge',
  ]);
});

test('disk numbers use the kernel\'s MKDEV layout (major << 20 | minor)', () => {
  const dev = kernelDev(259, 1048575);
  assert.equal(dev, 259 * 2 ** 20 + 1048575);
  assert.equal(majorOf(dev), 259);
  assert.equal(minorOf(dev), 1048575);
});

test('disk names come from /sys/dev/block, then /proc/partitions, else "?" as in bcc', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bpfkit-disks-'));
  try {
    fs.mkdirSync(path.join(root, 'sys/dev/block'), { recursive: true });
    fs.mkdirSync(path.join(root, 'proc'));
    fs.symlinkSync('../../devices/virtual/block/loop3', path.join(root, 'sys/dev/block/7:3'));
    fs.writeFileSync(path.join(root, 'proc/partitions'), 'major minor  #blocks  name\n\n 259        0  1000 nvme0n1\n');
    const names = new DiskNames(root);
    assert.equal(names.name(kernelDev(7, 3)), 'loop3');
    assert.equal(names.name(kernelDev(259, 0)), 'nvme0n1');
    assert.equal(names.name(kernelDev(8, 0)), '?');
    // A disk that appears later is found on first sight.
    fs.symlinkSync('../../devices/pci/block/sda', path.join(root, 'sys/dev/block/8:0'));
    assert.equal(names.name(kernelDev(8, 0)), 'sda');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('-d takes a disk name or /dev path and refuses partitions and unknown names', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bpfkit-disks-'));
  try {
    const disk = path.join(root, 'sys/devices/pci/block/sda');
    fs.mkdirSync(path.join(disk, 'sda1'), { recursive: true });
    fs.writeFileSync(path.join(disk, 'dev'), '8:0\n');
    fs.writeFileSync(path.join(disk, 'sda1/dev'), '8:1\n');
    fs.writeFileSync(path.join(disk, 'sda1/partition'), '1\n');
    fs.mkdirSync(path.join(root, 'sys/class/block'), { recursive: true });
    fs.symlinkSync(disk, path.join(root, 'sys/class/block/sda'));
    fs.symlinkSync(path.join(disk, 'sda1'), path.join(root, 'sys/class/block/sda1'));
    assert.deepEqual(diskByName('sda', root), { name: 'sda', major: 8, minor: 0, dev: kernelDev(8, 0) });
    assert.deepEqual(diskByName('/dev/sda', root), { name: 'sda', major: 8, minor: 0, dev: kernelDev(8, 0) });
    assert.throws(() => diskByName('sda1', root), (e: Error) => e instanceof UsageError && /partition of sda.*-d sda/.test(e.message));
    assert.throws(() => diskByName('sdz', root), UsageError);
    assert.throws(() => diskByName('../../etc', root), UsageError);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('log2 statistics: count, the range the sum lies in, and interpolated percentiles', () => {
  // slot 1: 0..1, slot 3: 4..7, slot 5: 16..31
  const slots = [0, 2, 0, 4, 0, 4];
  assert.equal(log2Count(slots), 10n);
  assert.deepEqual(log2SumBounds(slots), { low: 0n * 2n + 4n * 4n + 16n * 4n, high: 1n * 2n + 7n * 4n + 31n * 4n });
  assert.equal(log2Percentile(slots, 0.5), 4 + (3 / 4) * 4);
  assert.equal(log2Percentile(slots, 1), 32);
  assert.equal(log2Percentile(slots, 0.1), 1);
  assert.equal(log2Percentile([0, 0, 0], 0.5), undefined);
  assert.deepEqual(log2Merge([[0, 1, 2], [0, 0, 0, 5]]), [0n, 1n, 2n, 5n]);
});
