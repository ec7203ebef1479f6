// biosnoop's records and lines without a kernel: decoding struct io_event, bcc's columns and
// widths, its TIME(s) and "%.2f" arithmetic, --json, and the command line.
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../../lib/run/cli.ts';
import { kernelDev } from '../../lib/block/disks.ts';
import { spec } from '../../tools/biosnoop/options.ts';
import {
  CREATION_SEEN, HAS_CMD_FLAGS, IO_EVENT_OFFSETS as O, IO_EVENT_SIZE, decodeIoRecord, headerLine, jsonLine, msText, rowLine,
  secondsSince, wallClockMs, type IoEvent,
} from '../../tools/biosnoop/events.ts';

interface RecordFields {
  ts?: bigint; lat?: bigint; que?: bigint; sector?: bigint; bytes?: number; dev?: number; pid?: number; tid?: number;
  cmdFlags?: number; error?: number; rwbs?: string; comm?: string; pattern?: number; flags?: number;
}

function record(f: RecordFields): Buffer {
  const buf = Buffer.alloc(IO_EVENT_SIZE);
  buf.writeBigUInt64LE(f.ts ?? 0n, O.ts);
  buf.writeBigUInt64LE(f.lat ?? 0n, O.lat_ns);
  buf.writeBigUInt64LE(f.que ?? 0n, O.que_ns);
  buf.writeBigUInt64LE(f.sector ?? 0n, O.sector);
  buf.writeUInt32LE(f.bytes ?? 0, O.bytes);
  buf.writeUInt32LE(f.dev ?? 0, O.dev);
  buf.writeUInt32LE(f.pid ?? 0, O.pid);
  buf.writeUInt32LE(f.tid ?? 0, O.tid);
  buf.writeUInt32LE(f.cmdFlags ?? 0, O.cmd_flags);
  buf.writeInt32LE(f.error ?? 0, O.error);
  buf.write(f.rwbs ?? '', O.rwbs, 8, 'latin1');
  buf.write(f.comm ?? '', O.comm, 16, 'utf8');
  buf[O.pattern] = f.pattern ?? 0;
  buf[O.flags] = f.flags ?? CREATION_SEEN | HAS_CMD_FLAGS;
  return buf;
}

const LOOP3 = kernelDev(7, 3);
// REQ_OP_WRITE | REQ_SYNC (bit 11 on 6.x): an O_DIRECT write.
const WRITE_SYNC = 1 | (1 << 11);

test('a record decodes field by field; the creation unseen leaves the queued time unknown', () => {
  const ev = decodeIoRecord(record({
    ts: 5_000_123_456n, lat: 1_234_567n, que: 89_000n, sector: 2048n, bytes: 65536, dev: LOOP3, pid: 42, tid: 43,
    cmdFlags: WRITE_SYNC, comm: 'dd', pattern: 2,
  }));
  assert.deepEqual(ev, {
    ts: 5_000_123_456n, latNs: 1_234_567n, queNs: 89_000n, sector: 2048n, bytes: 65536, dev: LOOP3, pid: 42, tid: 43,
    cmdFlags: WRITE_SYNC, rwbs: null, comm: 'dd', failed: false, pattern: 'random',
  });
  const unseen = decodeIoRecord(record({ flags: HAS_CMD_FLAGS, que: 0n, pid: 7, comm: 'kworker/u4:2' }));
  assert.equal(unseen.queNs, null);
  assert.equal(unseen.pid, 7);
  const classic = decodeIoRecord(record({ flags: CREATION_SEEN, rwbs: 'WS', cmdFlags: 0, error: -5 }));
  assert.deepEqual([classic.rwbs, classic.cmdFlags, classic.failed], ['WS', null, true]);
});

test("bcc's header with -P and -Q, and -t's TIMESTAMP column", () => {
  assert.equal(headerLine({}), 'TIME(s)     COMM           PID     DISK      T SECTOR     BYTES  LAT(ms)');
  assert.equal(headerLine({ pattern: true, queue: true }), 'TIME(s)     COMM           PID     DISK      T SECTOR     BYTES  P QUE(ms) LAT(ms)');
  assert.equal(headerLine({ timestamp: true }), 'TIMESTAMP    COMM           PID     DISK      T SECTOR     BYTES  LAT(ms)');
});

test("rows in bcc's widths: comm cut to 14, R/W from cmd_flags or rwbs, pattern letters", () => {
  const base: IoEvent = {
    ts: 0n, latNs: 125_000n, queNs: 2_500_000n, sector: 123456n, bytes: 4096, dev: LOOP3, pid: 1234, tid: 1234,
    cmdFlags: WRITE_SYNC, rwbs: null, comm: 'postgres-writer1', failed: false, pattern: 'sequential',
  };
  assert.equal(rowLine(base, {}, '1.500000', 'loop3'),
    '1.500000    postgres-write 1234    loop3     W 123456     4096      0.12');
  assert.equal(rowLine(base, { pattern: true, queue: true }, '1.500000', 'loop3'),
    '1.500000    postgres-write 1234    loop3     W 123456     4096   S    2.50    0.12');
  const read = { ...base, cmdFlags: null, rwbs: 'RA', pattern: 'unknown' as const, queNs: null };
  assert.equal(rowLine(read, { pattern: true, queue: true }, '0.000000', 'nvme0n1'),
    '0.000000    postgres-write 1234    nvme0n1   R 123456     4096   ?    0.00    0.12');
  // A flush or a discard is not a write: bcc's T is R for them.
  assert.match(rowLine({ ...base, cmdFlags: 3 }, {}, '0.000000', 'sda'), / sda {7}R /);
  assert.match(rowLine({ ...base, cmdFlags: null, rwbs: 'FWS' }, {}, '0.000000', 'sda'), / sda {7}W /);
  assert.equal(rowLine(base, { timestamp: true }, '13:04:05.006', 'loop3').slice(0, 13), '13:04:05.006 ');
});

test('TIME(s) is the difference of whole microseconds, as bcc computes it', () => {
  assert.equal(secondsSince(1_000_000_999n, 1_000_000_999n), '0.000000');
  assert.equal(secondsSince(2_500_001_000n, 1_000_000_999n), '1.500001');
  // 999 ns after a microsecond boundary is still that microsecond: both are cut first.
  assert.equal(secondsSince(1_000_001_998n, 1_000_000_999n), '0.000001');
  assert.equal(secondsSince(3_601_000_000_000n, 1_000_000_000n), '3600.000000');
});

test("LAT(ms) is Python's %.2f: exact ties to even, the rest as toFixed", () => {
  assert.equal(msText(0n), '0.00');
  assert.equal(msText(125_000n), '0.12');
  assert.equal(msText(375_000n), '0.38');
  assert.equal(msText(625_000n), '0.62');
  assert.equal(msText(1_875_000n), '1.88');
  assert.equal(msText(5_000n), '0.01');
  assert.equal(msText(4_999n), '0.00');
  assert.equal(msText(1_234_567_890n), '1234.57');
  assert.equal(msText(15_000n), '0.01');
});

test('-t prints HH:MM:SS.mmm', () => {
  assert.equal(wallClockMs(new Date(2024, 0, 2, 3, 4, 5, 67)), '03:04:05.067');
});

test('--json has every value exact, whatever the columns', () => {
  const ev = decodeIoRecord(record({
    ts: 3_000_000_000n, lat: 21_992n, que: 4_887n, sector: 8n, bytes: 4096, dev: LOOP3, pid: 9, tid: 10, cmdFlags: WRITE_SYNC, comm: 'dio', pattern: 1,
  }));
  assert.deepEqual(JSON.parse(jsonLine(ev, 1_000_000_000n, '10:00:00.000', 'loop3', true)), {
    timestamp: 2, time: '10:00:00.000', comm: 'dio', pid: 9, tid: 10, disk: 'loop3', major: 7, minor: 3, rw: 'W', op: 'W', rwbs: null,
    cmd_flags: WRITE_SYNC, sector: 8, bytes: 4096, lat_ns: 21_992, que_ns: 4_887, failed: false, pattern: 'sequential',
  });
  assert.equal('pattern' in JSON.parse(jsonLine(ev, 0n, '', 'loop3', false)), false);
});

test("bcc's options and libbpf-tools' additions parse; bad values are refused", () => {
  const o = parseArgs(spec, ['-Q', '-P', '-t', '-m', '5', '10']);
  assert.deepEqual([o.queue, o.pattern, o.timestamp, o.min, o.duration], [true, true, true, 5, 10]);
  assert.equal(parseArgs(spec, ['--queue', '--pattern']).queue, true);
  assert.throws(() => parseArgs(spec, ['-d', 'no-such-disk-x']), UsageError);
  assert.throws(() => parseArgs(spec, ['-d', 'x"); foo();//']), UsageError);
  assert.throws(() => parseArgs(spec, ['-m', '1.5']), UsageError);
  assert.throws(() => parseArgs(spec, ['0']), UsageError);
});
