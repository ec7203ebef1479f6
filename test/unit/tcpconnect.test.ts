// tcpconnect's user-space half without a kernel: records as tools/tcpconnect/tcpconnect.bpf.c lays
// them out, decoded and printed in bcc's columns and widths, -c's table, and the options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLOW_OFFSETS, FLOW_SIZE } from '../../lib/output/inet.ts';
import { parseArgs, UsageError } from '../../lib/run/cli.ts';
import {
  CONNECT_EVENT_OFFSETS, COUNT_HEADER, FirstEventClock, RECORD_SIZE, countJson, countLine, countRows, decodeConnectRecord, headerLine,
  jsonLine, rowLine, sortCounts,
} from '../../tools/tcpconnect/events.ts';
import { DNS_UNSUPPORTED, MAX_PORTS, portList, spec } from '../../tools/tcpconnect/options.ts';

interface Fields { ts?: bigint; pid?: number; uid?: number; comm?: string; family?: number; laddr: number[]; raddr: number[]; lport: number; rport: number }

function flowBytes(f: Fields, buf: Buffer, at: number): void {
  Buffer.from(f.laddr).copy(buf, at + FLOW_OFFSETS.laddr);
  Buffer.from(f.raddr).copy(buf, at + FLOW_OFFSETS.raddr);
  buf.writeUInt16LE(f.lport, at + FLOW_OFFSETS.lport);
  buf.writeUInt16LE(f.rport, at + FLOW_OFFSETS.rport);
  buf.writeUInt16LE(f.family ?? 2, at + FLOW_OFFSETS.family);
}

function record(f: Fields): Buffer {
  const buf = Buffer.alloc(RECORD_SIZE);
  buf.writeBigUInt64LE(f.ts ?? 7_000_000_000n, CONNECT_EVENT_OFFSETS.ts);
  buf.writeUInt32LE(f.pid ?? 1234, CONNECT_EVENT_OFFSETS.pid);
  buf.writeUInt32LE(f.uid ?? 1000, CONNECT_EVENT_OFFSETS.uid);
  buf.write(f.comm ?? 'curl', CONNECT_EVENT_OFFSETS.comm, 15);
  flowBytes(f, buf, CONNECT_EVENT_OFFSETS.flow);
  return buf;
}

const LOOP6 = [...Array(15).fill(0), 1];
const v4 = decodeConnectRecord(record({ pid: 1479, comm: 'telnet', laddr: [127, 0, 0, 1], raddr: [127, 0, 0, 1], lport: 39314, rport: 23 }));
const v6 = decodeConnectRecord(record({
  pid: 1500, uid: 0, comm: 'a-very-long-command', family: 10, laddr: LOOP6, raddr: [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 2], lport: 50000, rport: 443,
}));

test('a record decodes to the caller, both addresses and both ports, IPv4 and IPv6', () => {
  assert.equal(RECORD_SIZE, CONNECT_EVENT_OFFSETS.flow + FLOW_SIZE);
  assert.deepEqual(v4, { ts: 7_000_000_000n, pid: 1479, uid: 1000, comm: 'telnet', ip: 4, saddr: '127.0.0.1', lport: 39314, daddr: '127.0.0.1', dport: 23 });
  assert.deepEqual({ ...v6, ts: 0n }, { ts: 0n, pid: 1500, uid: 0, comm: 'a-very-long-com', ip: 6, saddr: '::1', lport: 50000, daddr: '2001:db8::2', dport: 443 });
});

test('header and rows are bcc\'s "%-7s %-12.12s %-2s %-16s %-16s %-6s", with TIME(s), UID and LPORT where asked', () => {
  assert.equal(headerLine({}), 'PID     COMM         IP SADDR            DADDR            DPORT ');
  assert.equal(rowLine(v4, {}, ''), '1479    telnet       4  127.0.0.1        127.0.0.1        23    ');
  assert.equal(headerLine({ timestamp: true, printUid: true, lport: true }),
    'TIME(s)  UID   PID     COMM         IP SADDR            LPORT  DADDR            DPORT ');
  assert.equal(rowLine(v6, { timestamp: true, printUid: true, lport: true }, '31.871'),
    '31.871   0     1500    a-very-long- 6  ::1              50000  2001:db8::2      443   ');
});

test('TIME(s) counts from the first connect shown, as bcc does; --json carries every column', () => {
  const clock = new FirstEventClock();
  assert.equal(clock.seconds(5_000_000_000n), '0.000');
  assert.equal(clock.seconds(6_234_500_000n), '1.234');
  assert.deepEqual(JSON.parse(jsonLine(v4, '12:00:01', '1.234')), {
    time: '12:00:01', timestamp: 1.234, pid: 1479, comm: 'telnet', uid: 1000, ip: 4, saddr: '127.0.0.1', lport: 39314, daddr: '127.0.0.1', dport: 23,
  });
});

test('-c: the counts map read raw becomes bcc\'s table, IPv4 first, most connects first', () => {
  const keySize = FLOW_SIZE;
  const entries: Array<[Fields, bigint]> = [
    [{ family: 10, laddr: LOOP6, raddr: LOOP6, lport: 0, rport: 80 }, 9n],
    [{ laddr: [10, 0, 0, 1], raddr: [10, 0, 0, 2], lport: 0, rport: 443 }, 2n],
    [{ laddr: [10, 0, 0, 1], raddr: [10, 0, 0, 3], lport: 0, rport: 22 }, 5n],
  ];
  const keys = Buffer.alloc(keySize * entries.length);
  const values = Buffer.alloc(8 * entries.length);
  entries.forEach(([f, n], i) => { flowBytes(f, keys, i * keySize); values.writeBigUInt64LE(n, i * 8); });
  const rows = countRows(keys, values, entries.length, keySize, 8);
  assert.deepEqual(rows.map((r) => [r.ip, r.daddr, r.dport, r.connects]), [[4, '10.0.0.3', 22, 5], [4, '10.0.0.2', 443, 2], [6, '::1', 80, 9]]);
  assert.equal(COUNT_HEADER, `LADDR${' '.repeat(21)}RADDR${' '.repeat(21)}RPORT${' '.repeat(16)}CONNECTS  `);
  assert.equal(countLine(rows[0]), `10.0.0.1${' '.repeat(18)}10.0.0.3${' '.repeat(18)}22${' '.repeat(19)}5${' '.repeat(9)}`);
  assert.deepEqual(JSON.parse(countJson(rows[2])), { ip: 6, saddr: '::1', daddr: '::1', dport: 80, connects: 9 });
  assert.deepEqual(sortCounts([]), []);
});

test('options: bcc\'s flags; -P takes a comma-separated list of ports, anything else is one clear usage error', () => {
  const o = parseArgs(spec, ['-t', '-U', '-L', '-c', '-4', '-P', '80,443,80', '-u', 'root']);
  assert.deepEqual([o.timestamp, o['print-uid'], o.lport, o.count, o.ipv4, o.port, o.uid], [true, true, true, true, true, [80, 443], 0]);
  assert.deepEqual(portList('22'), [22]);
  for (const bad of ['', '0', '65536', '80,,81', 'http', '80;81', '-1', '1e3']) {
    assert.throws(() => portList(bad), UsageError, bad);
  }
  assert.throws(() => portList(Array.from({ length: MAX_PORTS + 1 }, (_, i) => i + 1).join(',')), /at most 1024 ports/);
  assert.throws(() => parseArgs(spec, ['-p', '0']), UsageError);
  assert.throws(() => parseArgs(spec, ['-u', 'no_such_user_x']), /no user named/);
  assert.equal(parseArgs(spec, ['-d']).dns, true, '-d parses; the tool refuses it with DNS_UNSUPPORTED');
  assert.match(DNS_UNSUPPORTED, /^-d\/--dns is not supported: /);
});
