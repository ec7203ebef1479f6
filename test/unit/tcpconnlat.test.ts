// tcpconnlat's user-space half without a kernel: records decoded, bcc's columns and LAT(ms)
// rounding, JSON, option parsing, and the metrics' log2 slots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../../lib/run/cli.ts';
import { CONNLAT_EVENT_OFFSETS, RECORD_SIZE, decodeConnlatRecord, headerLine, jsonLine, latencyMs, rowLine } from '../../tools/tcpconnlat/events.ts';
import { spec } from '../../tools/tcpconnlat/options.ts';
import { minLatencyNs } from '../../tools/tcpconnlat/program.ts';
import { latencySlot, tcpconnlatCollector } from '../../tools/tcpconnlat/metrics.ts';
import { FLOW_OFFSETS } from '../../lib/output/inet.ts';
import type { EventChannel } from '../../lib/run/event-channel.ts';
import type { HistogramFamily } from '../../lib/metrics/exposition.ts';

function record(o: { ts: bigint; ns: bigint; pid: number; comm: string; family: number; laddr: number[]; raddr: number[]; lport: number; rport: number }): Buffer {
  const buf = Buffer.alloc(RECORD_SIZE);
  buf.writeBigUInt64LE(o.ts, CONNLAT_EVENT_OFFSETS.ts);
  buf.writeBigUInt64LE(o.ns, CONNLAT_EVENT_OFFSETS.latency_ns);
  buf.writeUInt32LE(o.pid, CONNLAT_EVENT_OFFSETS.pid);
  buf.write(o.comm, CONNLAT_EVENT_OFFSETS.comm);
  const flow = CONNLAT_EVENT_OFFSETS.flow;
  Buffer.from(o.laddr).copy(buf, flow + FLOW_OFFSETS.laddr);
  Buffer.from(o.raddr).copy(buf, flow + FLOW_OFFSETS.raddr);
  buf.writeUInt16LE(o.lport, flow + FLOW_OFFSETS.lport);
  buf.writeUInt16LE(o.rport, flow + FLOW_OFFSETS.rport);
  buf.writeUInt16LE(o.family, flow + FLOW_OFFSETS.family);
  return buf;
}

const V4 = record({ ts: 5_000_000_000n, ns: 1_650_321n, pid: 1201, comm: 'wget', family: 2, laddr: [10, 153, 223, 157], raddr: [23, 23, 100, 231], lport: 43210, rport: 80 });
const V6 = record({
  ts: 6_000_000_000n, ns: 50_999n, pid: 21588, comm: 'a-very-long-com', family: 10,
  laddr: [...Array(15).fill(0), 1], raddr: [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 2], lport: 40000, rport: 7001,
});

test('a record decodes to the caller, the flow and the exact latency', () => {
  assert.deepEqual(decodeConnlatRecord(V4), {
    ts: 5_000_000_000n, latencyNs: 1_650_321n, pid: 1201, comm: 'wget', ip: 4, laddr: '10.153.223.157', lport: 43210, raddr: '23.23.100.231', rport: 80,
  });
  const v6 = decodeConnlatRecord(V6);
  assert.deepEqual([v6.ip, v6.laddr, v6.raddr, v6.comm], [6, '::1', '2001:db8::2', 'a-very-long-com']);
});

test('bcc\'s header and rows: widths, -t and -L, COMM cut to 12', () => {
  assert.equal(headerLine({}), 'PID     COMM         IP SADDR            DADDR            DPORT LAT(ms)');
  assert.equal(headerLine({ timestamp: true, lport: true }), 'TIME(s)  PID     COMM         IP SADDR            LPORT  DADDR            DPORT LAT(ms)');
  assert.equal(rowLine(decodeConnlatRecord(V4), {}, ''), '1201    wget         4  10.153.223.157   23.23.100.231    80    1.65');
  assert.equal(rowLine(decodeConnlatRecord(V6), { timestamp: true, lport: true }, '1.250'),
    '1.250    21588   a-very-long- 6  ::1              40000  2001:db8::2      7001  0.05');
});

test('LAT(ms) is bcc\'s: whole microseconds, then %.2f with Python\'s round-half-even on exact ties', () => {
  assert.equal(latencyMs(0n), '0.00');
  assert.equal(latencyMs(999n), '0.00');
  assert.equal(latencyMs(1_650_999n), '1.65');
  assert.equal(latencyMs(125_000n), '0.12'); // 0.125 exactly: even
  assert.equal(latencyMs(375_400n), '0.38'); // 0.375 exactly: even
  assert.equal(latencyMs(1_005_000n), '1.00'); // 1.005 is 1.00499999… as a double
  assert.equal(latencyMs(250_860_000n), '250.86');
  assert.equal(latencyMs(2_625_000n), '2.62');
});

test('--json has every column, the exact latency, and the seconds as a number', () => {
  assert.deepEqual(JSON.parse(jsonLine(decodeConnlatRecord(V4), '10:11:12', '2.500')), {
    time: '10:11:12', timestamp: 2.5, pid: 1201, comm: 'wget', ip: 4, saddr: '10.153.223.157', lport: 43210,
    daddr: '23.23.100.231', dport: 80, lat_ms: 1.65, latency_ns: 1_650_321,
  });
});

test('options: bcc\'s flags, duration_ms a float in range, -4 with -6 refused by the tool', () => {
  const o = parseArgs(spec, ['-t', '-L', '-v', '-4', '0.1']);
  assert.deepEqual([o.timestamp, o.lport, o.verbose, o.ipv4, o.ipv6, o.duration_ms], [true, true, true, true, false, 0.1]);
  assert.equal(parseArgs(spec, []).duration_ms, undefined);
  for (const bad of [['-1'], ['abc'], ['86400001'], ['1', '2'], ['-p', 'x'], ['-Z']]) {
    assert.throws(() => parseArgs(spec, bad), UsageError, bad.join(' '));
  }
  assert.equal(minLatencyNs(undefined), 0);
  assert.equal(minLatencyNs(0), 0);
  assert.equal(minLatencyNs(0.1), 100_000);
  assert.equal(minLatencyNs(1.0000001), 1_000_000);
  assert.equal(minLatencyNs(86_400_000), 86_400_000_000_000);
});

test('metrics: log2 nanosecond slots, a histogram per command with the exact sum, the series limit', () => {
  assert.deepEqual([0n, 1n, 2n, 3n, 4n, 1023n, 1024n].map(latencySlot), [1, 1, 2, 2, 3, 10, 11]);
  const channel: EventChannel = { kind: 'ring', flush: () => {}, lost: () => 3n };
  const c = tcpconnlatCollector(1, channel);
  c.record({ comm: 'curl', latencyNs: 3000n });
  c.record({ comm: 'curl', latencyNs: 5000n });
  c.record({ comm: 'wget', latencyNs: 1n });
  const [family] = c.collect() as HistogramFamily[];
  assert.equal(family.name, 'bpfkit_tcp_connect_latency_seconds');
  assert.equal(family.series.length, 1);
  const [s] = family.series;
  assert.deepEqual(s.labels, { comm: 'curl' });
  assert.equal(s.count, 2n);
  assert.equal(s.sum, 8000 * 1e-9);
  // 3000 ns is in slot 12 (2048..4095), 5000 ns in slot 13 (4096..8191).
  assert.deepEqual(s.buckets.map((b) => [b.le, b.count]), [
    ...Array.from({ length: 11 }, (_, i) => [2 ** (i + 1) * 1e-9, 0n]), [2 ** 12 * 1e-9, 1n], [2 ** 13 * 1e-9, 2n],
  ]);
  assert.equal(c.dropped(), 1);
  assert.equal(c.lost(), 3n);
});
