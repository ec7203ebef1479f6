// How biolatency picks its probes on kernels other than this one (a kernel described by a
// stand-in KernelView), and the user-space helpers it relies on: disk names, log2 statistics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { planBiolatency, type KernelView, type PlanRequest } from '../../tools/biolatency/plan.ts';
import { DiskNames, diskByName, kernelDev, majorOf, minorOf } from '../../tools/biolatency/disks.ts';
import { log2Count, log2Merge, log2Percentile, log2SumBounds } from '../../tools/biolatency/log2-stats.ts';
import { UsageError } from '../../lib/run/cli.ts';

const OFFSETS: Record<string, number> = {
  'request.q': 0, 'request.cmd_flags': 24, 'request.__data_len': 44, 'request_queue.disk': 104,
  'gendisk.major': 0, 'gendisk.first_minor': 4,
};

/** A 6.18-like kernel: raw tracepoints, every block tracepoint, BTF, no kprobes. */
function kernel(overrides: Partial<KernelView> & { missing?: string[] } = {}): KernelView {
  const missing = new Set(overrides.missing ?? []);
  return {
    rawTracepoints: () => true,
    tracepoint: (_cat, ev) => !missing.has(ev),
    kprobe: () => 'this kernel has no kprobes',
    rawArg: () => 0,
    offset: (s, f) => OFFSETS[`${s}.${f}`],
    avoided: () => false,
    release: '6.18.0',
    ...overrides,
  };
}

const want = (w: Partial<PlanRequest> = {}): PlanRequest => ({ queued: false, disk: false, flags: false, ...w });
const targets = (plan: ReturnType<typeof planBiolatency>) => plan.probes.map((p) => `${p.kind} ${p.target} ${p.fnName}`);

test('with raw tracepoints every probe gets the request itself', () => {
  const plan = planBiolatency(want({ disk: true }), kernel());
  assert.equal(plan.matchByRequest, true);
  assert.deepEqual(targets(plan), [
    'raw_tracepoint block_rq_complete on_done', 'raw_tracepoint block_rq_issue on_issue', 'raw_tracepoint block_rq_requeue on_requeue',
  ]);
  assert.deepEqual(plan.defines, {
    MATCH_BY_REQUEST: 1, DONE_PROBE: 1, DONE_ARG: 0, ISSUE_PROBE: 1, ISSUE_ARG: 0, QUEUED_PROBE: 0, REQUEUE_PROBE: 1,
    REQUEUE_ARG: 0, MERGE_PROBE: 0, RQ_Q_OFFSET: 0, Q_DISK_OFFSET: 104, DISK_MAJOR_OFFSET: 0, DISK_FIRST_MINOR_OFFSET: 4,
    RQ_DATA_LEN_OFFSET: 44,
  });
});

test('-Q starts at block_io_start and also drops requests merged away', () => {
  const plan = planBiolatency(want({ queued: true, flags: true }), kernel());
  assert.deepEqual(targets(plan).slice(2), [
    'raw_tracepoint block_io_start on_queued', 'raw_tracepoint block_rq_requeue on_requeue', 'raw_tracepoint block_rq_merge on_merge',
  ]);
  assert.equal(plan.defines.RQ_CMD_FLAGS_OFFSET, 24);
  assert.equal(plan.defines.RQ_Q_OFFSET, undefined, 'no disk reads without -D or -d');
});

test('-Q before 6.5 (no block_io_start) starts at block_rq_insert', () => {
  const plan = planBiolatency(want({ queued: true }), kernel({ missing: ['block_io_start'] }));
  assert.ok(targets(plan).includes('raw_tracepoint block_rq_insert on_queued'));
  assert.deepEqual(plan.choices.find((c) => c.purpose.startsWith('I/O queued'))?.rejected,
    [{ label: 'raw tracepoint block_io_start', reason: 'this kernel has no such tracepoint' }]);
});

test('without raw tracepoints the classic tracepoints match by (dev, sector) and read no struct', () => {
  const plan = planBiolatency(want({ queued: true, disk: true, flags: true }), kernel({ rawTracepoints: () => false }));
  assert.equal(plan.matchByRequest, false);
  assert.deepEqual(targets(plan), [
    'tracepoint block:block_rq_complete tracepoint__block__block_rq_complete',
    'tracepoint block:block_rq_issue tracepoint__block__block_rq_issue',
    'tracepoint block:block_io_start tracepoint__block__block_io_start',
    'tracepoint block:block_rq_requeue tracepoint__block__block_rq_requeue',
    'tracepoint block:block_rq_merge tracepoint__block__block_rq_merge',
  ]);
  assert.equal(plan.defines.QUEUED_TRACEPOINT, 1);
  assert.ok(!Object.keys(plan.defines).some((k) => k.endsWith('_OFFSET')), 'no struct offsets on classic tracepoints');
});

test('-D without BTF offsets falls back to the dev field of classic tracepoints, saying why', () => {
  const plan = planBiolatency(want({ disk: true }), kernel({ offset: () => undefined }));
  assert.equal(plan.matchByRequest, false);
  assert.match(plan.choices[0].rejected[0].reason, /request\.q from the kernel's BTF/);
});

test('kprobes are used only where the block tracepoints are missing', () => {
  const k = kernel({
    rawTracepoints: () => false,
    tracepoint: () => false,
    kprobe: (fn) => (fn === 'blk_account_io_done' || fn === 'blk_mq_start_request' ? null : 'no such kernel function here'),
  });
  const plan = planBiolatency(want(), k);
  assert.equal(plan.matchByRequest, true);
  assert.deepEqual(targets(plan), ['kprobe blk_account_io_done on_done', 'kprobe blk_mq_start_request on_issue']);
  assert.match(plan.choices.find((c) => c.purpose === 'requeue')!.chosen, /^none/);
});

test('no completion probe at all is an error naming every candidate and its reason', () => {
  const k = kernel({ rawTracepoints: () => false, tracepoint: () => false });
  assert.throws(() => planBiolatency(want(), k), (err: Error) => {
    assert.match(err.message, /no way to trace I\/O completion/);
    for (const c of ['raw tracepoint block_rq_complete', 'tracepoint block:block_rq_complete', 'kprobe __blk_account_io_done', 'kprobe blk_account_io_done']) {
      assert.ok(err.message.includes(c), c);
    }
    return true;
  });
});

test('before 5.11 without BTF the request is the second raw tracepoint argument', () => {
  const plan = planBiolatency(want({ queued: true }), kernel({ rawArg: () => undefined, release: '5.4.0-150-generic', missing: ['block_io_start'] }));
  assert.equal(plan.defines.ISSUE_ARG, 1);
  assert.equal(plan.defines.QUEUED_ARG, 1);
  assert.equal(plan.defines.DONE_ARG, 0, 'block_rq_complete always passed the request first');
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
