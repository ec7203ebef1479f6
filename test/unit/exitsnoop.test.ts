// exitsnoop's user-space half without a kernel: records as tools/exitsnoop/exitsnoop.bpf.c lays
// them out, decoded and printed in bcc's columns and widths, as JSON, counted for Prometheus, and
// its options parsed as bcc's are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../../lib/run/cli.ts';
import { render } from '../../lib/metrics/exposition.ts';
import type { EventChannel } from '../../lib/run/event-channel.ts';
import {
  EXIT_EVENT_OFFSETS, RECORD_SIZE, ageSeconds, clockMs, decodeExitRecord, exitText, headerLine, isoMs, jsonLine, outcome, rowLine,
} from '../../tools/exitsnoop/events.ts';
import { exitsnoopCollector } from '../../tools/exitsnoop/metrics.ts';
import { spec } from '../../tools/exitsnoop/options.ts';

interface RecordFields { start?: bigint; exit?: bigint; pid?: number; tid?: number; ppid?: number; status?: number; comm?: string }

/** A record exactly as struct exit_event is laid out. */
function record(f: RecordFields = {}): Buffer {
  const buf = Buffer.alloc(RECORD_SIZE);
  buf.writeBigUInt64LE(f.start ?? 1_000_000_000n, EXIT_EVENT_OFFSETS.start_time);
  buf.writeBigUInt64LE(f.exit ?? 3_456_000_000n, EXIT_EVENT_OFFSETS.exit_time);
  buf.writeUInt32LE(f.pid ?? 4242, EXIT_EVENT_OFFSETS.pid);
  buf.writeUInt32LE(f.tid ?? f.pid ?? 4242, EXIT_EVENT_OFFSETS.tid);
  buf.writeUInt32LE(f.ppid ?? 4241, EXIT_EVENT_OFFSETS.ppid);
  buf.writeInt32LE(f.status ?? 0, EXIT_EVENT_OFFSETS.status);
  buf.write(f.comm ?? 'sleep', EXIT_EVENT_OFFSETS.comm, 16);
  return buf;
}

test('a record decodes field by field; a 16-byte comm has no NUL and is read whole', () => {
  const ev = decodeExitRecord(record({ pid: 100, tid: 101, ppid: 1, status: 0x300, comm: 'worker' }));
  assert.deepEqual(ev, { start: 1_000_000_000n, ts: 3_456_000_000n, pid: 100, tid: 101, ppid: 1, status: 0x300, comm: 'worker' });
  assert.equal(ageSeconds(ev), 2.456);
  assert.equal(decodeExitRecord(record({ comm: 'abcdefghijklmnop' })).comm, 'abcdefghijklmnop');
  // A start after the exit (a clock the kernel changed under us) is no negative age.
  assert.equal(ageSeconds(decodeExitRecord(record({ start: 5n, exit: 4n }))), 0);
});

test('the wait status reads as wait(2)\'s macros read it, and as bcc prints it', () => {
  assert.deepEqual(outcome(0), { code: 0, signal: 0, core: false });
  assert.deepEqual(outcome(3 << 8), { code: 3, signal: 0, core: false });
  assert.deepEqual(outcome(255 << 8), { code: 255, signal: 0, core: false });
  assert.deepEqual(outcome(9), { code: 0, signal: 9, core: false });
  assert.deepEqual(outcome(6 | 0x80), { code: 0, signal: 6, core: true });
  assert.equal(exitText(0), '0');
  assert.equal(exitText(3 << 8), 'code 3');
  assert.equal(exitText(9), 'signal 9 (KILL)');
  assert.equal(exitText(15), 'signal 15 (TERM)');
  assert.equal(exitText(11 | 0x80), 'signal 11 (SEGV), core dumped');
  assert.equal(exitText(37), 'signal 37 (RTMIN+3)');
  assert.equal(exitText(32), 'signal 32 (unknown)');
});

test('header and rows are bcc\'s printf("%-16s %-7d %-7d %-7d %-7.2f "), with TIME-<zone> and LABEL before them', () => {
  assert.equal(headerLine({}), 'PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE');
  assert.equal(headerLine({ timestamp: true, utc: true, label: 'exit' }),
    'TIME-UTC     LABEL PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE');
  assert.equal(headerLine({ timestamp: true }, 'CET'), 'TIME-CET     PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE');
  const ev = decodeExitRecord(record({ pid: 1234567, ppid: 1, comm: 'sleep', status: 2 << 8 }));
  assert.equal(rowLine(ev, {}, ''), 'sleep            1234567 1       1234567 2.46    code 2');
  assert.equal(rowLine(ev, { timestamp: true, label: 'exit' }, '14:08:23.123'),
    '14:08:23.123 exit  sleep            1234567 1       1234567 2.46    code 2');
  const old = decodeExitRecord(record({ start: 0n, exit: 123_456_789_000_000n, status: 9 }));
  assert.equal(rowLine(old, {}, ''), 'sleep            4242    4241    4242    123456.79 signal 9 (KILL)');
});

test('times are HH:MM:SS.mmm and bcc\'s JSON timestamp, local or UTC', () => {
  const date = new Date(Date.UTC(2026, 11, 6, 5, 4, 3, 21));
  assert.equal(clockMs(date, true), '05:04:03.021');
  assert.equal(isoMs(date, true), '2026-12-06T05:04:03.021');
  const local = new Date(2026, 0, 2, 3, 4, 5, 678);
  assert.equal(clockMs(local, false), '03:04:05.678');
  assert.equal(isoMs(local, false), '2026-01-02T03:04:05.678');
});

test('--json has bcc\'s fields, then the status decoded, and the label when given', () => {
  const killed = decodeExitRecord(record({ pid: 10, tid: 11, ppid: 1, status: 6 | 0x80, comm: 'crash' }));
  assert.deepEqual(JSON.parse(jsonLine(killed, '2026-12-06T05:04:03.021')), {
    timestamp: '2026-12-06T05:04:03.021', task: 'crash', pid: 10, ppid: 1, tid: 11, age: 2.456,
    exit_code: 0, sig_info: 0x86, signal: 6, signal_name: 'ABRT', core_dumped: true,
  });
  const exited = JSON.parse(jsonLine(decodeExitRecord(record({ status: 1 << 8 })), 't', 'exit'));
  assert.deepEqual([exited.exit_code, exited.sig_info, exited.signal, exited.signal_name, exited.core_dumped, exited.label], [1, 0, 0, null, false, 'exit']);
});

test('metrics: normal exits by code, signal deaths by name, and the series limit holds', () => {
  let flushes = 0;
  const channel: EventChannel = { kind: 'ring', flush: () => { flushes++; }, lost: () => 7n };
  const collector = exitsnoopCollector(3, channel);
  for (const status of [0, 0, 1 << 8, 9, 9, 11 | 0x80, 2 << 8, 15]) collector.record({ status });
  const text = render(collector.collect(), 'prometheus');
  assert.equal(flushes, 1);
  const lines = text.split('\n').filter((l) => l.startsWith('bpfkit_process_'));
  assert.deepEqual(lines, [
    'bpfkit_process_exits_total{code="0"} 2',
    'bpfkit_process_exits_total{code="1"} 1',
    'bpfkit_process_signal_deaths_total{signal="KILL"} 2',
  ]);
  // SEGV, code 2 and TERM came after the limit of 3 label sets.
  assert.equal(collector.dropped(), 3);
  assert.equal(collector.lost(), 7n);
});

test('options: bcc\'s flags; --utc implies -t at print time; -p is checked; bad values are usage errors', () => {
  const o = parseArgs(spec, ['-t', '--utc', '-x', '--per-thread', '--label', 'exit', '-p', '1', '-j']);
  assert.deepEqual([o.timestamp, o.utc, o.failed, o['per-thread'], o.label, o.pid, o.json], [true, true, true, true, 'exit', 1, true]);
  const none = parseArgs(spec, []);
  assert.deepEqual([none.timestamp, none.failed, none['per-thread'], none.label, none.pid], [false, false, false, undefined, undefined]);
  for (const bad of [['-p', '0'], ['-p', 'abc'], ['-p', '-5'], ['-p', '999999999'], ['--label'], ['--label', '']]) {
    assert.throws(() => parseArgs(spec, bad), UsageError, bad.join(' '));
  }
});
