// tcpdrop's user side without a kernel: decoding struct drop_event, bcc's columns with the
// reason and the stack, --json, the options, the metric samples and the stack reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StackTraceTable } from 'bcc-node-bindings';
import { parseArgs, UsageError } from '../../lib/run/cli.ts';
import { DROP_EVENT_OFFSETS, DROP_EVENT_SIZE, decodeDropRecord, dropLines, headerLine, jsonLine, reasonText, stateText, tcpFlagNames } from '../../tools/tcpdrop/events.ts';
import { spec } from '../../tools/tcpdrop/options.ts';
import { dropSamples } from '../../tools/tcpdrop/metrics.ts';
import { StackReader } from '../../tools/tcpdrop/stacks.ts';

const REASONS = new Map([[2, 'NOT_SPECIFIED'], [3, 'NO_SOCKET'], [12, 'NETFILTER_DROP']]);

function record(o: { v6?: boolean; state?: number; flags?: number; reason?: number; stackId?: number }): Buffer {
  const buf = Buffer.alloc(DROP_EVENT_SIZE);
  buf.writeBigUInt64LE(123_000_000n, DROP_EVENT_OFFSETS.ts);
  buf.writeUInt32LE(4242, DROP_EVENT_OFFSETS.pid);
  buf.writeUInt32LE(o.reason ?? 3, DROP_EVENT_OFFSETS.reason);
  buf.writeInt32LE(o.stackId ?? 7, DROP_EVENT_OFFSETS.stack_id);
  buf[DROP_EVENT_OFFSETS.state] = o.state ?? 0;
  buf[DROP_EVENT_OFFSETS.tcpflags] = o.flags ?? 0x02;
  buf.write('tcpflows', DROP_EVENT_OFFSETS.comm);
  const flow = DROP_EVENT_OFFSETS.flow;
  if (o.v6) {
    buf[flow + 15] = 1; // ::1
    buf[flow + 16 + 15] = 1;
    buf.writeUInt16LE(10, flow + 36);
  } else {
    Buffer.from([192, 0, 2, 1]).copy(buf, flow);
    Buffer.from([192, 0, 2, 2]).copy(buf, flow + 16);
    buf.writeUInt16LE(2, flow + 36);
  }
  buf.writeUInt16LE(51024, flow + 32);
  buf.writeUInt16LE(7777, flow + 34);
  return buf;
}

test('a record decodes to the packet\'s source and destination, state, flags, reason and stack id', () => {
  assert.deepEqual(decodeDropRecord(record({})), {
    ts: 123_000_000n, pid: 4242, comm: 'tcpflows', ip: 4, saddr: '192.0.2.1', sport: 51024, daddr: '192.0.2.2', dport: 7777,
    state: 0, tcpflags: 2, reason: 3, stackId: 7,
  });
  const v6 = decodeDropRecord(record({ v6: true, state: 1, flags: 0x14, reason: 12, stackId: -17 }));
  assert.deepEqual([v6.ip, v6.saddr, v6.daddr, v6.state, v6.tcpflags, v6.reason, v6.stackId], [6, '::1', '::1', 1, 0x14, 12, -17]);
});

test('flags in bcc\'s order and spelling; states by name, "-" without a socket', () => {
  assert.deepEqual(tcpFlagNames(0x02), ['SYN']);
  assert.deepEqual(tcpFlagNames(0x14), ['RST', 'ACK']);
  assert.deepEqual(tcpFlagNames(0xff), ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR']);
  assert.deepEqual(tcpFlagNames(0), []);
  assert.deepEqual([stateText(0), stateText(1), stateText(7), stateText(10)], ['-', 'ESTABLISHED', 'CLOSE', 'LISTEN']);
});

test('reasons by name, by number where BTF names none, "-" where the hook gives none', () => {
  assert.equal(reasonText(3, REASONS, true), 'NO_SOCKET');
  assert.equal(reasonText(99, REASONS, true), '99');
  assert.equal(reasonText(0, REASONS, false), '-');
});

test('bcc\'s columns ("%-8s %-7d %-2d %-20s > %-20s %s (%s)"), the reason, then one tab-indented frame per line and an empty line', () => {
  assert.equal(headerLine(), 'TIME     PID     IP SADDR:SPORT          > DADDR:DPORT          STATE (FLAGS) REASON');
  const ev = decodeDropRecord(record({}));
  assert.equal(dropLines(ev, '10:36:38', 'NETFILTER_DROP', ['sk_skb_reason_drop+0x90', 'nft_do_chain+0x46f [nf_tables]']), [
    '10:36:38 4242    4  192.0.2.1:51024      > 192.0.2.2:7777       - (SYN) NETFILTER_DROP',
    '\tsk_skb_reason_drop+0x90',
    '\tnft_do_chain+0x46f [nf_tables]',
    '',
  ].join('\n'));
  const est = decodeDropRecord(record({ state: 1, flags: 0x14 }));
  assert.equal(dropLines(est, '10:36:38', '-', []), '10:36:38 4242    4  192.0.2.1:51024      > 192.0.2.2:7777       ESTABLISHED (RST|ACK) -\n');
});

test('--json: one object with every field, null state without a socket and null reason without one', () => {
  const ev = decodeDropRecord(record({}));
  assert.deepEqual(JSON.parse(jsonLine(ev, '10:36:38', 'NO_SOCKET', true, ['tcp_v4_rcv+0x99'])), {
    time: '10:36:38', pid: 4242, comm: 'tcpflows', ip: 4, saddr: '192.0.2.1', sport: 51024, daddr: '192.0.2.2', dport: 7777,
    state: null, flags: ['SYN'], reason: 'NO_SOCKET', reason_code: 3, stack: ['tcp_v4_rcv+0x99'],
  });
  const old = JSON.parse(jsonLine(decodeDropRecord(record({ state: 7, reason: 0 })), 't', '-', false, []));
  assert.deepEqual([old.state, old.reason, old.reason_code, old.stack], ['CLOSE', null, null, []]);
});

test('options: bcc\'s -4 and -6; anything else is refused', () => {
  assert.equal(parseArgs(spec, ['-4']).ipv4, true);
  assert.equal(parseArgs(spec, ['--ipv6']).ipv6, true);
  assert.throws(() => parseArgs(spec, ['-x']), UsageError);
  assert.throws(() => parseArgs(spec, ['5']), UsageError);
});

test('metric samples: one per reason and state, named as the text output names them', () => {
  const program = { reasons: REASONS, hasReason: true };
  const samples = dropSamples([[{ reason: 3, state: 0 }, 5n], [{ reason: 12, state: 0 }, 2n], [{ reason: 2, state: 1 }, 1n]], program);
  assert.deepEqual([...samples.values()], [
    { reason: 'NO_SOCKET', state: '-', value: 5n },
    { reason: 'NETFILTER_DROP', state: '-', value: 2n },
    { reason: 'NOT_SPECIFIED', state: 'ESTABLISHED', value: 1n },
  ]);
  const none = dropSamples([[{ reason: 0, state: 1 }, 4n]], { reasons: new Map(), hasReason: false });
  assert.deepEqual([...none.values()], [{ reason: '-', state: 'ESTABLISHED', value: 4n }]);
});

test('a stack is read once, freed, and remembered for a second drop with the same id', () => {
  const entries = new Map<number, bigint[]>([[7, [0x10n, 0x20n]]]);
  const deleted: number[] = [];
  const table = {
    walk: (id: number) => entries.get(id) ?? [],
    delete: (id: number) => { deleted.push(id); return entries.delete(id); },
  } as unknown as StackTraceTable;
  const named: bigint[] = [];
  const reader = new StackReader(table, (a) => { named.push(a); return `f${a}`; });
  assert.deepEqual(reader.frames(7), ['f16', 'f32']);
  assert.deepEqual(deleted, [7]);
  assert.deepEqual(reader.frames(7), ['f16', 'f32']);
  assert.deepEqual(reader.frames(-14), []);
  assert.deepEqual(reader.frames(9), []);
  entries.set(7, [0x30n, 0x10n]);
  assert.deepEqual(reader.frames(7), ['f48', 'f16']);
  assert.deepEqual(named, [0x10n, 0x20n, 0x30n], 'each address is named once');
});
