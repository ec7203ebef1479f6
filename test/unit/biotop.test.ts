// biotop's user-space side without the kernel: bcc's header and rows to the character (expected
// strings made with Python's own % formatting from bcc's format strings), the averages, the order
// and -r, the JSON rows, the metrics' bounded command series, and option errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HEADER, avgMs, formatRow, kbytes, rowJson, sortRows, table, toRows, totals, type CountKey, type CountValue, type Row } from '../../tools/biotop/rows.ts';
import { CommandBook, OTHER } from '../../tools/biotop/metrics.ts';
import { parseArgs } from '../../lib/run/cli.ts';
import { spec } from '../../tools/biotop/options.ts';
import { kernelDev } from '../../lib/block/disks.ts';
import { runToolToEnd } from '../helpers/tool.ts';

const row = (r: Partial<Row>): Row => ({
  pid: 1, comm: 'dd', direction: 'R', major: 254, minor: 0, disk: 'vda', io: 1n, bytes: 4096n, latencyNs: 100_000n, ...r,
});

test("the header is bcc's, character for character", () => {
  // python3: "%-7s %-16s %1s %-3s %-3s %-8s %5s %7s %6s" % ("PID", "COMM", "D", "MAJ", "MIN", "DISK", "I/O", "Kbytes", "AVGms")
  assert.equal(HEADER, 'PID     COMM             D MAJ MIN DISK       I/O  Kbytes  AVGms');
});

test('rows print as "%-7d %-16s %1s %-3d %-3d %-8s %5s %7s %6.2f" does, nothing cut', () => {
  assert.equal(formatRow(row({ pid: 14501, comm: 'cksum', major: 202, minor: 1, disk: 'xvda1', io: 361n, bytes: 28832n * 1024n, latencyNs: 361n * 3_390_000n })),
    '14501   cksum            R 202 1   xvda1      361   28832   3.39');
  assert.equal(formatRow(row({
    pid: 4194304, comm: 'kworker/u16:2abc', direction: 'W', major: 259, minor: 1048575, disk: 'nvme10n1p12',
    io: 123456n, bytes: 12345678n * 1024n + 1023n, latencyNs: 123456n * 1_234_567_800n,
  })), '4194304 kworker/u16:2abc W 259 1048575 nvme10n1p12 123456 12345678 1234.57');
  assert.equal(formatRow(row({ pid: 0, comm: '', major: 7, minor: 3, disk: '?', io: 1n, bytes: 512n, latencyNs: 125_000n })),
    '0                        R 7   3   ?            1       0   0.12');
});

test('Kbytes are whole kilobytes, rounded down', () => {
  assert.equal(kbytes(1023n), 0n);
  assert.equal(kbytes(1024n), 1n);
  assert.equal(kbytes(2n ** 64n - 1n), 2n ** 54n - 1n);
});

test('AVGms is the exact mean issue-to-completion time, two decimals, a tie to even', () => {
  assert.equal(avgMs(0n, 0n), '0.00');
  assert.equal(avgMs(3_000_000n, 2n), '1.50');
  assert.equal(avgMs(125_000n, 1n), '0.12'); // Python: "%.2f" % 0.125 == "0.12"
  assert.equal(avgMs(375_000n, 1n), '0.38'); // and 0.375 → "0.38"
  assert.equal(avgMs(125_001n, 1n), '0.13');
  assert.equal(avgMs(2_000_000n, 3n), '0.67');
  assert.equal(avgMs(10n ** 15n, 1n), '1000000000.00');
});

test('rows come from the map as the kernel keyed them, the disk named by its number', () => {
  const entries: Array<[CountKey, CountValue]> = [
    [{ pid: 42, rwflag: 1, major: 7, minor: 3, comm: 'fio' }, { bytes: 8192n, ns: 5000n, io: 2n }],
    [{ pid: 43, rwflag: 0, major: 8, minor: 0, comm: 'cat' }, { bytes: 4096, ns: 7, io: 1 }],
  ];
  const names = new Map([[kernelDev(7, 3), 'loop3']]);
  assert.deepEqual(toRows(entries, (dev) => names.get(dev) ?? '?'), [
    { pid: 42, comm: 'fio', direction: 'W', major: 7, minor: 3, disk: 'loop3', io: 2n, bytes: 8192n, latencyNs: 5000n },
    { pid: 43, comm: 'cat', direction: 'R', major: 8, minor: 0, disk: '?', io: 1n, bytes: 4096n, latencyNs: 7n },
  ]);
});

test("bcc's order, most bytes first; ties by I/Os, PID, direction, disk, comm; -r keeps the first rows", () => {
  const rows = [
    row({ pid: 9, bytes: 4096n }),
    row({ pid: 3, bytes: 8192n, io: 1n }),
    row({ pid: 2, bytes: 8192n, io: 2n }),
    row({ pid: 1, bytes: 4096n, direction: 'W' }),
    row({ pid: 1, bytes: 4096n, minor: 16 }),
    row({ pid: 1, bytes: 4096n }),
    row({ pid: 1, bytes: 4096n, comm: 'cc' }),
    row({ pid: 5, bytes: 1n << 62n }),
  ];
  const order = (rs: Row[]) => rs.map((r) => `${r.pid}${r.direction}${r.minor}${r.comm}`);
  assert.deepEqual(order(sortRows(rows)), ['5R0dd', '2R0dd', '3R0dd', '1R0cc', '1R0dd', '1R16dd', '1W0dd', '9R0dd']);
  assert.deepEqual(order(sortRows([...rows].reverse())), order(sortRows(rows)), 'the input order does not matter');
  assert.deepEqual(order(sortRows(rows, 2)), ['5R0dd', '2R0dd']);
  assert.equal(sortRows(rows, 100).length, rows.length);
});

test('an idle interval prints the header alone', () => {
  assert.deepEqual(table([]), [HEADER]);
});

test('--json rows: exact counts, bytes and nanoseconds, and the printed figures', () => {
  assert.deepEqual(rowJson(row({ pid: 7, comm: 'dd', direction: 'W', major: 7, minor: 3, disk: 'loop3', io: 3n, bytes: 12288n, latencyNs: 1_000_001n })), {
    pid: 7, comm: 'dd', direction: 'W', major: 7, minor: 3, disk: 'loop3', io: 3n, bytes: 12288n, kbytes: 12n, latency_ns: 1_000_001n, avg_ms: 0.33,
  });
});

test('--chart totals split reads from writes', () => {
  assert.deepEqual(totals([row({ bytes: 1n }), row({ bytes: 2n, direction: 'W' }), row({ bytes: 4n })]), { readBytes: 5n, writeBytes: 2n });
});

// --- metrics: the command series ---

const S = (io: number, bytes: number) => ({ io: BigInt(io), bytes: BigInt(bytes), ns: 0n });
const totalsOf = (t: Record<string, [number, number]>) => new Map(Object.entries(t).map(([k, [io, bytes]]) => [k.replace(' ', '\0'), S(io, bytes)]));
const flat = (split: ReturnType<CommandBook['split']>) => Object.fromEntries([
  ...split.named.map(([comm, dir, s]) => [`${comm} ${dir}`, Number(s.bytes)]),
  ...[...split.other].map(([dir, s]) => [`${OTHER} ${dir}`, Number(s.bytes)]),
]);

test('metrics name at most N commands, busiest first, the rest in [other], and no counter goes down', () => {
  const book = new CommandBook(2);
  assert.deepEqual(flat(book.split(totalsOf({ 'a read': [1, 100], 'b write': [1, 300], 'c read': [1, 200] }))),
    { 'b write': 300, 'c read': 200, [`${OTHER} read`]: 100, [`${OTHER} write`]: 0 });
  // a grows past both: it is not admitted (the set is full), b and c stay named.
  assert.deepEqual(flat(book.split(totalsOf({ 'a read': [9, 900], 'b write': [1, 300], 'c read': [2, 250] }))),
    { 'b write': 300, 'c read': 250, [`${OTHER} read`]: 900, [`${OTHER} write`]: 0 });
});

test('a command admitted later keeps in [other] only what [other] already exported of it', () => {
  const book = new CommandBook(2);
  assert.deepEqual(flat(book.split(totalsOf({ 'a read': [1, 100], 'b read': [1, 50], 'c read': [1, 10] }))),
    { 'a read': 100, 'b read': 50, [`${OTHER} read`]: 10, [`${OTHER} write`]: 0 });
  const wide = new CommandBook(3);
  wide.split(totalsOf({ 'a read': [1, 100] }));
  // d appears with 40, c with 10 since the first scrape: both admitted from zero, nothing was exported of them.
  assert.deepEqual(flat(wide.split(totalsOf({ 'a read': [1, 100], 'd read': [1, 40], 'c read': [1, 10] }))),
    { 'a read': 100, 'd read': 40, 'c read': 10, [`${OTHER} read`]: 0, [`${OTHER} write`]: 0 });
  const full = new CommandBook(1);
  full.split(totalsOf({ 'a read': [1, 100], 'b read': [1, 5] }));
  const after = flat(full.split(totalsOf({ 'a read': [1, 100], 'b read': [1, 7] })));
  assert.deepEqual(after, { 'a read': 100, [`${OTHER} read`]: 7, [`${OTHER} write`]: 0 });
});

// --- options ---

test('options: bcc\'s -C, -r (default 20), -p, interval and count', () => {
  const o = parseArgs(spec, ['-C', '-r', '5', '2', '3']);
  assert.equal(o.noclear, true);
  assert.equal(o.maxrows, 5);
  assert.equal(o.interval, 2);
  assert.equal(o.count, 3);
  assert.equal(parseArgs(spec, []).maxrows, 20);
  assert.equal(parseArgs(spec, ['-p', String(process.pid)]).pid, process.pid);
});

for (const args of [['-r', '0'], ['-r', 'x'], ['0'], ['1', '0'], ['-p', '999999999'], ['-p', '4194303']]) {
  test(`biotop ${args.join(' ')}: one line on stderr, exit 2`, async () => {
    const { code, stdout, stderr } = await runToolToEnd('biotop', args);
    assert.equal(code, 2, stderr);
    assert.equal(stdout, '');
    assert.match(stderr, /^biotop: [^\n]+\n$/);
  });
}
