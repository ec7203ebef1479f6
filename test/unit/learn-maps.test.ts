// The pure parts of the course's map steps (examples/learn/lab-maps.ts): step 10's --port, the
// sendrecv workload's totals line, and step 2's table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePort, parseTotals, statsTable, totalsLine, type Stats } from '../../examples/learn/lab-maps.ts';

test('parsePort takes 1-65535 in digits only', () => {
  assert.equal(parsePort('9436'), 9436);
  assert.equal(parsePort('1'), 1);
  assert.equal(parsePort('65535'), 65535);
  for (const bad of [undefined, '', '0', '65536', '99999', '123456', '-1', '+80', '80.0', '0x50', ' 80', '80 ']) {
    assert.equal(parsePort(bad), undefined, String(bad));
  }
});

test('parseTotals reads the sendrecv workload\'s line; totalsLine writes the same form', () => {
  const line = 'sendmsg=21 recvmsg=27 bytes_sent=9100 bytes_recv=9100';
  const totals = parseTotals(`${line}\n`);
  assert.deepEqual(totals, { sendmsg: 21n, recvmsg: 27n, bytes_sent: 9100n, bytes_recv: 9100n });
  assert.equal(totalsLine(totals), line);
  assert.throws(() => parseTotals(''), /printed no totals/);
});

const stats = (comm: string, sendmsg: number, recvmsg: number): Stats =>
  ({ comm, sendmsg: BigInt(sendmsg), recvmsg: BigInt(recvmsg), bytes_sent: BigInt(sendmsg * 10), bytes_recv: BigInt(recvmsg * 10) });

test('statsTable: busiest first, ties by PID, the workload flagged', () => {
  const text = statsTable([[30, stats('b', 1, 1)], [10, stats('a', 5, 0)], [20, stats('sendrecv', 1, 1)]], 20);
  assert.deepEqual(text.split('\n'), [
    '    PID COMM                 SENDMSG     RECVMSG  BYTES_SENT  BYTES_RECV',
    '     10 a                          5           0          50           0',
    '     20 sendrecv                   1           1          10          10   <- the workload',
    '     30 b                          1           1          10          10',
  ]);
});

test('statsTable keeps the workload\'s row when more processes are busier than the limit allows', () => {
  const entries: Array<[number, Stats]> = Array.from({ length: 8 }, (_, i) => [100 + i, stats(`p${i}`, 100 - i, 0)]);
  entries.push([7, stats('sendrecv', 1, 0)]);
  const rows = statsTable(entries, 7, 3).split('\n').slice(1);
  assert.equal(rows.length, 3);
  assert.match(rows[0], /^ +100 p0 /);
  assert.match(rows[1], /^ +101 p1 /);
  assert.match(rows[2], /^ +7 sendrecv .*<- the workload$/);
  assert.equal(statsTable([], 7).split('\n').length, 1, 'the header alone for an empty map');
});
