// tcplife's user-space half without a kernel: records as tools/tcplife/tcplife.bpf.c lays them
// out, decoded and printed in bcc's three layouts (default, -w, -s) with its time columns, and the
// command line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FirstEventSeconds, LIFE_EVENT_OFFSETS, LIFE_EVENT_SIZE, decodeLifeRecord, headerLine, jsonObject, kb, msText, rowLine,
  type LifeEvent,
} from '../../tools/tcplife/events.ts';
import { portList, spec } from '../../tools/tcplife/options.ts';
import { log2Slot, tcplifeCollector } from '../../tools/tcplife/metrics.ts';
import { parseArgs, UsageError } from '../../lib/run/cli.ts';
import { toJson } from '../../lib/run/tool.ts';
import type { EventChannel } from '../../lib/run/event-channel.ts';
import type { HistogramFamily, ScalarFamily } from '../../lib/metrics/exposition.ts';

interface RecordFields {
  ts?: bigint; spanNs?: bigint; tx?: bigint; rx?: bigint; family?: number;
  laddr?: number[]; raddr?: number[]; lport?: number; rport?: number; pid?: number; owner?: number; comm?: string;
}

/** A record exactly as struct life_event is laid out. */
function record(f: RecordFields = {}): Buffer {
  const O = LIFE_EVENT_OFFSETS;
  const buf = Buffer.alloc(LIFE_EVENT_SIZE);
  buf.writeBigUInt64LE(f.ts ?? 7_000_000_000n, O.ts);
  buf.writeBigUInt64LE(f.spanNs ?? 1_234_567n, O.span_ns);
  buf.writeBigUInt64LE(f.tx ?? 300_000n, O.tx_bytes);
  buf.writeBigUInt64LE(f.rx ?? 2_048n, O.rx_bytes);
  Buffer.from(f.laddr ?? [127, 0, 0, 1]).copy(buf, O.flow);
  Buffer.from(f.raddr ?? [10, 1, 2, 3]).copy(buf, O.flow + 16);
  buf.writeUInt16LE(f.lport ?? 41234, O.flow + 32);
  buf.writeUInt16LE(f.rport ?? 80, O.flow + 34);
  buf.writeUInt16LE(f.family ?? 2, O.flow + 36);
  buf.writeUInt32LE(f.pid ?? 4242, O.pid);
  buf.writeUInt32LE(f.owner ?? 1, O.owner);
  buf.write(f.comm ?? 'curl', O.comm, 16);
  return buf;
}

const V6_LOCAL = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const V6_REMOTE = [0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x11, 0x22, 0x33, 0x44];

test('a record decodes to its flow, bytes, span, owner and a comm of up to 16 bytes', () => {
  assert.deepEqual(decodeLifeRecord(record()), {
    ts: 7_000_000_000n, spanNs: 1_234_567n, txBytes: 300_000n, rxBytes: 2_048n,
    ip: 4, laddr: '127.0.0.1', lport: 41234, raddr: '10.1.2.3', rport: 80,
    pid: 4242, owner: 'connect', comm: 'curl',
  });
  const v6 = decodeLifeRecord(record({ family: 10, laddr: V6_LOCAL, raddr: V6_REMOTE, owner: 2, comm: 'abcdefghijklmnop' }));
  assert.deepEqual([v6.ip, v6.laddr, v6.raddr, v6.owner, v6.comm], [6, '2001:db8::1', '2001:db8:1234:5678:9abc:def0:1122:3344', 'accept', 'abcdefghijklmnop']);
  assert.equal(decodeLifeRecord(record({ owner: 0 })).owner, 'unknown');
  assert.equal(decodeLifeRecord(record({ owner: 3 })).owner, 'close');
});

test('KB truncate as bcc\'s %d of bytes / 1024; MS rounds as Python\'s %.2f, ties to even', () => {
  assert.deepEqual([kb(0n), kb(1023n), kb(1024n), kb(300_000n)], [0n, 0n, 1n, 292n]);
  assert.deepEqual([msText(0n), msText(5n), msText(1_234n), msText(1_235n), msText(300_390n)], ['0.00', '0.01', '1.23', '1.24', '300.39']);
  // µs ending in 125/375/625/875 are exact eighths: Python gives the even hundredth.
  assert.deepEqual([msText(125n), msText(375n), msText(625n), msText(875n), msText(1_125n)], ['0.12', '0.38', '0.62', '0.88', '1.12']);
});

test('the default layout is bcc\'s 80 columns: COMM cut to 10, IPv6 addresses overflowing', () => {
  const header = headerLine({ layout: 'default' });
  assert.equal(header, 'PID   COMM       LADDR           LPORT RADDR           RPORT TX_KB RX_KB MS');
  assert.equal(rowLine(decodeLifeRecord(record({ comm: 'tcpflows-cli' })), { layout: 'default' }, '', ''),
    '4242  tcpflows-c 127.0.0.1       41234 10.1.2.3        80      292     2 1.23');
  assert.equal(rowLine(decodeLifeRecord(record({ family: 10, laddr: V6_LOCAL, raddr: V6_REMOTE })), { layout: 'default' }, '', ''),
    '4242  curl       2001:db8::1     41234 2001:db8:1234:5678:9abc:def0:1122:3344 80      292     2 1.23');
});

test('-w widens COMM and the addresses and adds IP; -s is CSV with IP', () => {
  assert.equal(headerLine({ layout: 'wide' }),
    'PID   COMM             IP LADDR                      LPORT RADDR                      RPORT  TX_KB  RX_KB MS');
  assert.equal(rowLine(decodeLifeRecord(record({ family: 10, laddr: V6_LOCAL, raddr: V6_REMOTE, comm: 'tcpflows-srv' })), { layout: 'wide' }, '', ''),
    '4242  tcpflows-srv     6  2001:db8::1                41234 2001:db8:1234:5678:9abc:def0:1122:3344 80       292      2 1.23');
  assert.equal(headerLine({ layout: 'csv' }), 'PID,COMM,IP,LADDR,LPORT,RADDR,RPORT,TX_KB,RX_KB,MS');
  assert.equal(rowLine(decodeLifeRecord(record()), { layout: 'csv' }, '', ''), '4242,curl,4,127.0.0.1,41234,10.1.2.3,80,292,2,1.23');
});

test('-T and -t put TIME and TIME(s) first, padded in text and comma-separated in CSV', () => {
  assert.equal(headerLine({ layout: 'default', time: true, timestamp: true }).slice(0, 24), 'TIME     TIME(s)   PID  ');
  const ev = decodeLifeRecord(record());
  assert.equal(rowLine(ev, { layout: 'default', time: true, timestamp: true }, '10:11:12', '0.000000').slice(0, 24), '10:11:12 0.000000  4242 ');
  assert.equal(headerLine({ layout: 'csv', time: true, timestamp: true }), 'TIME,TIME(s),PID,COMM,IP,LADDR,LPORT,RADDR,RPORT,TX_KB,RX_KB,MS');
  assert.equal(rowLine(ev, { layout: 'csv', time: true, timestamp: true }, '10:11:12', '1.500000'), '10:11:12,1.500000,4242,curl,4,127.0.0.1,41234,10.1.2.3,80,292,2,1.23');
});

test('TIME(s) counts from the first row shown, in whole microseconds', () => {
  const s = new FirstEventSeconds();
  assert.deepEqual([s.text(5_000_000_999n), s.text(5_000_001_000n), s.text(6_500_000_000n), s.text(125_000_000_000n)],
    ['0.000000', '0.000001', '1.500000', '120.000000']);
});

test('--json carries exact bytes, the span in µs and the owner, 64-bit counts beyond 2^53 as strings', () => {
  const ev = decodeLifeRecord(record({ tx: 2n ** 60n }));
  assert.equal(toJson(jsonObject(ev, '10:11:12', '0.000000')),
    '{"time":"10:11:12","timestamp":0,"pid":4242,"comm":"curl","owner":"connect","ip":4,"laddr":"127.0.0.1","lport":41234,' +
    '"raddr":"10.1.2.3","rport":80,"tx_bytes":"1152921504606846976","rx_bytes":2048,"tx_kb":1125899906842624,"rx_kb":2,' +
    '"span_us":1234,"ms":1.234}');
});

test('-L/-D take comma-separated ports; -4 and -6 parse; bad lists are one-line usage errors', () => {
  assert.deepEqual(portList('80'), [80]);
  assert.deepEqual(portList('80,81,80,0,65535'), [80, 81, 0, 65535]);
  for (const bad of ['', '80,', 'x', '65536', '-1', '80;81', '1e3']) assert.throws(() => portList(bad), UsageError, bad);
  const o = parseArgs(spec, ['-L', '80,443', '-D', '5432', '-6', '-stTw']);
  assert.deepEqual([o.localport, o.remoteport, o.ipv6, o.csv, o.time, o.timestamp, o.wide], [[80, 443], [5432], true, true, true, true, true]);
  assert.throws(() => parseArgs(spec, ['-L', '99999']), /argument -L\/--localport: expected a comma-separated list of ports from 0 to 65535, got "99999"/);
  assert.throws(() => parseArgs(spec, ['-p', 'abc']), UsageError);
});

test('metrics: sessions, bytes and a log2 µs histogram per command, bounded by the series limit', () => {
  const channel: EventChannel = { kind: 'ring', flush: () => {}, lost: () => 3n };
  const c = tcplifeCollector(1, channel);
  c.record({ comm: 'curl', txBytes: 100n, rxBytes: 2_000n, spanNs: 1_500_000n });
  c.record({ comm: 'curl', txBytes: 50n, rxBytes: 0n, spanNs: 0n });
  c.record({ comm: 'wget', txBytes: 1n, rxBytes: 1n, spanNs: 1n });
  const [sessions, sent, received, durations] = c.collect() as [ScalarFamily, ScalarFamily, ScalarFamily, HistogramFamily];
  assert.deepEqual([sessions.name, sent.name, received.name, durations.name],
    ['bpfkit_tcp_sessions_total', 'bpfkit_tcp_session_sent_bytes_total', 'bpfkit_tcp_session_received_bytes_total', 'bpfkit_tcp_session_duration_seconds']);
  assert.deepEqual([sessions.samples, sent.samples, received.samples], [
    [{ labels: { comm: 'curl' }, value: 2n }], [{ labels: { comm: 'curl' }, value: 150n }], [{ labels: { comm: 'curl' }, value: 2_000n }],
  ]);
  const [series] = durations.series;
  // 0 µs in slot 1 (< 2 µs); 1500 µs in slot 11 (1024 ≤ µs < 2048).
  assert.deepEqual([series.count, series.sum, series.buckets[0], series.buckets.at(-1)],
    [2n, 0.0015, { le: 2e-6, count: 1n }, { le: 2048e-6, count: 2n }]);
  assert.deepEqual([c.dropped(), c.lost()], [1, 3n]);
  assert.deepEqual([log2Slot(0n), log2Slot(1n), log2Slot(2n), log2Slot(1_500n)], [0, 1, 2, 11]);
});
