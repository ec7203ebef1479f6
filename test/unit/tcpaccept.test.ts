// tcpaccept's user-space side without the kernel: records decoded at the C struct's offsets,
// bcc's columns to the character, JSON, -P's port list, and option errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLOW_OFFSETS } from '../../lib/output/inet.ts';
import { parseArgs, UsageError } from '../../lib/run/cli.ts';
import {
  ACCEPT_EVENT_OFFSETS, ACCEPT_EVENT_SIZE, decodeAcceptRecord, headerLine, jsonLine, rowLine, secondsSince, type AcceptEvent,
} from '../../tools/tcpaccept/events.ts';
import { portList, spec, MAX_PORT_LIST } from '../../tools/tcpaccept/options.ts';
import { tcpacceptCollector } from '../../tools/tcpaccept/metrics.ts';
import type { ScalarFamily } from '../../lib/metrics/exposition.ts';
import { runToolToEnd } from '../helpers/tool.ts';

/** Python's "%" formatting for the conversions bcc's tcpaccept uses: %-Ns, %-N.Ms, %-Nd. */
function pyFormat(format: string, ...args: Array<string | number>): string {
  let i = 0;
  return format.replace(/%(-?)(\d*)(?:\.(\d+))?([sdf])/g, (_m, _left: string, width: string, precision: string | undefined) => {
    let text = String(args[i++]);
    if (precision !== undefined) text = text.slice(0, Number(precision));
    return text.padEnd(Number(width || 0));
  });
}

function record(fields: { ts: bigint; pid: number; comm: string; family: number; laddr: number[]; raddr: number[]; lport: number; rport: number }): Buffer {
  const buf = Buffer.alloc(ACCEPT_EVENT_SIZE, 0xee); // padding and unused bytes are never read
  buf.writeBigUInt64LE(fields.ts, ACCEPT_EVENT_OFFSETS.ts);
  buf.writeUInt32LE(fields.pid, ACCEPT_EVENT_OFFSETS.pid);
  buf.fill(0, ACCEPT_EVENT_OFFSETS.comm, ACCEPT_EVENT_OFFSETS.comm + 16);
  buf.write(fields.comm, ACCEPT_EVENT_OFFSETS.comm);
  const flow = ACCEPT_EVENT_OFFSETS.flow;
  Buffer.from(fields.laddr).copy(buf, flow + FLOW_OFFSETS.laddr);
  Buffer.from(fields.raddr).copy(buf, flow + FLOW_OFFSETS.raddr);
  buf.writeUInt16LE(fields.lport, flow + FLOW_OFFSETS.lport);
  buf.writeUInt16LE(fields.rport, flow + FLOW_OFFSETS.rport);
  buf.writeUInt16LE(fields.family, flow + FLOW_OFFSETS.family);
  return buf;
}

const V4 = record({ ts: 5_000_000_000n, pid: 4242, comm: 'tcpaccept-srv', family: 2, laddr: [127, 0, 0, 1], raddr: [192, 0, 2, 7], lport: 8080, rport: 51234 });
const V6 = record({
  ts: 6_250_000_000n, pid: 17, comm: 'sshd', family: 10, lport: 22, rport: 40000,
  laddr: [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1], raddr: [0x20, 0x01, 0x0d, 0xb8, 0, 1, ...Array(9).fill(0), 0x2a],
});

test('a record decodes to the acceptor, both ends of the flow and its family', () => {
  assert.equal(ACCEPT_EVENT_SIZE, 72);
  assert.deepEqual(decodeAcceptRecord(V4), {
    ts: 5_000_000_000n, pid: 4242, comm: 'tcpaccept-srv', ip: 4, laddr: '127.0.0.1', lport: 8080, raddr: '192.0.2.7', rport: 51234,
  });
  assert.deepEqual(decodeAcceptRecord(V6), {
    ts: 6_250_000_000n, pid: 17, comm: 'sshd', ip: 6, laddr: '2001:db8::1', lport: 22, raddr: '2001:db8:1::2a', rport: 40000,
  });
  // A name of the full 15 characters plus its NUL, and one filling all 16 bytes.
  const long = Buffer.from(V4);
  long.write('abcdefghijklmnop', ACCEPT_EVENT_OFFSETS.comm);
  assert.equal(decodeAcceptRecord(long).comm, 'abcdefghijklmnop');
});

test('columns as bcc prints them: "%-7d %-12.12s %-2d %-16s %-5d %-16s %-5d", after "%-9s" TIME and TIME(s)', () => {
  const ev = decodeAcceptRecord(V4);
  const six = decodeAcceptRecord(V6);
  assert.equal(headerLine({}), pyFormat('%-7s %-12s %-2s %-16s %-5s %-16s %-5s', 'PID', 'COMM', 'IP', 'RADDR', 'RPORT', 'LADDR', 'LPORT'));
  assert.equal(headerLine({}), 'PID     COMM         IP RADDR            RPORT LADDR            LPORT');
  assert.equal(rowLine(ev, {}, '', ''), pyFormat('%-7d %-12.12s %-2d %-16s %-5d %-16s %-5d', 4242, 'tcpaccept-srv', 4, '192.0.2.7', 51234, '127.0.0.1', 8080));
  assert.equal(rowLine(ev, {}, '', ''), '4242    tcpaccept-sr 4  192.0.2.7        51234 127.0.0.1        8080 ');
  assert.equal(rowLine(six, {}, '', ''), '17      sshd         6  2001:db8:1::2a   40000 2001:db8::1      22   ');
  assert.equal(headerLine({ time: true, timestamp: true }), `TIME     TIME(s)  ${headerLine({})}`);
  assert.equal(rowLine(ev, { time: true, timestamp: true }, '10:33:28', '1.250'), `10:33:28 1.250    ${rowLine(ev, {}, '', '')}`);
  assert.equal(rowLine(ev, { timestamp: true }, '', '0.000'), `0.000    ${rowLine(ev, {}, '', '')}`);
  // Addresses longer than the column push the rest right, as Python's %-16s does.
  const wide = { ...six, raddr: '2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff' };
  assert.equal(rowLine(wide, {}, '', ''), '17      sshd         6  2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff 40000 2001:db8::1      22   ');
});

test('TIME(s) counts from the first accept, in milliseconds', () => {
  assert.equal(secondsSince(5_000_000_000n, 5_000_000_000n), '0.000');
  assert.equal(secondsSince(6_250_400_000n, 5_000_000_000n), '1.250');
  assert.equal(secondsSince(65_000_000_000n, 5_000_000_000n), '60.000');
});

test('--json: every field, the whole command name', () => {
  assert.deepEqual(JSON.parse(jsonLine(decodeAcceptRecord(V4), '10:33:28', '1.250')), {
    time: '10:33:28', timestamp: 1.25, pid: 4242, comm: 'tcpaccept-srv', ip: 4, raddr: '192.0.2.7', rport: 51234, laddr: '127.0.0.1', lport: 8080,
  });
  assert.deepEqual(Object.keys(JSON.parse(jsonLine(decodeAcceptRecord(V6), '10:33:28', '0.000'))),
    ['time', 'timestamp', 'pid', 'comm', 'ip', 'raddr', 'rport', 'laddr', 'lport']);
});

test('-P takes bcc\'s comma-separated ports; anything else is one usage error', () => {
  assert.deepEqual(portList('80'), [80]);
  assert.deepEqual(portList('80,81, 443'), [80, 81, 443]);
  assert.deepEqual(portList('80,80,81'), [80, 81]);
  assert.deepEqual(portList('65535,1'), [65535, 1]);
  for (const bad of ['', '0', '65536', '-1', 'http', '80,', '80;81', '1e3', '0x50', '80,,81', '8 0']) {
    assert.throws(() => portList(bad), (err) => err instanceof UsageError && /^expected comma-separated ports from 1 to 65535, got /.test(err.message), bad);
  }
  const many = Array.from({ length: MAX_PORT_LIST + 1 }, (_, i) => i + 1).join(',');
  assert.throws(() => portList(many), /at most 1024 ports, got 1025/);
  assert.deepEqual(parseArgs(spec, ['-P', '80,81']).port, [80, 81]);
  assert.deepEqual(parseArgs(spec, ['--port=22']).port, [22]);
});

test('bcc\'s options parse to what the tool reads', () => {
  const o = parseArgs(spec, ['-T', '-t', '-4']);
  assert.deepEqual([o.time, o.timestamp, o.ipv4, o.ipv6, o.pid, o.port], [true, true, true, false, undefined, undefined]);
  assert.equal(parseArgs(spec, ['-6']).ipv6, true);
  assert.equal(parseArgs(spec, ['-p', String(process.pid)]).pid, process.pid);
  assert.throws(() => parseArgs(spec, ['-p', '0']), UsageError);
  assert.throws(() => parseArgs(spec, ['-x']), UsageError);
});

test('bad input is one line on stderr and exit 2, before anything loads', async () => {
  for (const [args, message] of [
    [['-4', '-6'], /^tcpaccept: argument -6\/--ipv6: not allowed with argument -4\/--ipv4 \(see tcpaccept --help\)\n$/],
    [['-P', '80,x'], /^tcpaccept: argument -P\/--port: expected comma-separated ports from 1 to 65535, got "80,x" \(see tcpaccept --help\)\n$/],
    [['-p', 'abc'], /^tcpaccept: argument -p\/--pid: /],
  ] as const) {
    const run = await runToolToEnd('tcpaccept', [...args]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, message);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  }
});

test('metrics: accepts counted per command and local port, within the series limit', () => {
  let flushed = 0;
  const collector = tcpacceptCollector(2, { kind: 'ring', flush: () => { flushed++; }, lost: () => 3n });
  const ev = (comm: string, lport: number): Pick<AcceptEvent, 'comm' | 'lport'> => ({ comm, lport });
  for (const e of [ev('nginx', 80), ev('nginx', 80), ev('sshd', 22), ev('nginx', 443), ev('nginx', 80)]) collector.record(e);
  const [family] = collector.collect() as ScalarFamily[];
  assert.equal(flushed, 1, 'a scrape drains the buffer first');
  assert.equal(family.name, 'bpfkit_tcp_accepts_total');
  assert.deepEqual(family.samples.map((s) => [s.labels, s.value]), [[{ comm: 'nginx', lport: '80' }, 3n], [{ comm: 'sshd', lport: '22' }, 1n]]);
  assert.equal(collector.dropped(), 1);
  assert.equal(collector.lost(), 3n);
});
