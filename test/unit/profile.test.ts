// profile's output without a kernel: counted keys with stand-in stacks and symbols become bcc's
// header, blocks and folded lines, the JSON objects, the flame graph's stacks and the warning;
// and its options are checked as bcc's argparse checks them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Frame } from 'bcc-node-bindings';
import { parseArgs, UsageError } from '../../lib/run/cli.ts';
import { checkExclusive, spec, type Options } from '../../tools/profile/options.ts';
import { collect, flameStacks, headerLine, jsonStack, missingWarning, stackLines, type CountKey, type Resolver } from '../../tools/profile/output.ts';

const STACKS: Record<number, bigint[]> = {
  1: [0xffffffff81000010n, 0xffffffff81000020n], // kernel: inner, outer
  2: [0x401010n, 0x401100n], // user: burn_cpu, main
  3: [0x401020n, 0x401100n],
};

const resolver = (calls: string[] = []): Resolver => ({
  kernel: (addr) => {
    calls.push(`kernel ${addr.toString(16)}`);
    return addr === 0xffffffff81000010n ? { addr, name: 'asm_sysvec_apic_timer_interrupt', offset: 0 } : { addr, name: 'nf_hook', offset: 4, module: 'nf_tables' };
  },
  user: (pid, addrs) => {
    calls.push(`user ${pid} ${addrs.map((a) => a.toString(16)).join(',')}`);
    return addrs.map((addr): Frame => (addr < 0x401100n ? { addr, name: 'burn_cpu', offset: Number(addr - 0x401000n), module: '/bin/burn' }
      : addr === 0x401100n ? { addr, name: 'main', offset: 0, module: '/bin/burn' } : { addr, name: null, offset: 0 }));
  },
});

const key = (k: Partial<CountKey>): CountKey => ({ pid: 42, tid: 0, user_stack_id: 2, kernel_stack_id: 1, name: 'burn', ...k });
const both = { kernelStacks: true, userStacks: true, perThread: false };

test('each stack id is walked once, each process\'s user addresses named in one batch, kernel addresses once each', () => {
  const calls: string[] = [];
  const walked: number[] = [];
  const c = collect([[key({}), 5n], [key({ user_stack_id: 3 }), 2n], [key({ kernel_stack_id: -14 }), 1n]],
    (id) => { walked.push(id); return STACKS[id]; }, resolver(calls), both);
  assert.deepEqual(walked, [1, 2, 3]);
  assert.deepEqual(calls, ['user 42 401010,401100,401020', 'kernel ffffffff81000010', 'kernel ffffffff81000020']);
  assert.equal(c.addresses, 5);
  assert.equal(c.processes, 1);
  assert.equal(c.missing, 0);
  assert.deepEqual(c.stacks[2].kernel, [], '-EFAULT (a user-mode sample): no kernel frames, not a failure');
});

test("bcc's blocks, sorted by count; -a and -d; -f's folded lines", () => {
  const c = collect([[key({}), 5n], [key({ user_stack_id: 3, kernel_stack_id: -14 }), 2n]], (id) => STACKS[id], resolver(), both);
  assert.equal(stackLines(c.stacks, { folded: false }), [
    '    burn_cpu', '    main', '    -                burn (42)', '        2', '',
    '    asm_sysvec_apic_timer_interrupt', '    nf_hook', '    burn_cpu', '    main', '    -                burn (42)', '        5', '', ''].join('\n'));
  assert.match(stackLines(c.stacks, { folded: false, annotations: true, delimiter: true }),
    /^ {4}asm_sysvec_apic_timer_interrupt_\[k\]\n {4}nf_hook_\[k\]\n {4}--\n {4}burn_cpu\n/m);
  assert.equal(stackLines(c.stacks, { folded: true }), 'burn;main;burn_cpu 2\nburn;main;burn_cpu;nf_hook;asm_sysvec_apic_timer_interrupt 5\n');
  assert.equal(stackLines(c.stacks, { folded: true, delimiter: true }), 'burn;main;burn_cpu 2\nburn;main;burn_cpu;-;nf_hook;asm_sysvec_apic_timer_interrupt 5\n');
  // The flame graph: outermost first, kernel frames marked for its colours.
  assert.deepEqual(flameStacks(c.stacks), [
    { frames: ['burn', 'main', 'burn_cpu', 'nf_hook_[k]', 'asm_sysvec_apic_timer_interrupt_[k]'], value: 5 },
    { frames: ['burn', 'main', 'burn_cpu'], value: 2 },
  ]);
});

test('-U / -K: the other side is neither walked nor printed; unknown frames print as [unknown]', () => {
  const walked: number[] = [];
  const c = collect([[key({ kernel_stack_id: -1, user_stack_id: 4 }), 3n]], (id) => { walked.push(id); return [0x999999n]; }, resolver(), { ...both, kernelStacks: false });
  assert.deepEqual(walked, [4]);
  assert.equal(stackLines(c.stacks, { folded: false }), '    [unknown]\n    -                burn (42)\n        3\n\n');
});

test('failed stack ids: placeholders, and bcc\'s warning, with the storage hint only for a collision', () => {
  const c = collect([[key({ kernel_stack_id: -17 }), 1n], [key({ user_stack_id: -12, kernel_stack_id: -12 }), 1n]], (id) => STACKS[id], resolver(), both);
  assert.equal(c.missing, 3);
  assert.equal(c.collision, true);
  assert.equal(missingWarning(c), 'WARNING: 3 stack traces could not be displayed. Consider increasing --stack-storage-size.');
  assert.equal(missingWarning({ missing: 1, collision: false }), 'WARNING: 1 stack traces could not be displayed.');
  assert.equal(missingWarning({ missing: 0, collision: false }), null);
  assert.match(stackLines(c.stacks, { folded: false }), /^ {4}\[Missed Kernel Stack\]\n {4}burn_cpu\n/);
  assert.match(stackLines(c.stacks, { folded: true }), /^burn;\[Missed User Stack\];\[Missed Kernel Stack\] 1$/m);
});

test('--json: one object per stack, frames with name, offset, module and address; tid when counted per thread', () => {
  const c = collect([[key({ tid: 43 }), 5n]], (id) => STACKS[id], resolver(), { ...both, perThread: true });
  assert.deepEqual(jsonStack(c.stacks[0]), {
    comm: 'burn', pid: 42, tid: 43, value: 5,
    kernel: [
      { name: 'asm_sysvec_apic_timer_interrupt', offset: 0, module: null, addr: '0xffffffff81000010' },
      { name: 'nf_hook', offset: 4, module: 'nf_tables', addr: '0xffffffff81000020' },
    ],
    user: [
      { name: 'burn_cpu', offset: 16, module: '/bin/burn', addr: '0x401010' },
      { name: 'main', offset: 0, module: '/bin/burn', addr: '0x401100' },
    ],
    missed: [],
  });
  const missed = collect([[key({ user_stack_id: -17 }), 1n]], (id) => STACKS[id], resolver(), { ...both, kernelStacks: false });
  assert.deepEqual(jsonStack(missed.stacks[0]), { comm: 'burn', pid: 42, value: 1, kernel: null, user: null, missed: ['user'] });
});

test("bcc's header line, word for word", () => {
  const base = { kernelStacks: true, userStacks: true, cpu: -1, duration: 99999999 };
  assert.equal(headerLine({ ...base, frequency: 49 }), 'Sampling at 49 Hertz of all threads by user + kernel stack... Hit Ctrl-C to end.');
  assert.equal(headerLine({ ...base, frequency: 99, pids: [185, 186], duration: 5 }), 'Sampling at 99 Hertz of PID [185, 186] by user + kernel stack for 5 secs.');
  assert.equal(headerLine({ ...base, period: 1000000, tids: [7], userStacks: false, cpu: 1 }), 'Sampling at every 1000000 events of TID [7] by kernel stack on CPU#1... Hit Ctrl-C to end.');
  assert.equal(headerLine({ ...base, kernelStacks: false, duration: 3 }), 'Sampling at 49 Hertz of all threads by user stack for 3 secs.');
});

const parse = (argv: string[]) => parseArgs(spec, argv) as Options;

test("options: bcc's flags, lists of PIDs, and the exclusive groups", () => {
  const o = parse(['-F', '99', '-p', `${process.pid},${process.pid}`, '-U', '-d', '-a', '-I', '-f', '--stack-storage-size', '100', '5']);
  assert.deepEqual([o.frequency, o.pid, o['user-stacks-only'], o.delimited, o.annotations, o['include-idle'], o.folded, o['stack-storage-size'], o.duration, o.cpu],
    [99, [process.pid], true, true, true, true, true, 100, 5, -1]);
  assert.equal(parse([]).duration, undefined);
  for (const [argv, message] of [
    [['-p', '1', '-L', '1'], 'argument -L/--tid: not allowed with argument -p/--pid'],
    [['-U', '-K'], 'argument -K/--kernel-stacks-only: not allowed with argument -U/--user-stacks-only'],
    [['-F', '9', '-c', '9'], 'argument -c/--count: not allowed with argument -F/--frequency'],
    [['-f', '--json'], '--json and -f/--folded exclude each other'],
  ] as Array<[string[], string]>) {
    assert.throws(() => checkExclusive(parse(argv)), (err: unknown) => err instanceof UsageError && err.message === message);
  }
  assert.throws(() => parse(['-p', '1,x']), /argument -p\/--pid: expected comma-separated integers, got "1,x"/);
  assert.throws(() => parse(['--svg', '/no/such/dir/cpu.svg']), /argument --svg: "\/no\/such\/dir" is not a directory/);
  assert.equal(parse(['--svg', 'cpu.svg']).svg, 'cpu.svg');
});
