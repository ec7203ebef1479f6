// lib/output/inet.ts: TCP state names and the flow records the network tools decode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLOW_OFFSETS, FLOW_SIZE, readFlow, tcpStateName } from '../../lib/output/inet.ts';

test('TCP states are named as bcc names them; an unknown one shows its number', () => {
  assert.deepEqual([1, 2, 7, 10, 12].map(tcpStateName), ['ESTABLISHED', 'SYN_SENT', 'CLOSE', 'LISTEN', 'NEW_SYN_RECV']);
  assert.equal(tcpStateName(99), '99');
});

function flowBytes(family: number, laddr: number[], raddr: number[], lport: number, rport: number, at = 0): Buffer {
  const buf = Buffer.alloc(at + FLOW_SIZE);
  Buffer.from(laddr).copy(buf, at + FLOW_OFFSETS.laddr);
  Buffer.from(raddr).copy(buf, at + FLOW_OFFSETS.raddr);
  buf.writeUInt16LE(lport, at + FLOW_OFFSETS.lport);
  buf.writeUInt16LE(rport, at + FLOW_OFFSETS.rport);
  buf.writeUInt16LE(family, at + FLOW_OFFSETS.family);
  return buf;
}

test('readFlow decodes IPv4 from the first four address bytes and IPv6 from all sixteen', () => {
  assert.deepEqual(readFlow(flowBytes(2, [10, 0, 0, 1, 9, 9], [192, 0, 2, 7], 40000, 80, 8), 8),
    { ip: 4, laddr: '10.0.0.1', lport: 40000, raddr: '192.0.2.7', rport: 80 });
  const v6 = [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 2];
  const loop = [...Array(15).fill(0), 1];
  assert.deepEqual(readFlow(flowBytes(10, v6, loop, 443, 51000), 0),
    { ip: 6, laddr: '2001:db8::2', lport: 443, raddr: '::1', rport: 51000 });
});
