// offcputime against the real kernel: a child sleeps exactly 20 × 50 ms in nanosleep(2) from its
// own function, and every output form (blocks, folded, JSON, flame graph) shows that stack with
// 1.0 s off CPU; filters that exclude those sleeps (--state 2, -m) show none of it. Other tests
// run meanwhile: everything is matched by the child's PID.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BPF, PROG_TYPE, kprobesAvailable, rawTracepointSupported, tracepointExists } from 'bcc-node-bindings';
import { needsBpf } from '../helpers/kernel.ts';
import { explainedRun, firstUsable } from '../helpers/attach.ts';
import { startInTest } from '../helpers/tool.ts';
import { workload } from '../helpers/workloads.ts';
import { buildProgram } from '../../lib/run/program.ts';
import { liveKernel } from '../../lib/kernel/view.ts';
import { kernelFunctionExists } from '../../lib/kernel/kallsyms.ts';
import { configureOffcputime, FINISH_TASK_SWITCH, type OffcputimeConfig, type SwitchHook } from '../../tools/offcputime/program.ts';

const N = 20;
const MS = 50;
// comm is the binary's name cut to 15 characters.
const COMM = 'offcputime-slee';

interface Block { frames: string[]; comm: string; pid: number; value: number }

/** bcc's blocks: frames, then "-  comm (pid)", then the value; separated by blank lines. */
function textBlocks(stdout: string): Block[] {
  const blocks: Block[] = [];
  for (const chunk of stdout.split('\n\n').slice(1)) {
    const lines = chunk.split('\n').filter(Boolean);
    const owner = /^ {4}- {16}(.*) \((\d+)\)$/.exec(lines.at(-2) ?? '');
    if (!owner) continue;
    blocks.push({ frames: lines.slice(0, -2).map((l) => l.slice(4)), comm: owner[1], pid: Number(owner[2]), value: Number(lines.at(-1)!.trim()) });
  }
  return blocks;
}

function foldedLines(stdout: string): Array<{ frames: string[]; value: number }> {
  return stdout.split('\n').filter(Boolean).map((line) => {
    const m = /^(.*) (\d+)$/.exec(line);
    assert.ok(m, `not a folded line: ${line}`);
    return { frames: m[1].split(';'), value: Number(m[2]) };
  });
}

const inNanosleep = (frames: readonly string[]) => frames.some((f) => /nanosleep/.test(f) && f !== 'sleep_in_nanosleep') && frames.includes('sleep_in_nanosleep');
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

test('a child sleeping 20 × 50 ms in nanosleep: 1.0 s off CPU on its nanosleep stack in blocks, folded lines, JSON and the flame graph; --state 2 and -m 60000 exclude it', async (t) => {
  if (!needsBpf(t)) return;
  const child = spawn(workload('offcputime-sleeper'), [String(N), String(MS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  while (!/^ready \d+$/m.test(out)) {
    assert.equal(child.exitCode, null, 'the sleeper ended before it was ready');
    await new Promise((r) => setTimeout(r, 10));
  }
  const pid = Number(/^ready (\d+)$/m.exec(out)![1]);
  const svg = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'offcputime-')), 'offcpu.svg');
  t.after(() => fs.rmSync(path.dirname(svg), { recursive: true, force: true }));

  const text = startInTest(t, 'offcputime', ['-p', String(pid)]);
  const folded = startInTest(t, 'offcputime', ['-f', '-t', String(pid), '--svg', svg]);
  const json = startInTest(t, 'offcputime', ['--json', '-p', String(pid)]);
  // All threads' stacks share the stack map, and a new stack whose hash slot another holds is
  // lost (as in bcc): this run looks at who is counted, not at stacks.
  const userThreads = startInTest(t, 'offcputime', ['-f', '-u', '-K']);
  const uninterruptible = startInTest(t, 'offcputime', ['-f', '-p', String(pid), '--state', '2']);
  const longer = startInTest(t, 'offcputime', ['-f', '-p', String(pid), '-m', String((MS + 10) * 1000)]);
  const runs = [text, folded, json, userThreads, uninterruptible, longer];
  await Promise.all(runs.map((r) => r.ready));
  child.stdin!.write('go\n');
  while (!/^done \d+ \d+$/m.test(out)) {
    assert.equal(child.exitCode, null, 'the sleeper ended before its sleeps were done');
    await new Promise((r) => setTimeout(r, 20));
  }
  const wallUs = Number(/^done \d+ (\d+)$/m.exec(out)![1]) / 1000;
  for (const run of runs) assert.equal(await run.stop('SIGINT'), 0, run.stderr);
  child.stdin!.end();

  // Each sleep is off CPU from the switch after its timer was armed (a few µs in) until it runs
  // again: at least 50 ms less those µs, at most the call's whole time; and the calls' time
  // less their few µs on CPU, so within 5% of what the child measured (on a loaded machine
  // each 50 ms sleep may last 55, so the nominal 1.0 s is not the reference).
  const low = N * (MS * 1000 - 20);
  const within = (total: number, what: string) => {
    assert.ok(total >= low && total <= wallUs, `${what}: ${total} µs, expected ${low}..${wallUs}`);
    assert.ok(total >= 0.95 * wallUs, `${what}: ${total} µs is not the sleeps' ${wallUs} µs within 5%`);
  };

  assert.equal(text.stdout.split('\n')[0], `Tracing off-CPU time (us) of PID ${pid} by user + kernel stack... Hit Ctrl-C to end.`);
  const blocks = textBlocks(text.stdout);
  assert.ok(blocks.length > 0 && blocks.every((b) => b.comm === COMM && b.pid === pid), text.stdout);
  const values = blocks.map((b) => b.value);
  assert.deepEqual(values, [...values].sort((a, b) => a - b), 'sorted by total, smallest first');
  within(sum(blocks.filter((b) => inNanosleep(b.frames)).map((b) => b.value)), 'blocks');

  const lines = foldedLines(folded.stdout);
  assert.ok(lines.every((l) => l.frames[0] === COMM), folded.stdout);
  within(sum(lines.filter((l) => inNanosleep(l.frames)).map((l) => l.value)), 'folded');
  const picture = fs.readFileSync(svg, 'utf8');
  assert.match(picture, /<svg[^>]*>/);
  assert.match(picture, /<\/svg>\s*$/);
  assert.ok(picture.includes('sleep_in_nanosleep'), 'the flame graph names the sleeping function');

  const objects = json.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { comm: string; pid: number; tgid: number; kernel_stack: string[]; user_stack: string[]; us: number });
  assert.ok(objects.every((o) => o.tgid === pid), json.stdout);
  const mine = objects.filter((o) => o.user_stack.includes('sleep_in_nanosleep'));
  assert.ok(mine.length > 0, json.stdout);
  for (const o of mine) {
    assert.equal(o.pid, pid);
    assert.equal(o.comm, COMM);
    assert.equal(o.user_stack[0], 'sleep_in_nanosleep', 'the user stack starts in the function that made the call');
    assert.ok(o.kernel_stack.some((f) => /^(__x64_sys_|__arm64_sys_)?(clock_)?nanosleep$|^(hrtimer|do)_nanosleep$/.test(f)), o.kernel_stack.join('\n'));
    assert.ok(o.kernel_stack.includes('schedule'), o.kernel_stack.join('\n'));
  }
  within(sum(mine.map((o) => o.us)), 'json');

  // -u: the sleeper and other user threads, no kernel thread (they block all the time, so an
  // idle machine's kworker/, ksoftirqd/ and rcu_ threads would be there without it).
  const counted = foldedLines(userThreads.stdout).map((l) => l.frames[0]);
  assert.ok(counted.includes(COMM), userThreads.stdout);
  assert.deepEqual(counted.filter((comm) => /^(kworker\/|ksoftirqd\/|migration\/|rcu_|kthreadd$|swapper\/)/.test(comm)), []);

  // nanosleep sleeps interruptibly (TASK_INTERRUPTIBLE, 1), and each sleep is under 60 ms.
  assert.equal(foldedLines(uninterruptible.stdout).filter((l) => inNanosleep(l.frames)).length, 0, uninterruptible.stdout);
  assert.equal(foldedLines(longer.stdout).filter((l) => inNanosleep(l.frames)).length, 0, longer.stdout);
});

test('offcputime --explain picks the attach points this kernel offers', async (t) => {
  if (!needsBpf(t)) return;
  const { chosen, stderr } = await explainedRun(t, 'offcputime', []);
  assert.deepEqual(chosen, {
    'context switches': firstUsable('context switches', [
      ['tracepoint sched:sched_switch', () => tracepointExists('sched', 'sched_switch')],
      ['raw tracepoint sched_switch', () => rawTracepointSupported()],
      [() => `kprobe ${FINISH_TASK_SWITCH.find(kernelFunctionExists)} (bcc's)`, () => kprobesAvailable() && FINISH_TASK_SWITCH.some(kernelFunctionExists)],
    ]),
  }, stderr);
});

test('the fallbacks compile and pass this kernel\'s verifier: the raw tracepoint, and bcc\'s kprobe loaded as one', async (t) => {
  if (!needsBpf(t)) return;
  const live = liveKernel();
  const cases: Array<[SwitchHook, Partial<typeof live>, string, number]> = [
    ['HOOK_TP', {}, 'tracepoint__sched__sched_switch', PROG_TYPE.TRACEPOINT],
    ['HOOK_RAW_TP', { tracepoint: () => false }, 'raw_tracepoint__sched_switch', PROG_TYPE.RAW_TRACEPOINT],
    ['HOOK_KPROBE', { tracepoint: () => false, rawTracepoints: () => false, kprobes: () => true, kernelFunction: (f) => f === 'finish_task_switch.isra.0' }, 'oncpu', PROG_TYPE.KPROBE],
  ];
  const configs: OffcputimeConfig[] = [
    { stacks: 'both', minBlockUs: 1, stackStorageSize: 1024 },
    { tgid: process.pid, threads: undefined, stacks: 'user', minBlockUs: 1000, maxBlockUs: 5000, state: 2, stackStorageSize: 16 },
    { threads: 'user', stacks: 'kernel', minBlockUs: 1, state: 0, stackStorageSize: 1024 },
    { tid: process.pid, threads: undefined, stacks: 'both', minBlockUs: 1, stackStorageSize: 1024 },
    { threads: 'kernel', stacks: 'kernel', minBlockUs: 1, stackStorageSize: 1024 },
  ];
  for (const config of configs) {
    for (const [hook, overrides, fn, type] of cases) {
      const program = configureOffcputime(config, { ...live, ...overrides });
      assert.equal(program.hook, hook);
      const p = buildProgram(program);
      const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
      try {
        assert.deepEqual(bpf.functionNames(), [fn]);
        assert.ok(bpf.loadFunc(fn, type).fd >= 0, `${hook} ${JSON.stringify(config)}`);
      } finally {
        bpf.close();
      }
    }
  }
});
