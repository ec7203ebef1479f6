// syscount's output without a kernel: bcc's exact text layout (expected strings produced by
// Python's % formatting, as bcc's syscount.py uses it), ordering, --json rows, and the
// running-totals arithmetic that replaces clearing the kernel's array.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  IntervalDeltas, headerLine, intervalJson, intervalText, listColumns, rowLine, topRows, type ReportOptions, type Row,
} from '../../tools/syscount/report.ts';

const name = (nr: number) => ({ 0: 'read', 1: 'write', 35: 'nanosleep' } as Record<number, string>)[nr] ?? `[unknown: ${nr}]`;
const plain: ReportOptions = { byProcess: false, latency: false, milliseconds: false, top: 10 };

test('headers match bcc\'s "%-22s %8s" and "%-22s %8s %16s"', () => {
  assert.equal(headerLine(plain), 'SYSCALL                   COUNT');
  assert.equal(headerLine({ ...plain, byProcess: true, latency: true }), 'PID    COMM               COUNT        TIME (us)');
  assert.equal(headerLine({ ...plain, latency: true, milliseconds: true }), 'SYSCALL                   COUNT        TIME (ms)');
});

test('rows match bcc\'s "%-22s %8d", "%-6d %-15s" and "%16.3f" / "%16.6f"', () => {
  assert.equal(rowLine({ key: 4242, count: 1018, totalNs: 10780177, comm: 'syscall-mix' }, { ...plain, byProcess: true, latency: true }, name),
    '4242   syscall-mix         1018        10780.177');
  assert.equal(rowLine({ key: 35, count: 5, totalNs: 10407580 }, { ...plain, latency: true, milliseconds: true }, name),
    'nanosleep                     5        10.407580');
  // Wider values push the columns right, never truncated (Python's % does the same).
  assert.equal(rowLine({ key: 1, count: 123456789, totalNs: 0 }, plain, () => 'a_very_long_syscall_name_x'),
    'a_very_long_syscall_name_x 123456789');
  assert.equal(rowLine({ key: 999, count: 1, totalNs: 0 }, plain, name), `${'[unknown: 999]'.padEnd(22)} ${'1'.padStart(8)}`);
});

test('an interval is "[HH:MM:SS]", the header, the top rows by count, and a blank line', () => {
  const rows: Row[] = [{ key: 0, count: 5, totalNs: 900 }, { key: 1, count: 9, totalNs: 100 }, { key: 35, count: 5, totalNs: 5000 }];
  assert.deepEqual(intervalText('12:34:56', rows, { ...plain, top: 2 }, name), [
    '[12:34:56]',
    'SYSCALL                   COUNT',
    `${'write'.padEnd(22)} ${'9'.padStart(8)}`,
    `${'read'.padEnd(22)} ${'5'.padStart(8)}`, // tie with nanosleep broken by syscall number
    '',
  ]);
  // With -L the order is by time.
  assert.deepEqual(topRows(rows, { latency: true, top: 3 }).map((r) => r.key), [35, 0, 1]);
  // The header is printed even when nothing was counted, as bcc does.
  assert.deepEqual(intervalText('00:00:00', [], plain, name), ['[00:00:00]', 'SYSCALL                   COUNT', '']);
});

test('--json carries the same rows with stable field names', () => {
  const rows: Row[] = [{ key: 1, count: 3, totalNs: 4500 }, { key: 0, count: 7, totalNs: 100 }];
  assert.deepEqual(intervalJson('01:02:03', 1.0004, rows, { ...plain, top: 1 }, name),
    { time: '01:02:03', interval_s: 1, rows: [{ syscall: 'read', id: 0, count: 7 }] });
  assert.deepEqual(intervalJson('01:02:03', 2, [{ key: 77, count: 2, totalNs: 10, comm: 'dd' }], { ...plain, byProcess: true, latency: true }, name, 5),
    { time: '01:02:03', interval_s: 2, rows: [{ pid: 77, comm: 'dd', count: 2, total_ns: 10 }], lost: 5 });
});

test('running totals become per-interval counts; keys with nothing new are left out', () => {
  const totals = new IntervalDeltas();
  const at = (entries: Array<[number, number, number]>) => new Map(entries.map(([k, count, totalNs]) => [k, { count, totalNs }]));
  assert.deepEqual(totals.delta(at([[0, 10, 100], [1, 2, 20]])), [{ key: 0, count: 10, totalNs: 100 }, { key: 1, count: 2, totalNs: 20 }]);
  assert.deepEqual(totals.delta(at([[0, 15, 150], [1, 2, 20], [3, 1, 9]])), [{ key: 0, count: 5, totalNs: 50 }, { key: 3, count: 1, totalNs: 9 }]);
  assert.deepEqual(totals.delta(at([[0, 15, 150], [1, 2, 20], [3, 1, 9]])), []);
});

test('-l lays names out like bcc: sorted, four per line, "%-22s" joined by three spaces', () => {
  assert.deepEqual(listColumns(['write', 'read', '_sysctl', 'close', 'open']), [
    ['_sysctl', 'close', 'open', 'read'].map((n) => n.padEnd(22)).join('   '),
    'write'.padEnd(22),
  ]);
});
