// offcputime's options and output without a kernel: bcc's header, blocks, folded lines, JSON, the
// lost-stacks warning, the metrics' sums, and the refusals of bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../../lib/run/cli.ts';
import { MISSED } from '../../lib/output/stacks.ts';
import { checkExclusive, spec, type Options } from '../../tools/offcputime/options.ts';
import { framesOf, headerLine, jsonLines, lostStacks, lostWarning, reportText, stackContext, threadContext, type OffcpuSample } from '../../tools/offcputime/output.ts';
import { secondsByComm } from '../../tools/offcputime/metrics.ts';
import { withoutProbeFrames } from '../../tools/offcputime/symbols.ts';

const sleeper: OffcpuSample = {
  comm: 'sleeper', pid: 101, tgid: 100, value: 1002345,
  kernel: ['__schedule', 'schedule', 'do_nanosleep'], user: ['sleep_in_nanosleep', 'main'],
};
const reader: OffcpuSample = { comm: 'cat', pid: 7, tgid: 7, value: 15, kernel: ['schedule'], user: MISSED };

test('the header says what is traced and for how long, as bcc does', () => {
  assert.equal(headerLine(threadContext({}), stackContext({ user: true, kernel: true })),
    'Tracing off-CPU time (us) of all threads by user + kernel stack... Hit Ctrl-C to end.');
  assert.equal(headerLine(threadContext({ pid: 185 }), stackContext({ user: false, kernel: true }), 5),
    'Tracing off-CPU time (us) of PID 185 by kernel stack for 5 secs.');
  assert.equal(threadContext({ tid: 188 }), 'TID 188');
  assert.equal(threadContext({ userThreads: true }), 'user threads');
  assert.equal(threadContext({ kernelThreads: true }), 'kernel threads');
  assert.equal(stackContext({ user: true, kernel: false }), 'user');
});

test('blocks: a blank line, then smallest total first, kernel frames over user frames', () => {
  assert.equal(reportText([sleeper, reader], false, {}), [
    '',
    '    schedule', '    [Missed User Stack]', '    -                cat (7)', '        15', '',
    '    __schedule', '    schedule', '    do_nanosleep', '    sleep_in_nanosleep', '    main', '    -                sleeper (101)', '        1002345', '', '',
  ].join('\n'));
  assert.match(reportText([sleeper], false, { delimiter: true }), /do_nanosleep\n {4}--\n {4}sleep_in_nanosleep/);
  assert.equal(reportText([], false, {}), '\n');
});

test('-f: one folded line per stack, outermost first, user frames before kernel ones', () => {
  assert.equal(reportText([sleeper, reader], true, {}),
    'cat;[Missed User Stack];schedule 15\nsleeper;main;sleep_in_nanosleep;do_nanosleep;schedule;__schedule 1002345\n');
  assert.equal(reportText([sleeper], true, { delimiter: true }), 'sleeper;main;sleep_in_nanosleep;-;do_nanosleep;schedule;__schedule 1002345\n');
});

test('--json: one object per stack, null for a stack not walked, the missed marker for a lost one', () => {
  assert.deepEqual(jsonLines([sleeper, { ...reader, user: null }]).map((l) => JSON.parse(l)), [
    { comm: 'cat', pid: 7, tgid: 7, kernel_stack: ['schedule'], user_stack: null, us: 15 },
    { comm: 'sleeper', pid: 101, tgid: 100, kernel_stack: ['__schedule', 'schedule', 'do_nanosleep'], user_stack: ['sleep_in_nanosleep', 'main'], us: 1002345 },
  ]);
  assert.deepEqual(JSON.parse(jsonLines([reader])[0]).user_stack, ['[Missed User Stack]']);
});

test('stack ids: -EFAULT (a kernel thread\'s user stack) is an empty stack, other errors are lost, -1 is not walked', () => {
  const walk = (id: number) => [`frame${id}`];
  assert.deepEqual(framesOf(3, true, walk), ['frame3']);
  assert.deepEqual(framesOf(-14, true, walk), []);
  assert.equal(framesOf(-17, true, walk), MISSED);
  assert.equal(framesOf(-1, false, walk), null);
  const keys = [
    { pid: 1, tgid: 1, user_stack_id: -17, kernel_stack_id: 2, name: 'a' },
    { pid: 2, tgid: 2, user_stack_id: -14, kernel_stack_id: -12, name: 'b' },
  ];
  assert.deepEqual(lostStacks(keys, { user: true, kernel: true }), { stacks: 2, enomem: true });
  assert.deepEqual(lostStacks(keys, { user: false, kernel: true }), { stacks: 1, enomem: true });
  assert.equal(lostWarning({ stacks: 2, enomem: true }), 'WARNING: 2 stack traces lost and could not be displayed. Consider increasing --stack-storage-size.');
  assert.equal(lostWarning({ stacks: 1, enomem: false }), 'WARNING: 1 stack traces lost and could not be displayed.');
  assert.equal(lostWarning({ stacks: 0, enomem: false }), null);
});

test('metrics: µs summed per command over threads and stacks', () => {
  const k = (name: string, pid: number) => ({ pid, tgid: pid, user_stack_id: 1, kernel_stack_id: 2, name });
  assert.deepEqual([...secondsByComm([[k('a', 1), 5n], [k('b', 2), 7n], [k('a', 3), 10n]])], [['a', 15n], ['b', 7n]]);
});

const parse = (args: string[]) => {
  const o = parseArgs(spec, args) as unknown as Options;
  checkExclusive(o);
  return o;
};

test('options: bcc\'s names and defaults; duration positional', () => {
  const o = parse(['-f', '-K', '-m', '1000', '-M', '5000', '--state', '0', '--stack-storage-size', '2048', '7']);
  assert.deepEqual([o.folded, o['kernel-stacks-only'], o['min-block-time'], o['max-block-time'], o.state, o['stack-storage-size'], o.duration],
    [true, true, 1000, 5000, 0, 2048, 7]);
  const d = parse([]);
  assert.deepEqual([d['min-block-time'], d['max-block-time'], d.state, d['stack-storage-size'], d.duration], [1, undefined, undefined, 1024, undefined]);
  assert.equal(parse(['-p', String(process.pid)]).pid, process.pid);
});

test('bad input is refused in one line: exclusive groups, -k with -U, ranges, --svg into no directory', () => {
  const refuses = (args: string[], message: RegExp) => assert.throws(() => parse(args), (e: unknown) => e instanceof UsageError && message.test(e.message), args.join(' '));
  refuses(['-p', String(process.pid), '-t', String(process.pid)], /^argument -t\/--tid: not allowed with argument -p\/--pid$/);
  refuses(['-u', '-k'], /not allowed with argument -u/);
  refuses(['-U', '-K'], /^argument -K\/--kernel-stacks-only: not allowed with argument -U\/--user-stacks-only$/);
  refuses(['-k', '-U'], /user stacks for kernel threads/);
  refuses(['-m', '0'], /-m\/--min-block-time/);
  refuses(['-m', '100', '-M', '10'], /below -m/);
  refuses(['--state', '-1'], /--state|option -1/);
  refuses(['--state', 'x"); foo();//'], /--state/);
  refuses(['--stack-storage-size', '0'], /--stack-storage-size/);
  refuses(['0'], /duration/);
  refuses(['--svg', '/nonexistent-dir/x.svg'], /no such directory/);
});

test('the raw tracepoint\'s own frames (our program, the kernel\'s glue) are left off the top of kernel stacks', () => {
  assert.deepEqual(withoutProbeFrames(['bpf_prog_4879db7171a5f1d8_raw_tracepoint_', 'bpf_trace_run4', '__schedule', 'schedule']), ['__schedule', 'schedule']);
  assert.deepEqual(withoutProbeFrames(['__schedule', 'bpf_trace_run4']), ['__schedule', 'bpf_trace_run4']);
});
