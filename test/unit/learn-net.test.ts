// The pure parts of the course's steps 6-8 (examples/learn/lab-events.ts, lab-net.ts): the
// syscall number per architecture, the sums by protocol and the workloads' reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openatNumber } from '../../examples/learn/lab-events.ts';
import { byProtocol, parseLoopReport, parseReceived } from '../../examples/learn/lab-net.ts';

test('openatNumber: the raw tracepoint compares syscall numbers, which differ by architecture', () => {
  assert.equal(openatNumber('x64'), 257);
  assert.equal(openatNumber('arm64'), 56);
  assert.equal(openatNumber('s390x'), undefined);
});

test('byProtocol: TCP, UDP, ICMP (v4 and v6 together) and other, in that order, zeros included', () => {
  const rows = byProtocol([
    [{ proto: 17 }, 5n], [{ proto: 6 }, 2n], [{ proto: 17 }, 1n], [{ proto: 58 }, 3n], [{ proto: 1 }, 1n],
    [{ proto: 0 }, 4n], [{ proto: 47 }, 1n],
  ]);
  assert.deepEqual(rows, [['TCP', 2n], ['UDP', 6n], ['ICMP', 4n], ['other', 5n]]);
  assert.deepEqual(byProtocol([]), [['TCP', 0n], ['UDP', 0n], ['ICMP', 0n], ['other', 0n]]);
});

test('parseLoopReport: net-loop\'s three lines', () => {
  assert.deepEqual(parseLoopReport('udp 39396 1000 64\nclosed 43238 1\ntcp 38901 34584\n'),
    { udpPort: 39396, datagrams: 1000, closedPort: 43238, tcpPort: 38901, clientPort: 34584 });
  assert.throws(() => parseLoopReport('udp 1 2 3\n'), /did not report its ports/);
});

test('parseReceived: net-udp recv\'s "got" line, port to datagrams', () => {
  assert.deepEqual(parseReceived('ready\ngot 7001 0 7002 300\n'), new Map([[7001, 0], [7002, 300]]));
  assert.throws(() => parseReceived('ready\n'), /did not report what it got/);
});
