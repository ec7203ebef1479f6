// What --explain says about each attach decision (the whole ladder: the winner, the candidates
// that lost and why, the ones after it with what the kernel has or lacks) and about maps, from
// ladders and map descriptions made up here; and that a normal run never checks the candidates
// after the winner (that can cost a /proc/kallsyms read).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAP_TYPE, type MapInfo } from 'bcc-node-bindings';
import { avoidedKinds, chooseAttach, type AttachCandidate } from '../../lib/run/attach-plan.ts';
import { LOCKED_LEGEND, attachLines, bytes, mapLine } from '../../lib/run/explain.ts';

/** A candidate that counts how often its label and availability were looked at. */
function candidate(label: string, reason: string | null, looks: Record<string, number>): AttachCandidate<string> {
  looks[label] = 0;
  return {
    get label() { looks[label]++; return label; },
    unavailable: () => { looks[label]++; return reason; },
    value: label,
  };
}

test('when the first choice wins, --explain says so and names each candidate after it with what the kernel lacks', () => {
  const looks: Record<string, number> = {};
  const { value, choice } = chooseAttach('exec entry', [
    candidate('tracepoint syscalls:sys_enter_execve', null, looks),
    candidate('kprobe __x64_sys_execve', 'this kernel has no kprobes', looks),
    candidate('fentry __x64_sys_execve', 'this kernel refuses fentry/fexit (EPERM)', looks),
    candidate('raw tracepoint sys_enter', null, looks),
  ]);
  assert.equal(value, 'tracepoint syscalls:sys_enter_execve');
  assert.deepEqual(choice.rejected, []);
  assert.deepEqual(looks, {
    'tracepoint syscalls:sys_enter_execve': 2, 'kprobe __x64_sys_execve': 0, 'fentry __x64_sys_execve': 0, 'raw tracepoint sys_enter': 0,
  }, 'chooseAttach looks at nothing after the winner');

  const expected = [
    'attach points (candidates best first; the first one this kernel has wins):',
    '  exec entry: tracepoint syscalls:sys_enter_execve',
    '    chosen: the first choice, and this kernel has it',
    '    fallback kprobe __x64_sys_execve: this kernel has no kprobes',
    '    fallback fentry __x64_sys_execve: this kernel refuses fentry/fexit (EPERM)',
    '    fallback raw tracepoint sys_enter: would also work here',
  ];
  assert.deepEqual(attachLines([choice]), expected);
  assert.deepEqual(attachLines([choice]), expected, 'printed twice, the same');
  assert.deepEqual(looks, {
    'tracepoint syscalls:sys_enter_execve': 2, 'kprobe __x64_sys_execve': 2, 'fentry __x64_sys_execve': 2, 'raw tracepoint sys_enter': 2,
  }, 'the candidates after the winner are checked once, when --explain prints');
});

test('when a later choice wins, --explain lists the losers with their reasons, then the winner, then the rest', () => {
  const looks: Record<string, number> = {};
  const { choice } = chooseAttach('I/O completion', [
    candidate('raw tracepoint block_rq_complete', 'excluded by BPFKIT_BIOLATENCY_AVOID', looks),
    candidate('tracepoint block:block_rq_complete', null, looks),
    candidate('kprobe blk_account_io_done', 'this kernel has no kprobes', looks),
  ]);
  assert.deepEqual(choice.rejected, [{ label: 'raw tracepoint block_rq_complete', reason: 'excluded by BPFKIT_BIOLATENCY_AVOID' }]);
  assert.equal(looks['kprobe blk_account_io_done'], 0);
  assert.deepEqual(attachLines([choice]), [
    'attach points (candidates best first; the first one this kernel has wins):',
    '  I/O completion: tracepoint block:block_rq_complete',
    '    not raw tracepoint block_rq_complete: excluded by BPFKIT_BIOLATENCY_AVOID',
    '    chosen: the first choice this kernel has',
    '    fallback kprobe blk_account_io_done: this kernel has no kprobes',
  ]);
});

test('a candidate that cannot be checked when --explain prints is shown as such, and the run goes on', () => {
  const { choice } = chooseAttach('exec entry', [
    { label: 'tracepoint syscalls:sys_enter_execve', unavailable: () => null, value: 1 },
    { get label(): string { throw new Error('/proc/kallsyms: permission denied'); }, unavailable: () => null, value: 2 },
    { label: 'kprobe do_execve', unavailable: () => { throw new Error('tracefs: permission denied'); }, value: 3 },
  ]);
  assert.deepEqual(attachLines([choice]).slice(3), [
    '    fallback (unnamed candidate): could not tell: /proc/kallsyms: permission denied',
    '    fallback kprobe do_execve: could not tell: tracefs: permission denied',
  ]);
});

test('choices not made by chooseAttach print as they are, without a ladder', () => {
  assert.deepEqual(attachLines([
    { purpose: 'flag names (-F)', chosen: 'the running kernel\'s BTF', rejected: [] },
    { purpose: 'requeue', chosen: 'none (no way to trace requeue on this kernel)', rejected: [] },
  ]), [
    'attach points (candidates best first; the first one this kernel has wins):',
    '  flag names (-F): the running kernel\'s BTF',
    '  requeue: none (no way to trace requeue on this kernel)',
  ]);
  assert.deepEqual(attachLines([]), []);
});

test('with no usable candidate chooseAttach fails naming every reason', () => {
  assert.throws(() => chooseAttach('exec entry', [
    { label: 'kprobe do_execve', unavailable: () => 'this kernel has no kprobes', value: 1 },
    { label: 'fentry do_execve', unavailable: () => 'this kernel refuses fentry/fexit', value: 2 },
  ]), { code: 'NOT_SUPPORTED', message: 'no way to trace exec entry on this kernel: kprobe do_execve: this kernel has no kprobes; fentry do_execve: this kernel refuses fentry/fexit' });
});

const map = (m: Partial<MapInfo>): MapInfo => ({
  type: MAP_TYPE.HASH, id: 7, keySize: 4, valueSize: 8, maxEntries: 10240, flags: 0, name: 'x', memlockBytes: 1000448, ...m,
});

test('a ring buffer is sized in bytes (its max_entries), other maps in entries; both say what is locked', () => {
  assert.equal(mapLine('events', map({ type: MAP_TYPE.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 524288, memlockBytes: 538944 })),
    '  map id 7 events: ringbuf, 512 KiB ring buffer, 526.3 KiB locked');
  assert.equal(mapLine('events', map({ type: MAP_TYPE.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4 << 20, memlockBytes: 4 << 20 })),
    '  map id 7 events: ringbuf, 4 MiB ring buffer, 4 MiB locked');
  assert.equal(mapLine('pending', map({})), '  map id 7 pending: hash, key 4 B, value 8 B, max 10240 entries, 977 KiB locked');
  assert.equal(mapLine('odd', map({ type: 999, memlockBytes: 320 })), '  map id 7 odd: type 999, key 4 B, value 8 B, max 10240 entries, 320 B locked');
  assert.equal(LOCKED_LEGEND,
    'locked: kernel memory a program or map pins (never swapped out), charged to the memlock limit or the memory cgroup');
});

test('sizes print whole when whole, else to one decimal', () => {
  assert.deepEqual([0, 1023, 1024, 1536, 12595, 1 << 20, 1100000].map(bytes), ['0 B', '1023 B', '1 KiB', '1.5 KiB', '12.3 KiB', '1 MiB', '1.0 MiB']);
});

test('BPFKIT_AVOID rules out candidates of the kinds it names (marked, or named by their labels), and --explain says so; words that are not kinds are ignored', () => {
  assert.deepEqual([...avoidedKinds({ BPFKIT_AVOID: 'fentry, tracepoint,bogus' })], ['tracepoint', 'fentry']);
  assert.deepEqual([...avoidedKinds({})], []);
  const saved = process.env.BPFKIT_AVOID;
  process.env.BPFKIT_AVOID = 'tracepoint,fentry';
  try {
    const { value, choice } = chooseAttach('bytes', [
      { label: 'tracepoints sock:sock_send_length', unavailable: () => null, value: 'tp' },
      { label: 'the socket layer', kind: 'fentry', unavailable: () => null, value: 'marked' },
      { label: 'kprobes on tcp_sendmsg', unavailable: () => null, value: 'kprobe' },
      { label: 'fexit tcp_sendmsg', unavailable: () => null, value: 'fexit' },
      { label: 'ring buffer', unavailable: () => null, value: 'no kind' },
    ]);
    assert.equal(value, 'kprobe');
    assert.deepEqual(choice.rejected, [
      { label: 'tracepoints sock:sock_send_length', reason: 'excluded by BPFKIT_AVOID=tracepoint,fentry' },
      { label: 'the socket layer', reason: 'excluded by BPFKIT_AVOID=tracepoint,fentry' },
    ]);
    assert.deepEqual(choice.fallbacks!(), [
      { label: 'fexit tcp_sendmsg', reason: 'excluded by BPFKIT_AVOID=tracepoint,fentry' },
      { label: 'ring buffer', reason: null },
    ]);
  } finally {
    if (saved === undefined) delete process.env.BPFKIT_AVOID;
    else process.env.BPFKIT_AVOID = saved;
  }
});
