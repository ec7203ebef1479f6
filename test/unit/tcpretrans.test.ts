// tcpretrans's user side without a kernel: decoding struct retrans_event, bcc's columns (with and
// without -s), the JSON fields, -c's per-flow table, the metrics families and the options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BPF } from 'bcc-node-bindings';
import { parseArgs, UsageError } from '../../lib/run/cli.ts';
import { FLOW_OFFSETS } from '../../lib/output/inet.ts';
import { spec } from '../../tools/tcpretrans/options.ts';
import {
  COUNT_HEADER, RECORD_SIZE, RETRANS_EVENT_OFFSETS as O, countJson, countLines, decodeRetransRecord, flowCounts, headerLine, jsonLine, rowLine,
  type CountKey,
} from '../../tools/tcpretrans/events.ts';
import { tcpretransCollector } from '../../tools/tcpretrans/metrics.ts';
import type { MetricFamily, ScalarFamily } from '../../lib/metrics/exposition.ts';

interface RecordFields {
  family: number; laddr: number[]; lport: number; raddr: number[]; rport: number; pid: number; owner: boolean;
  comm: string; seq: number; state: number; segs: number; type: number; err: number; ts: bigint;
}

function record(f: Partial<RecordFields> = {}): Buffer {
  const r: RecordFields = {
    family: 2, laddr: [192, 0, 2, 1], lport: 40000, raddr: [192, 0, 2, 2], rport: 443, pid: 1234, owner: true, comm: 'curl',
    seq: 3905480382, state: 1, segs: 1, type: 1, err: 0, ts: 5_000_000_000n, ...f,
  };
  const buf = Buffer.alloc(RECORD_SIZE);
  buf.writeBigUInt64LE(r.ts, O.ts);
  Buffer.from(r.laddr).copy(buf, O.flow + FLOW_OFFSETS.laddr);
  Buffer.from(r.raddr).copy(buf, O.flow + FLOW_OFFSETS.raddr);
  buf.writeUInt16LE(r.lport, O.flow + FLOW_OFFSETS.lport);
  buf.writeUInt16LE(r.rport, O.flow + FLOW_OFFSETS.rport);
  buf.writeUInt16LE(r.family, O.flow + FLOW_OFFSETS.family);
  buf.writeUInt32LE(r.pid, O.pid);
  buf.writeUInt32LE(r.seq, O.seq);
  buf.writeUInt32LE(r.state, O.state);
  buf.writeInt32LE(r.err, O.err);
  buf.writeUInt16LE(r.segs, O.segs);
  buf[O.type] = r.type;
  buf[O.owner] = r.owner ? 1 : 0;
  buf.write(r.comm, O.comm);
  return buf;
}

const V6 = (last: number) => [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last];

test('a record decodes to its flow, owner, state, sequence, segments and error', () => {
  assert.deepEqual(decodeRetransRecord(record()), {
    ts: 5_000_000_000n, ip: 4, laddr: '192.0.2.1', lport: 40000, raddr: '192.0.2.2', rport: 443, pid: 1234, owner: true,
    comm: 'curl', seq: 3905480382, state: 1, segs: 1, type: 'R', err: 0,
  });
  const ev = decodeRetransRecord(record({ family: 10, laddr: V6(1), raddr: V6(2), owner: false, pid: 0, comm: 'swapper/1', type: 2, seq: 0, state: 4, err: -105 }));
  assert.deepEqual([ev.ip, ev.laddr, ev.raddr, ev.owner, ev.comm, ev.type, ev.state, ev.err], [6, '2001:db8::1', '2001:db8::2', false, 'swapper/1', 'L', 4, -105]);
  assert.equal(decodeRetransRecord(record({ comm: 'a-full-16-bytes!' })).comm, 'a-full-16-bytes!', 'a comm without NUL ends at 16 bytes');
});

test("bcc's columns: %-8s %-7d %-2d %-20s %1s> %-20s, then STATE, or STATE and SEQ with -s", () => {
  assert.equal(headerLine(false), 'TIME     PID     IP LADDR:LPORT          T> RADDR:RPORT          STATE');
  assert.equal(headerLine(true), 'TIME     PID     IP LADDR:LPORT          T> RADDR:RPORT          STATE        SEQ       ');
  const ev = decodeRetransRecord(record());
  assert.equal(rowLine(ev, '10:36:37', false), '10:36:37 1234    4  192.0.2.1:40000      R> 192.0.2.2:443        ESTABLISHED');
  assert.equal(rowLine(ev, '10:36:37', true), '10:36:37 1234    4  192.0.2.1:40000      R> 192.0.2.2:443        ESTABLISHED  3905480382');
  // IPv6 unbracketed, as bcc prints it; longer than 20 it pushes the columns on.
  const v6 = decodeRetransRecord(record({ family: 10, laddr: V6(1), raddr: V6(2), lport: 53118, rport: 47339, type: 2, state: 4 }));
  assert.equal(rowLine(v6, '10:40:53', false), '10:40:53 1234    6  2001:db8::1:53118    L> 2001:db8::2:47339    FIN_WAIT1');
});

test('--json: every field, whatever -s says', () => {
  assert.deepEqual(JSON.parse(jsonLine(decodeRetransRecord(record({ owner: false, pid: 0, comm: 'swapper/0' })), '10:36:37')), {
    time: '10:36:37', pid: 0, comm: 'swapper/0', pid_from: 'cpu', ip: 4, laddr: '192.0.2.1', lport: 40000,
    raddr: '192.0.2.2', rport: 443, type: 'R', state: 'ESTABLISHED', seq: 3905480382, segs: 1, err: 0,
  });
  assert.equal(JSON.parse(jsonLine(decodeRetransRecord(record()), 'x')).pid_from, 'connect');
});

const key = (family: number, l: number[], lport: number, r: number[], rport: number, type: number): CountKey =>
  ({ flow: { family, laddr: l, lport, raddr: r, rport }, type });

test("-c: bcc's table, IPv4 then IPv6, each ascending by count, retransmits and probes summed as bcc's one counter", () => {
  const pad = (a: number[]) => [...a, ...new Array(16 - a.length).fill(0)];
  const rows = flowCounts([
    [key(2, pad([10, 0, 0, 1]), 22, pad([10, 0, 0, 2]), 51000, 1), 7n],
    [key(10, V6(1), 8080, V6(2), 40000, 1), 2n],
    [key(2, pad([192, 0, 2, 1]), 40000, pad([192, 0, 2, 2]), 443, 1), 3n],
    [key(2, pad([192, 0, 2, 1]), 40000, pad([192, 0, 2, 2]), 443, 2), 1n],
  ]);
  assert.equal(COUNT_HEADER, 'LADDR:LPORT               RADDR:RPORT               RETRANSMITS');
  assert.deepEqual(countLines(rows), [
    '[192.0.2.1]#40000    <-> [192.0.2.2]#443               4',
    '[10.0.0.1]#22        <-> [10.0.0.2]#51000              7',
    '[2001:db8::1]#8080   <-> [2001:db8::2]#40000           2',
  ]);
  assert.deepEqual(countJson(rows.find((r) => r.lport === 40000)!), {
    ip: 4, laddr: '192.0.2.1', lport: 40000, raddr: '192.0.2.2', rport: 443, retransmits: 3n, loss_probes: 1n,
  });
});

test('metrics: bpfkit_tcp_retransmits_total per flow (IPv6 bracketed), probes only with -l, bounded by the series limit', () => {
  const entries: Array<[CountKey, bigint]> = [
    [key(10, V6(1), 8080, V6(2), 40000, 1), 2n],
    [key(10, V6(1), 8080, V6(2), 40000, 2), 5n],
    [key(2, [192, 0, 2, 1, ...new Array(12).fill(0)], 40000, [192, 0, 2, 2, ...new Array(12).fill(0)], 443, 1), 3n],
  ];
  const bpf = {
    table: (name: string) => (name === 'counts' ? { entries: () => entries } : { values: () => [4n] }),
  } as unknown as BPF;
  const probes = tcpretransCollector(bpf, 1, true);
  const scalar = (families: MetricFamily[]) => families.map((f) => f as ScalarFamily);
  const families = scalar(probes.collect());
  assert.deepEqual(families.map((f) => [f.name, f.samples]), [
    ['bpfkit_tcp_retransmits_total', [{ labels: { laddr: '[2001:db8::1]:8080', raddr: '[2001:db8::2]:40000' }, value: 2n }]],
    ['bpfkit_tcp_loss_probes_total', [{ labels: { laddr: '[2001:db8::1]:8080', raddr: '[2001:db8::2]:40000' }, value: 5n }]],
  ]);
  assert.equal(probes.dropped(), 1, 'the second flow is beyond the limit of 1');
  assert.equal(probes.lost(), 4n);
  assert.deepEqual(scalar(tcpretransCollector(bpf, 10, false).collect()).map((f) => [f.name, f.samples.length]), [['bpfkit_tcp_retransmits_total', 2]]);
});

test("options: bcc's -s -l -c -4 -6; -4 with -6 is refused by the tool (as bcc's argparse group)", () => {
  const o = parseArgs(spec, ['-s', '-l', '-c', '-4']);
  assert.deepEqual([o.sequence, o.lossprobe, o.count, o.ipv4, o.ipv6], [true, true, true, true, false]);
  assert.throws(() => parseArgs(spec, ['-x']), UsageError);
  assert.throws(() => parseArgs(spec, ['5']), UsageError);
});
