// capable's user side without a kernel: decoding struct cap_event, bcc's columns with VERDICT,
// the stacks below a row, --json, the options, the metric samples and the frame names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../../lib/run/cli.ts';
import {
  CAPABILITIES, CAP_EVENT_OFFSETS, CAP_EVENT_SIZE, capName, decodeCapRecord, headerLine, jsonLine, rowLine, stackLines, verdict,
} from '../../tools/capable/events.ts';
import { spec } from '../../tools/capable/options.ts';
import { CAP_SLOTS, checkSamples, slotLabels } from '../../tools/capable/metrics.ts';
import { kernelFrameText } from '../../tools/capable/stacks.ts';

function record(o: { cap?: number; ret?: number; audit?: number; insetid?: number; comm?: string } = {}): Buffer {
  const buf = Buffer.alloc(CAP_EVENT_SIZE);
  const at = CAP_EVENT_OFFSETS;
  buf.writeBigUInt64LE(5_000_000_000n, at.ts);
  buf.writeUInt32LE(4242, at.pid);
  buf.writeUInt32LE(4243, at.tid);
  buf.writeUInt32LE(65534, at.uid);
  buf.writeInt32LE(o.cap ?? 23, at.cap);
  buf.writeInt32LE(o.ret ?? 0, at.ret);
  buf.writeInt32LE(o.audit ?? -1, at.audit);
  buf.writeInt32LE(o.insetid ?? -1, at.insetid);
  buf.writeInt32LE(7, at.kernel_stack_id);
  buf.writeInt32LE(-14, at.user_stack_id);
  buf.write(o.comm ?? 'nice', at.comm);
  return buf;
}

test('a record decodes to its process, thread, credentials, capability, verdict and stack ids', () => {
  assert.deepEqual(decodeCapRecord(record()), {
    ts: 5_000_000_000n, pid: 4242, tid: 4243, uid: 65534, cap: 23, ret: 0, audit: null, insetid: null,
    kernelStackId: 7, userStackId: -14, comm: 'nice',
  });
  const kprobe = decodeCapRecord(record({ cap: 0, ret: -1, audit: 1, insetid: 0, comm: 'a-sixteen-chars!' }));
  assert.deepEqual([kprobe.cap, kprobe.ret, kprobe.audit, kprobe.insetid, kprobe.comm], [0, -1, true, false, 'a-sixteen-chars!']);
});

test("capabilities by bcc's names, \"?\" beyond the table; verdicts in libbpf-tools' words", () => {
  assert.equal(CAPABILITIES.length, 41);
  assert.deepEqual([capName(0), capName(21), capName(23), capName(40), capName(41), capName(-1)],
    ['CAP_CHOWN', 'CAP_SYS_ADMIN', 'CAP_SYS_NICE', 'CAP_CHECKPOINT_RESTORE', '?', '?']);
  assert.deepEqual([verdict(0), verdict(-1), verdict(-13)], ['allow', 'deny', 'deny']);
});

test("bcc's columns, VERDICT after AUDIT; -x adds TID and INSETID; N/A where the hook cannot tell", () => {
  assert.equal(headerLine(false), 'TIME      UID    PID    COMM             CAP  NAME                 AUDIT  VERDICT');
  assert.equal(headerLine(true), 'TIME      UID    PID    TID    COMM             CAP  NAME                 AUDIT  VERDICT INSETID');
  const tp = decodeCapRecord(record({ ret: -1 }));
  assert.equal(rowLine(tp, '22:11:23', false), '22:11:23  65534  4242   nice             23   CAP_SYS_NICE         N/A    deny');
  assert.equal(rowLine(tp, '22:11:23', true), '22:11:23  65534  4242   4243   nice             23   CAP_SYS_NICE         N/A    deny    N/A');
  const kp = decodeCapRecord(record({ cap: 0, audit: 1, insetid: 0, comm: 'chown' }));
  assert.equal(rowLine(kp, '22:11:23', true), '22:11:23  65534  4242   4243   chown            0    CAP_CHOWN            1      allow   0');
});

test("stacks as bcc prints them: frames eight spaces in, a missed stack as one line", () => {
  assert.deepEqual(stackLines(['cap_capable+0x1 [kernel]', 'do_syscall_64+0x56 [kernel]'], '[Missed Kernel Stack]'),
    ['        cap_capable+0x1 [kernel]', '        do_syscall_64+0x56 [kernel]']);
  assert.deepEqual(stackLines(null, '[Missed User Stack]'), ['    [Missed User Stack]']);
  assert.equal(kernelFrameText({ addr: 1n, name: 'cap_capable', offset: 1 }), 'cap_capable+0x1 [kernel]');
  assert.equal(kernelFrameText({ addr: 1n, name: 'nft_do_chain', offset: 0x2a, module: 'nf_tables' }), 'nft_do_chain+0x2a [nf_tables]');
  assert.equal(kernelFrameText({ addr: 1n, name: null, offset: 0 }), '[unknown]');
});

test('--json: the capability by number and name, the verdict and ret, and the stacks only when asked for', () => {
  const ev = decodeCapRecord(record({ ret: -1 }));
  assert.deepEqual(JSON.parse(jsonLine(ev, '22:11:23')), {
    time: '22:11:23', uid: 65534, pid: 4242, tid: 4243, comm: 'nice', cap: 23, name: 'CAP_SYS_NICE', verdict: 'deny', ret: -1,
    audit: null, insetid: null,
  });
  const withStacks = JSON.parse(jsonLine(ev, '22:11:23', { kernel: ['cap_capable+0x1 [kernel]'], user: null }));
  assert.deepEqual([withStacks.kernel_stack, withStacks.user_stack], [['cap_capable+0x1 [kernel]'], null]);
});

test("bcc's options parse; a bad PID is refused", () => {
  const o = parseArgs(spec, ['-v', '-K', '-U', '-x', '--unique', '-p', String(process.pid)]);
  assert.deepEqual([o.verbose, o['kernel-stack'], o['user-stack'], o.extra, o.unique, o.pid], [true, true, true, true, true, process.pid]);
  const plain = parseArgs(spec, []);
  assert.deepEqual([plain.verbose, plain['kernel-stack'], plain.unique, plain.pid], [false, false, false, undefined]);
  assert.throws(() => parseArgs(spec, ['-p', 'abc']), UsageError);
  assert.throws(() => parseArgs(spec, ['-p', '0']), UsageError);
});

test('metric slots: capability by name (number where unnamed, "other" beyond 63) and verdict; zeros left out', () => {
  assert.deepEqual(slotLabels(46), { cap: 'CAP_SYS_NICE', verdict: 'allow' });
  assert.deepEqual(slotLabels(1), { cap: 'CAP_CHOWN', verdict: 'deny' });
  assert.deepEqual(slotLabels(2 * 50 + 1), { cap: '50', verdict: 'deny' });
  assert.deepEqual(slotLabels(2 * (CAP_SLOTS - 1)), { cap: 'other', verdict: 'allow' });
  assert.deepEqual(checkSamples([[47, 3n], [0, 0n], [1, 2n], [46, 5n]]), [
    { cap: 'CAP_CHOWN', verdict: 'deny', value: 2n },
    { cap: 'CAP_SYS_NICE', verdict: 'allow', value: 5n },
    { cap: 'CAP_SYS_NICE', verdict: 'deny', value: 3n },
  ]);
});
