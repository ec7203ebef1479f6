// runqlat's output: bcc's text (through the binding's printer), the JSON objects with count and
// sum_ns, the metrics' exact le bounds and _sum, and its command line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLog2Histogram, formatLog2Sections } from 'bcc-node-bindings';
import { formatInterval, jsonInterval, sectionsFrom, type Drained } from '../../tools/runqlat/output.ts';
import { runqlatCollector } from '../../tools/runqlat/metrics.ts';
import { parseArgs } from '../../lib/run/cli.ts';
import { spec } from '../../tools/runqlat/options.ts';

const time = new Date(2026, 0, 2, 3, 4, 5);
const drained: Drained = {
  dist: [[{ group: 200n, slot: 3n }, 4n], [{ group: 7n, slot: 1n }, 2n], [{ group: 200n, slot: 5n }, 1n]],
  totals: [[200n, { ns: 123456n, count: 5n }], [7n, { ns: 1500n, count: 2n }]],
};

test('sections come in numeric order with their slots, counts and sums', () => {
  assert.deepEqual(sectionsFrom(drained), [
    { id: 7n, slots: [0n, 2n], sumNs: 1500n, count: 2n },
    { id: 200n, slots: [0n, 0n, 0n, 4n, 0n, 1n], sumNs: 123456n, count: 5n },
  ]);
});

test('text is bcc\'s: "pid = N" sections, or one histogram, -T\'s time first', () => {
  const sections = sectionsFrom(drained);
  assert.equal(formatInterval({ grouping: 'pid', unit: 'usecs', time, sections }),
    `\n${formatLog2Sections([{ label: 7, slots: [0n, 2n] }, { label: 200, slots: sections[1].slots }], 'usecs', { sectionHeader: 'pid', sectionPrint: String })}`);
  assert.match(formatInterval({ grouping: 'tid', unit: 'msecs', time, sections }), /^\n\ntid = 7\n {5}msecs {15}: count {5}distribution\n/);
  const one = sectionsFrom({ dist: [[{ group: 0n, slot: 2n }, 3n]] });
  assert.equal(formatInterval({ grouping: 'none', unit: 'usecs', time, sections: one }, { timestamp: true }),
    `\n03:04:05\n${formatLog2Histogram([0n, 0n, 3n], 'usecs')}`);
  assert.equal(formatInterval({ grouping: 'none', unit: 'usecs', time, sections: [] }), `\n${formatLog2Histogram([], 'usecs')}`);
});

test('JSON: bcc\'s histogram dict with the section key, plus count and sum_ns', () => {
  const [a, b] = jsonInterval({ grouping: 'pidns', unit: 'usecs', time, sections: sectionsFrom(drained) });
  assert.deepEqual(a, {
    ts: '2026-01-02 03:04:05', val_type: 'usecs', data: [{ 'interval-start': 0, 'interval-end': 1, count: 2 }], pidns: 7n, count: 2n, sum_ns: 1500n,
  });
  assert.equal(b.pidns, 200n);
  assert.deepEqual(jsonInterval({ grouping: 'none', unit: 'msecs', time, sections: [] }), [{ ts: '2026-01-02 03:04:05', val_type: 'msecs', data: [], count: 0n, sum_ns: 0n }]);
});

test('metrics: bpfkit_runqueue_latency_seconds with exact le bounds and the exact _sum, labelled by pid', () => {
  const table = (entries: unknown[]) => ({ entries: () => entries.slice(), get: () => 0n });
  const bpf = { table: (name: string) => (name === 'dist' ? table(drained.dist) : name === 'totals' ? table(drained.totals!) : table([])) };
  const c = runqlatCollector(bpf as never, { grouping: 'pid', nsPerUnit: 1000, seriesLimit: 1 });
  const [family] = c.collect();
  assert.equal(family.name, 'bpfkit_runqueue_latency_seconds');
  assert.equal(family.type, 'histogram');
  assert.deepEqual(family.type === 'histogram' && family.series, [
    { labels: { pid: '7' }, buckets: [{ le: 2e-6, count: 2n }], count: 2n, sum: 1.5e-6 },
  ]);
  assert.equal(c.dropped(), 1);
});

test('options: bcc\'s flags; -P, -L and --pidnss are parsed, intervals validated', () => {
  const o = parseArgs(spec, ['-T', '-m', '-P', '5', '3']) as Record<string, unknown>;
  assert.deepEqual([o.timestamp, o.milliseconds, o.pids, o.interval, o.count], [true, true, true, 5, 3]);
  assert.equal((parseArgs(spec, ['--pidnss', '-L']) as Record<string, unknown>).pidnss, true);
  assert.throws(() => parseArgs(spec, ['0']));
  assert.throws(() => parseArgs(spec, ['-p', 'abc']));
});
