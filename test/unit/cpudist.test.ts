// cpudist's output path against bcc's (the expected text was printed by bcc's own
// bcc.table._print_log2_hist with cpudist.py's section line "\npid = %s" % pid_to_comm(pid), whose
// /proc comm keeps its newline), its JSON, its option checks, and its program on stand-in kernels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatInterval, jsonInterval, sectionLabel, sectionsFrom, headerLine, KIND_OFF, KIND_ON, type Drained, type Interval } from '../../tools/cpudist/output.ts';
import { configureCpudist, type CpudistConfig } from '../../tools/cpudist/program.ts';
import { parseArgs, UsageError } from '../../lib/run/cli.ts';
import { spec } from '../../tools/cpudist/options.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

const BCC_P = `
pid = 1234 spin

     usecs               : count     distribution
         0 -> 1          : 0        |                                        |
         2 -> 3          : 0        |                                        |
         4 -> 7          : 2        |***********                             |
         8 -> 15         : 0        |                                        |
        16 -> 31         : 7        |****************************************|
        32 -> 63         : 1        |*****                                   |

pid = 5678
     usecs               : count     distribution
         0 -> 1          : 1        |****************************************|

avg = 9 usecs, total: 100 usecs, count: 11

`;

const drained: Drained = {
  dist: [
    [{ group: 1234, kind: KIND_ON, slot: 3 }, 2], [{ group: 1234, kind: KIND_ON, slot: 5 }, 7], [{ group: 1234, kind: KIND_ON, slot: 6 }, 1],
    [{ group: 5678, kind: KIND_ON, slot: 1 }, 1], [{ group: 7, kind: KIND_OFF, slot: 9 }, 4],
  ],
  ext: [
    [{ group: 1234, kind: KIND_ON }, { total: 99, total_ns: 99_500, count: 10 }],
    [{ group: 5678, kind: KIND_ON }, { total: 1, total_ns: 1_900, count: 1 }],
  ],
};
const comms: Record<number, string> = { 1234: 'spin\n' };
const commOf = (id: number) => comms[id] ?? null;
const interval = (over: Partial<Interval> = {}): Interval => ({
  grouping: 'pid', unit: 'usecs', offcpu: false, time: new Date(2026, 0, 2, 10, 0, 1), sections: sectionsFrom(drained, KIND_ON), ...over,
});

test('-P -e prints bcc\'s sections byte for byte, the live comm with its newline, a gone PID bare', () => {
  assert.equal(formatInterval(interval(), { extension: true, commOf }), `\n${BCC_P}`);
  assert.equal(sectionLabel(5, () => null), '5');
});

test('sections are per kind, ordered by PID; -T adds bcc\'s time line', () => {
  assert.deepEqual(sectionsFrom(drained, KIND_ON).map((s) => s.group), [1234, 5678]);
  assert.deepEqual(sectionsFrom(drained, KIND_OFF).map((s) => [s.group, s.slots.length, s.count]), [[7, 10, 0n]]);
  const plain = formatInterval(interval({ grouping: 'none', sections: sectionsFrom({ dist: [[{ group: 0, kind: 0, slot: 2 }, 3]] }, KIND_ON) }), { timestamp: true });
  assert.match(plain, /^\n10:00:01\n {5}usecs {15}: count {5}distribution\n {9}0 -> 1 {10}: 0 /);
  assert.equal(headerLine(true), 'Tracing off-CPU time... Hit Ctrl-C to end.');
});

test('--json: bcc\'s histogram dict plus the PID, comm, count and exact sum in ns', () => {
  const [p1234, p5678] = jsonInterval(interval(), { commOf });
  assert.deepEqual(p1234, {
    ts: '2026-01-02 10:00:01', val_type: 'usecs', time: 'on-CPU', pid: 1234, comm: 'spin', count: 10n, sum_ns: 99_500n,
    data: [
      { 'interval-start': 0, 'interval-end': 1, count: 0 }, { 'interval-start': 2, 'interval-end': 3, count: 0 },
      { 'interval-start': 4, 'interval-end': 7, count: 2 }, { 'interval-start': 8, 'interval-end': 15, count: 0 },
      { 'interval-start': 16, 'interval-end': 31, count: 7 }, { 'interval-start': 32, 'interval-end': 63, count: 1 },
    ],
  });
  assert.equal(p5678.comm, undefined);
  const [empty] = jsonInterval(interval({ grouping: 'none', sections: [] }));
  assert.deepEqual({ ...empty, ts: '' }, { ts: '', val_type: 'usecs', data: [], time: 'on-CPU', count: 0n, sum_ns: 0n });
});

test('options: bcc\'s flags; a PID that does not exist and bad intervals are refused', () => {
  const o = parseArgs(spec, ['-OTmPLIe', '-p', String(process.pid), '2', '3']);
  assert.deepEqual([o.offcpu, o.timestamp, o.milliseconds, o.pids, o.tids, o['include-idle'], o.extension, o.pid, o.interval, o.count],
    [true, true, true, true, true, true, true, process.pid, 2, 3]);
  for (const bad of [['-p', '999999999'], ['-p', 'x'], ['0'], ['1', 'x'], ['--nope']]) assert.throws(() => parseArgs(spec, bad), UsageError, bad.join(' '));
});

// --- the program on stand-in kernels ---

const OFFSETS = { 'task_struct.pid': 2500, 'task_struct.tgid': 2504, 'task_struct.__state': 24 };
const kernel = (o: FakeKernel = {}) => fakeKernel({ offsets: OFFSETS, rawArg: () => 1, ...o });
const configure = (c: Partial<CpudistConfig> = {}, k = kernel()) => configureCpudist({
  measure: 'on', nsPerUnit: 1000, grouping: 'none', includeIdle: false, extension: false, ...c,
}, k);

test('the tracepoint comes first and needs no struct offsets', () => {
  const p = configure({ grouping: 'pid', pid: 42 });
  assert.deepEqual(p.hook, { kind: 'tracepoint' });
  assert.equal(p.file, 'cpudist.bpf.c');
  assert.deepEqual(p.defines, {
    ONCPU: true, OFFCPU: false, NS_PER_UNIT: 1000, GROUP_PID: true, GROUP_TID: false, FILTER_TGID: true, TARGET_TGID: 42,
    INCLUDE_IDLE: false, EXTENSION: false, START_ON_ENTRIES: 1024, START_OFF_ENTRIES: 8192, HIST_ENTRIES: 65536, EXT_ENTRIES: 16384,
    SWITCH_TRACEPOINT: true, SWITCH_RAW_TP: false, SWITCH_KPROBE: false,
  });
  assert.deepEqual(p.attachments.map((a) => `${a.purpose}: ${a.chosen}`), ['context switch: tracepoint sched:sched_switch']);
});

test('without the tracepoint: the raw tracepoint with task_struct offsets from BTF (state before 5.14)', () => {
  const p = configure({ measure: 'off' }, kernel({ missing: ['sched_switch'], offsets: { ...OFFSETS, 'task_struct.__state': undefined as never, 'task_struct.state': 16 } }));
  assert.deepEqual(p.hook, { kind: 'raw_tracepoint', prevArg: 1 });
  assert.deepEqual([p.defines!.SWITCH_RAW_TP, p.defines!.PREV_ARG, p.defines!.TASK_PID_OFFSET, p.defines!.TASK_TGID_OFFSET, p.defines!.TASK_STATE_OFFSET, p.defines!.OFFCPU, p.defines!.ONCPU],
    [true, 1, 2500, 2504, 16, true, false]);
  assert.deepEqual(p.attachments[0].rejected, [{ label: 'tracepoint sched:sched_switch', reason: 'this kernel has no such tracepoint' }]);
});

test('then bcc\'s kprobe on finish_task_switch, or its .isra clone', () => {
  const noTp = { missing: ['sched_switch'], rawTracepoints: () => false, kprobes: () => true };
  assert.deepEqual(configure({}, kernel(noTp)).hook, { kind: 'kprobe', fn: 'finish_task_switch' });
  const isra = configure({}, kernel({ ...noTp, kernelFunction: (f) => f === 'finish_task_switch.isra.0' }));
  assert.deepEqual(isra.hook, { kind: 'kprobe', fn: 'finish_task_switch.isra.0' });
  assert.equal(isra.defines!.SWITCH_KPROBE, true);
});

test('nothing usable: one error naming every reason; no BTF rules out the raw tracepoint', () => {
  assert.throws(() => configure({}, kernel({ missing: ['sched_switch'], offsets: {} })),
    /no way to trace context switch on this kernel: tracepoint sched:sched_switch: this kernel has no such tracepoint; raw tracepoint sched_switch: needs task_struct.pid from the kernel's BTF; kprobe finish_task_switch: this kernel has no kprobes/);
});

test('metrics: both kinds for the exporter, map sizes bounded by the series limit', () => {
  const p = configure({ measure: 'both', grouping: 'tid', seriesLimit: 100, nsPerUnit: 1 });
  assert.deepEqual([p.defines!.ONCPU, p.defines!.OFFCPU, p.defines!.EXTENSION, p.defines!.HIST_ENTRIES, p.defines!.EXT_ENTRIES], [true, true, true, 65 * 2 * 100, 200]);
});
