// bitesize's output path against bcc's: the expected text below was printed by bcc's own code
// (/usr/bin/python3 with python3-bpfcc 0.26: bcc.table._print_log2_hist per section, after
// bitesize.py's "\nProcess Name = %s" section line with bytes.decode), for these buckets. Also
// the JSON objects, the option parsing and the metrics' series.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatInterval, jsonInterval, sectionsFrom, type Drained, type Interval } from '../../tools/bitesize/output.ts';
import { spec } from '../../tools/bitesize/options.ts';
import { diskSeries, opLabel } from '../../tools/bitesize/metrics.ts';
import { parseArgs, UsageError } from '../../lib/run/cli.ts';
import { log2BucketBounds } from '../../lib/metrics/exposition.ts';

const BCC = `
Process Name = bsz-one
     Kbytes              : count     distribution
         0 -> 1          : 0        |                                        |
         2 -> 3          : 0        |                                        |
         4 -> 7          : 5        |****************************************|
         8 -> 15         : 0        |                                        |
        16 -> 31         : 3        |************************                |
        32 -> 63         : 0        |                                        |
        64 -> 127        : 0        |                                        |
       128 -> 255        : 2        |****************                        |

Process Name = dd
     Kbytes              : count     distribution
         0 -> 1          : 3        |******************************          |
         2 -> 3          : 0        |                                        |
         4 -> 7          : 0        |                                        |
         8 -> 15         : 0        |                                        |
        16 -> 31         : 0        |                                        |
        32 -> 63         : 0        |                                        |
        64 -> 127        : 4        |****************************************|
       128 -> 255        : 0        |                                        |
       256 -> 511        : 0        |                                        |
       512 -> 1023       : 0        |                                        |
      1024 -> 2047       : 0        |                                        |
      2048 -> 4095       : 1        |**********                              |
`;

// As the kernel's maps return them: in hash order, one entry per (name, slot).
const DRAINED: Drained = {
  dist: [
    [{ name: 'dd', slot: 12n }, 1n], [{ name: 'bsz-one', slot: 5n }, 3n], [{ name: 'dd', slot: 1n }, 3n],
    [{ name: 'bsz-one', slot: 3n }, 5n], [{ name: 'dd', slot: 7n }, 4n], [{ name: 'bsz-one', slot: 8n }, 2n],
  ],
  sums: [
    [{ name: 'dd' }, { bytes: 3 * 512 + 4 * 65536 + 2 * 2 ** 20, count: 8 }],
    [{ name: 'bsz-one' }, { bytes: 5n * 4096n + 3n * 16384n + 2n * 131072n, count: 5n }],
  ],
};

const interval = (d: Drained = DRAINED): Interval => ({ time: new Date(2026, 0, 2, 10, 0, 1), sections: sectionsFrom(d) });

test('until Ctrl-C: the sections exactly as bitesize.py prints them, sorted by process name', () => {
  assert.equal(formatInterval(interval()), BCC);
});

test('with an interval: a blank line first (libbpf-tools), and -T adds the time as "%-8s"', () => {
  assert.equal(formatInterval(interval(), { intervals: true }), `\n${BCC}`);
  assert.equal(formatInterval(interval(), { intervals: true, timestamp: true }), `\n10:00:01\n${BCC}`);
  assert.equal(formatInterval(interval({ dist: [], sums: [] }), { intervals: true }), '\n');
  assert.equal(formatInterval(interval({ dist: [], sums: [] })), '');
});

test('sections hold the exact byte sums and counts, and names that decode alike share one', () => {
  const sections = sectionsFrom({
    dist: [[{ name: 'a\uFFFD', slot: 3 }, 1], [{ name: 'a\uFFFD', slot: 3 }, 2]],
    sums: [[{ name: 'a\uFFFD' }, { bytes: 4096, count: 1 }], [{ name: 'a\uFFFD' }, { bytes: 8192, count: 2 }]],
  });
  assert.deepEqual(sections, [{ comm: 'a\uFFFD', slots: [0n, 0n, 0n, 3n], bytes: 12288n, count: 3n }]);
});

test('--json: bcc\'s print_json_hist keys per process, the comm, and the exact bytes and count', () => {
  const objs = jsonInterval(interval());
  assert.deepEqual(JSON.parse(JSON.stringify(objs, (_k, v) => (typeof v === 'bigint' ? Number(v) : v))), [
    {
      ts: '2026-01-02 10:00:01', val_type: 'Kbytes', comm: 'bsz-one', bytes: 5 * 4096 + 3 * 16384 + 2 * 131072, count: 5,
      data: [[0, 1, 0], [2, 3, 0], [4, 7, 5], [8, 15, 0], [16, 31, 3], [32, 63, 0], [64, 127, 0], [128, 255, 2]]
        .map(([s, e, c]) => ({ 'interval-start': s, 'interval-end': e, count: c })),
    },
    {
      ts: '2026-01-02 10:00:01', val_type: 'Kbytes', comm: 'dd', bytes: 3 * 512 + 4 * 65536 + 2 * 2 ** 20, count: 8,
      data: [[0, 1, 3], [2, 3, 0], [4, 7, 0], [8, 15, 0], [16, 31, 0], [32, 63, 0], [64, 127, 4], [128, 255, 0], [256, 511, 0],
        [512, 1023, 0], [1024, 2047, 0], [2048, 4095, 1]].map(([s, e, c]) => ({ 'interval-start': s, 'interval-end': e, count: c })),
    },
  ]);
  assert.deepEqual(Object.keys(objs[0]), ['ts', 'val_type', 'data', 'comm', 'bytes', 'count']);
  assert.deepEqual(jsonInterval(interval({ dist: [], sums: [] })), []);
});

test('options: libbpf-tools\' -T -c -d and interval/count, -j for --json', () => {
  const o = parseArgs(spec, ['-T', '-c', 'fio', '-j', '1', '5']);
  assert.deepEqual([o.timestamp, o.comm, o.json, o.interval, o.count], [true, 'fio', true, 1, 5]);
  assert.equal(parseArgs(spec, ['--json']).json, true);
  assert.equal(parseArgs(spec, ['--comm=a very long process name']).comm, 'a very long process name');
  for (const [args, message] of [
    [['-c'], /argument -c\/--comm needs a value/],
    [['-c', ''], /argument -c\/--comm needs a value/],
    [['-d', 'nosuchdisk'], /argument -d\/--disk: no disk named "nosuchdisk"/],
    [['0'], /interval/],
    [['1', 'x'], /count/],
    [['1', '2', '3'], /./],
    [['-x'], /unrecognized option -x/],
  ] as const) {
    assert.throws(() => parseArgs(spec, [...args]), (err: Error) => err instanceof UsageError && message.test(err.message), args.join(' '));
  }
});

test('metrics: ops named from cmd_flags\' low byte or the rwbs letters, a bounded set', () => {
  assert.deepEqual([0, 1, 2, 3, 5, 9, 0x801].map((op) => opLabel(op, '')), ['read', 'write', 'flush', 'discard', 'secure_erase', 'other', 'write']);
  assert.deepEqual(['R', 'WS', 'FWS', 'FF', 'D', 'DE', 'N', 'RA'].map((rwbs) => opLabel(0, rwbs)),
    ['read', 'write', 'write', 'flush', 'discard', 'secure_erase', 'other', 'read']);
});

test('metrics: series per (disk, op), merged across rwbs variants; le = 2^i bytes holds sizes up to 2^i', () => {
  const loop = 7 * 2 ** 20 + 3;
  const series = diskSeries(
    [
      // Slot = bpf_log2l(bytes - 1): 4096 → 12, 16384 → 14, 512 → 9.
      [{ group: { dev: loop, op: 0, rwbs: 'WS' }, slot: 14 }, 3],
      [{ group: { dev: loop, op: 0, rwbs: 'W' }, slot: 12 }, 1],
      [{ group: { dev: loop, op: 0, rwbs: 'R' }, slot: 12 }, 5],
      [{ group: { dev: loop, op: 0, rwbs: 'R' }, slot: 9 }, 2],
    ],
    [
      [{ dev: loop, op: 0, rwbs: 'WS' }, { bytes: 3 * 16384, count: 3 }],
      [{ dev: loop, op: 0, rwbs: 'W' }, { bytes: 4096, count: 1 }],
      [{ dev: loop, op: 0, rwbs: 'R' }, { bytes: 5 * 4096 + 2 * 512, count: 7 }],
    ],
    (dev) => (dev === loop ? 'loop3' : '?'),
  );
  assert.deepEqual(series.map((s) => [s.disk, s.op, s.bytes, s.count]), [['loop3', 'read', 21504n, 7n], ['loop3', 'write', 53248n, 4n]]);
  const { buckets, count } = log2BucketBounds(series[0].slots, 1);
  assert.equal(count, 7n);
  assert.deepEqual(buckets.filter((b) => b.le >= 256), [
    { le: 256, count: 0n }, { le: 512, count: 2n }, { le: 1024, count: 2n }, { le: 2048, count: 2n }, { le: 4096, count: 7n },
  ]);
});
