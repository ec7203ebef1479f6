// runqlen without a kernel: its options, the text bcc's runqlen prints for fixed counts (linear
// histograms, occupancy lines), its JSON, its metrics, and the program it configures for kernels
// described by stand-in KernelViews.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError } from 'bcc-node-bindings';
import { parseArgs, UsageError } from '../../lib/run/cli.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { spec } from '../../tools/runqlen/options.ts';
import { configureRunqlen, MAX_SLOTS } from '../../tools/runqlen/program.ts';
import { countsFrom, countsSince, formatInterval, jsonInterval, meanLength, pyFixed2, type Interval } from '../../tools/runqlen/output.ts';
import { lengthSeries, LENGTH_BOUNDS } from '../../tools/runqlen/metrics.ts';
import { fakeKernel } from '../helpers/kernel-view.ts';

const OLD = { 'task_struct.se': 128, 'sched_entity.cfs_rq': 168, 'cfs_rq.nr_running': 16, 'cfs_rq.rq': 312, 'rq.nr_running': 4 };
const NEW = { 'task_struct.se': 128, 'sched_entity.cfs_rq': 168, 'cfs_rq.nr_queued': 16, 'cfs_rq.rq': 312, 'rq.nr_running': 4 };

test('runqlen options: bcc defaults (99 Hz, forever), -C -O -T -H -f, interval and count', () => {
  assert.deepEqual(
    (({ timestamp, runqocc, cpus, host, frequency, interval, count }) => ({ timestamp, runqocc, cpus, host, frequency, interval, count }))(parseArgs(spec, [])),
    { timestamp: false, runqocc: false, cpus: false, host: false, frequency: 99, interval: undefined, count: undefined },
  );
  const o = parseArgs(spec, ['-COTH', '-f', '199', '5', '3']);
  assert.deepEqual([o.cpus, o.runqocc, o.timestamp, o.host, o.frequency, o.interval, o.count], [true, true, true, true, 199, 5, 3]);
  for (const bad of [['-f', '0'], ['-f', '10001'], ['-f', 'x'], ['0'], ['1', '0'], ['1', '2', '3']]) {
    assert.throws(() => parseArgs(spec, bad), UsageError, bad.join(' '));
  }
});

const interval = (counts: bigint[][]): Interval => ({ counts, time: new Date(2024, 0, 2, 3, 4, 5) });
const COUNTS = [[196n, 0n, 1n, 1n], [0n, 0n, 0n, 0n], [7n, 99n, 0n, 0n]];

test('runqlen text: one linear histogram of every CPU, as bcc prints it', () => {
  assert.equal(formatInterval(interval(COUNTS)), [
    '',
    '     runqlen       : count     distribution',
    '        0          : 203      |****************************************|',
    '        1          : 99       |*******************                     |',
    '        2          : 1        |                                        |',
    '        3          : 1        |                                        |',
    '',
  ].join('\n'));
});

test('runqlen -C -T: a "cpu = N" section per sampled CPU, after the time', () => {
  assert.equal(formatInterval(interval(COUNTS), { cpus: true, timestamp: true }), [
    '',
    '03:04:05',
    '',
    'cpu = 0',
    '     runqlen       : count     distribution',
    '        0          : 196      |****************************************|',
    '        1          : 0        |                                        |',
    '        2          : 1        |                                        |',
    '        3          : 1        |                                        |',
    '',
    'cpu = 2',
    '     runqlen       : count     distribution',
    '        0          : 7        |**                                      |',
    '        1          : 99       |****************************************|',
    '',
  ].join('\n'));
});

test('runqlen -O: occupancy of all CPUs, and with -C of CPUs 0 up to the last sampled one, bcc\'s %6.2f', () => {
  assert.equal(formatInterval(interval(COUNTS), { runqocc: true }), '\nrunqocc: 33.22%\n');
  assert.equal(formatInterval(interval(COUNTS), { runqocc: true, cpus: true }), [
    '',
    'runqocc, CPU 0     1.01%',
    'runqocc, CPU 1     0.00%',
    'runqocc, CPU 2    93.40%',
    '',
  ].join('\n'));
  assert.equal(formatInterval(interval([[0n], [0n]]), { runqocc: true }), '\nrunqocc: 0.00%\n');
  assert.equal(formatInterval(interval([[0n], [0n]])), '\n');
  // Python rounds an exact half to even; toFixed would round it up.
  assert.deepEqual([pyFixed2(12.125), pyFixed2(12.375), pyFixed2(0.125), pyFixed2(99.996)], ['12.12', '12.38', '0.12', '100.00']);
});

test('runqlen --json: bcc\'s linear JSON histogram with the CPU, samples, queued and runqocc', () => {
  const [all] = jsonInterval(interval(COUNTS));
  assert.deepEqual(all, {
    ts: '2024-01-02 03:04:05', val_type: 'runqlen',
    data: [0, 1, 2, 3].map((i) => ({ 'interval-start': i, 'interval-end': i, count: [203, 99, 1, 1][i] })),
    samples: 304, queued: 101, runqocc: 100 * (101 / 304),
  });
  const perCpu = jsonInterval(interval(COUNTS), { cpus: true });
  assert.deepEqual(perCpu.map((o) => [o.cpu, o.samples, o.queued]), [[0, 198, 2], [2, 106, 99]]);
  assert.deepEqual(Object.keys(perCpu[0]), ['ts', 'val_type', 'data', 'cpu', 'samples', 'queued', 'runqocc']);
});

test('runqlen reads the per-CPU map cumulatively: each interval is the difference of two readings', () => {
  const first = countsFrom([[0, [5n, 1n]], [1, [2n, 0n]], [2, [0n, 0n]]], 2, 3);
  assert.deepEqual(first, [[5n, 2n, 0n], [1n, 0n, 0n]]);
  const second = countsFrom([[0, [9n, 1n]], [1, [2n, 4n]], [2, [1n, 0n]]], 2, 3);
  assert.deepEqual(countsSince(second, first), [[4n, 0n, 1n], [0n, 4n, 0n]]);
  assert.deepEqual(countsSince(first, undefined), first);
  assert.equal(meanLength([2n, 0n, 2n]), 1);
  assert.equal(meanLength([]), 0);
});

test('runqlen metrics: exact cumulative buckets at every bound, _count the samples, _sum the lengths', () => {
  const slots = new Array<bigint>(MAX_SLOTS).fill(0n);
  slots[0] = 10n; slots[1] = 5n; slots[5] = 2n; slots[100] = 1n;
  const series = lengthSeries(3, slots);
  assert.deepEqual(series.labels, { cpu: '3' });
  assert.deepEqual(series.buckets.map((b) => b.le), [...LENGTH_BOUNDS]);
  assert.deepEqual(series.buckets.map((b) => Number(b.count)), [10, 15, 15, 15, 15, 17, 17, 17, 17, 17, 17, 17]);
  assert.equal(series.count, 18n);
  assert.equal(series.sum, 5 + 10 + 100);
});

test('runqlen program: cfs_rq.nr_queued where the kernel has it (6.13+), nr_running before', () => {
  const recent = configureRunqlen({ frequency: 99, host: false }, fakeKernel({ offsets: NEW }));
  assert.equal(recent.file, 'runqlen.bpf.c');
  assert.equal(recent.field, 'cfs_rq.nr_queued');
  assert.deepEqual(recent.defines, { MAX_SLOTS, HOST: false, TASK_SE_OFFSET: 128, SE_CFS_RQ_OFFSET: 168, CFS_RQ_NR_OFFSET: 16 });
  assert.deepEqual(recent.attachments.map((a) => [a.purpose, a.chosen]), [
    ['sampling', 'perf event software cpu-clock at 99 Hz on every CPU'],
    ['run queue length', 'cfs_rq.nr_queued through task_struct.se.cfs_rq (6.13+)'],
  ]);
  const old = configureRunqlen({ frequency: 49, host: false }, fakeKernel({ offsets: OLD, release: '6.1.0' }));
  assert.equal(old.field, 'cfs_rq.nr_running');
  assert.deepEqual(old.attachments[1].rejected, [{ label: 'cfs_rq.nr_queued through task_struct.se.cfs_rq (6.13+)', reason: 'cfs_rq.nr_queued is not in the kernel\'s BTF' }]);
  assert.equal(old.attachments[0].chosen, 'perf event software cpu-clock at 49 Hz on every CPU');
});

test('runqlen -H program: rq.nr_running through cfs_rq.rq, which needs group scheduling', () => {
  const host = configureRunqlen({ frequency: 99, host: true }, fakeKernel({ offsets: NEW }));
  assert.equal(host.field, 'rq.nr_running');
  assert.deepEqual(host.defines, { MAX_SLOTS, HOST: true, TASK_SE_OFFSET: 128, SE_CFS_RQ_OFFSET: 168, CFS_RQ_RQ_OFFSET: 312, RQ_NR_RUNNING_OFFSET: 4 });
  const { 'cfs_rq.rq': _, ...noGroups } = NEW;
  assert.throws(() => configureRunqlen({ frequency: 99, host: true }, fakeKernel({ offsets: noGroups })),
    (err: unknown) => isBpfError(err, 'NOT_SUPPORTED') && /cfs_rq\.rq is not in the kernel's BTF/.test(err.message));
});

test('runqlen program: no usable field, or no BTF at all, is refused in one line', () => {
  const { 'cfs_rq.nr_queued': _, ...neither } = NEW;
  assert.throws(() => configureRunqlen({ frequency: 99, host: false }, fakeKernel({ offsets: neither })),
    (err: unknown) => isBpfError(err, 'NOT_SUPPORTED') && err.message === 'no way to trace run queue length on this kernel: '
      + "cfs_rq.nr_queued through task_struct.se.cfs_rq (6.13+): cfs_rq.nr_queued is not in the kernel's BTF; "
      + "cfs_rq.nr_running through task_struct.se.cfs_rq (before 6.13): cfs_rq.nr_running is not in the kernel's BTF");
  assert.throws(() => configureRunqlen({ frequency: 99, host: false }, fakeKernel({ offsets: {} })),
    (err: unknown) => err instanceof MissingPrerequisite && !err.message.includes('\n') && /BTF/.test(err.message));
});
