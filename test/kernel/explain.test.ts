// --explain run through the real tools: each attach decision shows its whole ladder (the winner,
// why it won, and the candidates after it with what this kernel has or lacks), ring buffers are
// sized in bytes, and one line says what "locked" memory is. What the kernel lacks is asked of
// the binding's own probes, so the expected lines are this kernel's (here: no kprobes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kprobesAvailable } from 'bcc-node-bindings';
import { syscallFunction } from '../../lib/kernel/kallsyms.ts';
import { LOCKED_LEGEND } from '../../lib/run/explain.ts';
import { needsBpf } from '../helpers/kernel.ts';
import { runToolToEnd, startTool } from '../helpers/tool.ts';

const HEADER = 'attach points (candidates best first; the first one this kernel has wins):';
const FIRST_WINS = '    chosen: the first choice, and this kernel has it';

/** The lines from `  <purpose>: ...` up to the next decision or section. */
function ladder(stderr: string, purpose: string): string[] {
  const lines = stderr.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`  ${purpose}: `));
  assert.ok(start >= 0, `no "${purpose}" decision in:\n${stderr}`);
  const end = lines.findIndex((l, i) => i > start && !l.startsWith('    '));
  return lines.slice(start, end < 0 ? lines.length : end);
}

function kprobeFallback(syscall: string): string {
  if (!kprobesAvailable()) return `    fallback kprobe and kretprobe on ${syscallFunction(syscall)}: this kernel has no kprobes`;
  return `    fallback kprobe and kretprobe on ${syscallFunction(syscall)}: would also work here`;
}

test('syscount --explain -d 1 shows the ladder of its syscall hook, the candidate after the winner included', async (t) => {
  if (!needsBpf(t)) return;
  const { code, stderr } = await runToolToEnd('syscount', ['--explain', '-d', '1']);
  assert.equal(code, 0, stderr);
  assert.ok(stderr.split('\n').includes(HEADER), stderr);
  assert.deepEqual(ladder(stderr, 'syscall enter'), [
    '  syscall enter: raw tracepoint sys_enter',
    FIRST_WINS,
    '    fallback tracepoint raw_syscalls:sys_enter: would also work here',
  ]);
  assert.match(stderr, /^ {2}map id \d+ counts: percpu_array, key 4 B, value 8 B, max \d+ entries, [\d.]+ (B|KiB|MiB) locked$/m);
  assert.ok(stderr.split('\n').includes(LOCKED_LEGEND), stderr);
});

test('execsnoop --explain shows every decision\'s ladder and sizes its ring buffer in bytes', async (t) => {
  if (!needsBpf(t)) return;
  const run = startTool('execsnoop', ['--explain']);
  let code: number;
  try {
    await run.ready;
  } finally {
    code = await run.stop('SIGINT');
  }
  assert.equal(code, 0, run.stderr);
  assert.deepEqual(ladder(run.stderr, 'successful exec()s'), [
    '  successful exec()s: tracepoint sched:sched_process_exec',
    FIRST_WINS,
    '    fallback the exit of execve/execveat, hooked as below: would also work here',
  ]);
  assert.deepEqual(ladder(run.stderr, 'event records'), [
    '  event records: ring buffer',
    FIRST_WINS,
    '    fallback perf buffer: would also work here',
  ]);
  // bcc-node-bindings sizes it in pages, a power of two: always a whole number of KiB.
  assert.match(run.stderr, /^ {2}map id \d+ events: ringbuf, \d+ KiB ring buffer, [\d.]+ (KiB|MiB) locked$/m);
  assert.doesNotMatch(run.stderr, /ringbuf, key/);
  assert.ok(run.stderr.split('\n').includes(LOCKED_LEGEND), run.stderr);
});

test('execsnoop -x --explain names the kprobe after the syscall tracepoints, with what this kernel lacks', async (t) => {
  if (!needsBpf(t)) return;
  const run = startTool('execsnoop', ['-x', '--explain']);
  let code: number;
  try {
    await run.ready;
  } finally {
    code = await run.stop('SIGINT');
  }
  assert.equal(code, 0, run.stderr);
  assert.deepEqual(ladder(run.stderr, 'failed execve()'), [
    '  failed execve(): tracepoints syscalls:sys_enter_execve and sys_exit_execve',
    FIRST_WINS,
    kprobeFallback('execve'),
  ]);
  assert.deepEqual(ladder(run.stderr, 'failed execveat()'), [
    '  failed execveat(): tracepoints syscalls:sys_enter_execveat and sys_exit_execveat',
    FIRST_WINS,
    kprobeFallback('execveat'),
    '    fallback nothing (no execveat hook on this kernel): would also work here',
  ]);
});
