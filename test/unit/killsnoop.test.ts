// killsnoop's decoding, bcc's columns, --json, -s parsing and the metrics collector, without a kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../../lib/run/cli.ts';
import { COMM_LEN, RECORD_SIZE, SIGNAL_EVENT_OFFSETS, decodeSignalRecord, headerLine, jsonLine, pidWidth, rowLine, type SignalEvent } from '../../tools/killsnoop/events.ts';
import { signalList, spec } from '../../tools/killsnoop/options.ts';
import { killsnoopCollector } from '../../tools/killsnoop/metrics.ts';

function record(fields: Partial<Record<keyof typeof SIGNAL_EVENT_OFFSETS, number | bigint | string>>): Buffer {
  const buf = Buffer.alloc(RECORD_SIZE);
  const o = SIGNAL_EVENT_OFFSETS;
  buf.writeBigUInt64LE(BigInt(fields.ts ?? 0n), o.ts);
  for (const k of ['pid', 'tid', 'syscall', 'flags', 'uid'] as const) buf.writeUInt32LE(Number(fields[k] ?? 0), o[k]);
  for (const k of ['tpid', 'tgid', 'sig', 'ret', 'pidfd'] as const) buf.writeInt32LE(Number(fields[k] ?? (k === 'pidfd' ? -1 : 0)), o[k]);
  buf.write(String(fields.comm ?? ''), o.comm, COMM_LEN);
  return buf;
}

const kill: SignalEvent = { ts: 0n, pid: 13967, tid: 13967, tpid: 13885, tgid: 0, sig: 9, ret: 0, pidfd: -1, syscall: 'kill', uid: 0, comm: 'bash' };

test('a record decodes field by field; syscall indexes name the call; TPID_UNKNOWN makes the target null', () => {
  const ev = decodeSignalRecord(record({ ts: 123n, pid: 10, tid: 11, tpid: -1, sig: 15, ret: -3, syscall: 0, uid: 1000, comm: 'bash' }));
  assert.deepEqual(ev, { ts: 123n, pid: 10, tid: 11, tpid: -1, tgid: 0, sig: 15, ret: -3, pidfd: -1, syscall: 'kill', uid: 1000, comm: 'bash' });
  assert.deepEqual(['tkill', 'tgkill', 'pidfd_send_signal', 'rt_sigqueueinfo', 'rt_tgsigqueueinfo'],
    [1, 2, 3, 4, 5].map((n) => decodeSignalRecord(record({ syscall: n })).syscall));
  const pidfd = decodeSignalRecord(record({ syscall: 3, pidfd: 7, flags: 1, tpid: 0, ret: -9 }));
  assert.deepEqual([pidfd.tpid, pidfd.pidfd], [null, 7]);
  // A comm of exactly 16 bytes has no NUL: it ends at the field's end.
  assert.equal(decodeSignalRecord(record({ comm: 'x'.repeat(16) })).comm, 'x'.repeat(16));
});

test('bcc\'s header and rows: "%-9s %-*s %-16s %-4s %-*s %s", the PID width from pid_max', () => {
  assert.equal(pidWidth(32768), 6);
  assert.equal(pidWidth(4194304), 8);
  assert.equal(headerLine(6), 'TIME      PID    COMM             SIG  TPID   RESULT');
  assert.equal(rowLine(kill, 6, '12:10:51', false), '12:10:51  13967  bash             9    13885  0');
  assert.equal(rowLine({ ...kill, tpid: 1024, ret: -3 }, 6, '12:11:34', false), '12:11:34  13967  bash             9    1024   -3');
  assert.equal(rowLine({ ...kill, sig: 37 }, 6, '12:11:34', true), '12:11:34  13967  bash             RTMIN+3 13885  0');
  assert.equal(rowLine({ ...kill, sig: 0 }, 6, '12:11:34', true), '12:11:34  13967  bash             0    13885  0');
  assert.equal(rowLine({ ...kill, syscall: 'pidfd_send_signal', tpid: null }, 6, '12:11:34', false), '12:11:34  13967  bash             9    ?      0');
});

test('--json: every field, tgid and pidfd only for the calls that have them, errno by name on failure', () => {
  assert.deepEqual(JSON.parse(jsonLine(kill, '12:10:51', '1.500')), {
    time: '12:10:51', timestamp: 1.5, pid: 13967, tid: 13967, uid: 0, comm: 'bash', syscall: 'kill', sig: 9, signal: 'KILL', tpid: 13885, ret: 0,
  });
  const tg = JSON.parse(jsonLine({ ...kill, syscall: 'tgkill', tgid: 500, tpid: 501, sig: 10, ret: -3 }, 't', '0'));
  assert.deepEqual([tg.tgid, tg.tpid, tg.signal, tg.errno, 'pidfd' in tg], [500, 501, 'USR1', 'ESRCH', false]);
  const fd = JSON.parse(jsonLine({ ...kill, syscall: 'pidfd_send_signal', pidfd: 4, tpid: null }, 't', '0'));
  assert.deepEqual([fd.pidfd, fd.tpid, 'tgid' in fd], [4, null, false]);
});

test('-s takes numbers, names (any case, with or without SIG, real-time ones) and lists; anything else is a usage error', () => {
  assert.deepEqual(signalList('9'), [9]);
  assert.deepEqual(signalList('15,9,9'), [9, 15]);
  assert.deepEqual(signalList('KILL,sigterm,usr1'), [9, 10, 15]);
  assert.deepEqual(signalList('0,RTMIN,RTMIN+2,RTMAX'), [0, 34, 36, 64]);
  for (const bad of ['NOSUCH', '65', '9,', '', '-9', 'RTMAX+1', '1.5']) assert.throws(() => signalList(bad), UsageError, bad);
  const o = parseArgs(spec, ['-x', '-T', '189', '-s', 'KILL,15', '-n']);
  assert.deepEqual([o.failed, o.tpid, o.signal, o.name, o.pid], [true, 189, [9, 15], true, undefined]);
  assert.throws(() => parseArgs(spec, ['-s', 'BOGUS']), /argument -s\/--signal: no signal "BOGUS"/);
  assert.throws(() => parseArgs(spec, ['-T', '0']), UsageError);
});

test('the collector counts every call by signal and each failure by signal and errno', () => {
  const collector = killsnoopCollector(100, { kind: 'ring', flush: () => {}, lost: () => 0n });
  for (const ev of [{ sig: 9, ret: 0 }, { sig: 9, ret: -3 }, { sig: 9, ret: -3 }, { sig: 36, ret: -1 }, { sig: 0, ret: 0 }]) collector.record(ev);
  const families = Object.fromEntries(collector.collect().map((f) => [f.name, f]));
  const samples = (name: string) => (families[name] as { samples: Array<{ labels: Record<string, string>; value: bigint }> }).samples
    .map((s) => [s.labels, s.value]);
  assert.deepEqual(samples('bpfkit_signals_total'), [[{ signal: 'KILL' }, 3n], [{ signal: 'RTMIN+2' }, 1n], [{ signal: '0' }, 1n]]);
  assert.deepEqual(samples('bpfkit_signal_failures_total'), [[{ signal: 'KILL', errno: 'ESRCH' }, 2n], [{ signal: 'RTMIN+2', errno: 'EPERM' }, 1n]]);
});

test('the series limit drops label sets beyond it and counts each once', () => {
  const collector = killsnoopCollector(2, { kind: 'ring', flush: () => {}, lost: () => 0n });
  for (const sig of [1, 2, 3, 3, 4]) collector.record({ sig, ret: 0 });
  assert.equal(collector.dropped(), 2);
});
