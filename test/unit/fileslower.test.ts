// fileslower's user side without a kernel: records decoded from bytes laid out as struct slow_io,
// bcc's columns, JSON lines, the options, and the metrics collector's families.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../../lib/run/cli.ts';
import { render } from '../../lib/metrics/exposition.ts';
import type { EventChannel } from '../../lib/run/event-channel.ts';
import { spec } from '../../tools/fileslower/options.ts';
import {
  HEADER, RECORD_SIZE, SLOW_IO_OFFSETS as O, decodeSlowIo, fileType, jsonLine, milliseconds, rowLine, tracingLine, type SlowIo,
} from '../../tools/fileslower/output.ts';
import { fileslowerCollector, log2Slot } from '../../tools/fileslower/metrics.ts';

function record(fields: { ts?: bigint; ns: bigint; bytes: number; pid: number; tid: number; fd: number; call: number; mode: number; comm: string; name: string }): Buffer {
  const buf = Buffer.alloc(RECORD_SIZE);
  buf.writeBigUInt64LE(fields.ts ?? 5_000_000_000n, O.ts);
  buf.writeBigUInt64LE(fields.ns, O.delta_ns);
  buf.writeBigInt64LE(BigInt(fields.bytes), O.bytes);
  buf.writeUInt32LE(fields.pid, O.pid);
  buf.writeUInt32LE(fields.tid, O.tid);
  buf.writeInt32LE(fields.fd, O.fd);
  buf.writeUInt32LE(Buffer.byteLength(fields.name), O.name_len);
  buf.writeUInt16LE(fields.call, O.syscall);
  buf.writeUInt16LE(fields.mode, O.mode);
  buf.write(fields.comm, O.comm);
  buf.write(fields.name, O.name);
  return buf;
}

const slowRead = record({ ns: 60_154_321n, bytes: 4096, pid: 4242, tid: 4243, fd: 3, call: 0, mode: 0o100644, comm: 'a-rather-long-c', name: 'slow' });

test('a record decodes to its fields; even calls read, odd ones write', () => {
  assert.deepEqual(decodeSlowIo(slowRead), {
    ts: 5_000_000_000n, latencyNs: 60_154_321n, bytes: 4096, pid: 4242, tid: 4243, fd: 3, direction: 'R', call: 'read', mode: 0o100644,
    comm: 'a-rather-long-c', name: 'slow', nameLen: 4,
  });
  const write = decodeSlowIo(record({ ns: 1n, bytes: 1, pid: 1, tid: 1, fd: 9, call: 3, mode: 0o140777, comm: 'x', name: 'TCP' }));
  assert.deepEqual([write.direction, write.call, fileType(write.mode)], ['W', 'pwrite64', 'socket']);
  const kprobe = decodeSlowIo(record({ ns: 1n, bytes: 1, pid: 1, tid: 1, fd: -1, call: 11, mode: 0o100600, comm: 'x', name: 'y' }));
  assert.deepEqual([kprobe.direction, kprobe.call, kprobe.fd], ['W', 'vfs_write', -1]);
});

test('rows in bcc\'s columns: TIME(s) COMM (14 wide, cut) TID D BYTES LAT(ms) FILENAME', () => {
  assert.equal(tracingLine(10), 'Tracing sync read/writes slower than 10 ms');
  assert.equal(HEADER, 'TIME(s)  COMM           TID    D BYTES   LAT(ms) FILENAME');
  assert.equal(rowLine(decodeSlowIo(slowRead), '1.234'), '1.234    a-rather-long- 4243   R 4096      60.15 slow');
  const long = decodeSlowIo(record({ ns: 12_345_678_901n, bytes: 123456789, pid: 1, tid: 1234567, fd: 3, call: 1, mode: 0o100644, comm: 'dd', name: 'a b\nc' }));
  assert.equal(rowLine(long, '123456.789'), '123456.789 dd             1234567 W 123456789 12345.68 a b\\nc');
  assert.equal(milliseconds(5_000n), '0.01');
});

test('--json: one object with the same values, latency in ns and the file type', () => {
  assert.deepEqual(JSON.parse(jsonLine(decodeSlowIo(slowRead), '1.234')), {
    timestamp: 1.234, pid: 4242, tid: 4243, comm: 'a-rather-long-c', direction: 'R', call: 'read', fd: 3, bytes: 4096,
    latency_ns: 60154321, file: 'slow', file_type: 'regular',
  });
  assert.deepEqual([0o010644, 0o020620, 0o040755, 0o060660, 0o120777, 0].map(fileType), ['fifo', 'char', 'directory', 'block', 'symlink', 'unknown']);
});

test('options: bcc\'s -p PID, -a and min_ms (default 10, an integer from 0)', () => {
  const o = parseArgs(spec, ['-a', '-p', String(process.pid), '0']);
  assert.deepEqual([o.pid, o['all-files'], o.min_ms], [process.pid, true, 0]);
  assert.deepEqual([parseArgs(spec, []).min_ms, parseArgs(spec, []).pid, parseArgs(spec, [])['all-files']], [undefined, undefined, false]);
  assert.equal(parseArgs(spec, ['--all-files', '--pid', String(process.pid), '25']).min_ms, 25);
  for (const bad of [['1.5'], ['abc'], ['10', '20'], ['86400001'], ['-p', '999999999'], ['-p', '0'], ['-p']]) {
    assert.throws(() => parseArgs(spec, bad), UsageError, bad.join(' '));
  }
});

test('metrics: slow calls and bytes by comm and direction, a latency histogram by direction with exact log2 bounds', () => {
  assert.deepEqual([0n, 1n, 2n, 3n, 4n, 60_000_000n].map(log2Slot), [0, 1, 2, 2, 3, 26]);
  let flushed = 0;
  const channel: EventChannel = { kind: 'ring', flush: () => { flushed++; }, lost: () => 2n };
  const metrics = fileslowerCollector(1, channel, () => 3n);
  const ev = (comm: string, direction: 'R' | 'W', ns: bigint, bytes: number): SlowIo => ({
    ts: 0n, latencyNs: ns, bytes, pid: 1, tid: 1, fd: 3, direction, call: direction === 'R' ? 'read' : 'write', mode: 0o100644, comm, name: 'f', nameLen: 1,
  });
  metrics.record(ev('dd', 'R', 60_000_000n, 4096));
  metrics.record(ev('dd', 'R', 20_000_000n, 100));
  metrics.record(ev('cp', 'W', 15_000_000n, 10));   // a second label set: over the limit of 1
  const families = metrics.collect();
  assert.equal(flushed, 1);
  assert.deepEqual([metrics.lost(), metrics.dropped()], [5n, 1]);
  const text = render(families, 'prometheus');
  assert.match(text, /^bpfkit_slow_file_io_total\{comm="dd",direction="R"\} 2$/m);
  assert.match(text, /^bpfkit_slow_file_io_bytes_total\{comm="dd",direction="R"\} 4196$/m);
  assert.doesNotMatch(text, /comm="cp"/);
  // The histogram counts every call, whatever the series limit did to the comm counters.
  assert.match(text, /^bpfkit_slow_file_io_duration_seconds_count\{direction="R"\} 2$/m);
  assert.match(text, /^bpfkit_slow_file_io_duration_seconds_count\{direction="W"\} 1$/m);
  assert.match(text, /^bpfkit_slow_file_io_duration_seconds_sum\{direction="R"\} 0\.08$/m);
  assert.match(text, /^bpfkit_slow_file_io_duration_seconds_bucket\{direction="R",le="0\.033554432"\} 1$/m);
  assert.match(text, /^bpfkit_slow_file_io_duration_seconds_bucket\{direction="R",le="0\.067108864"\} 2$/m);
});
