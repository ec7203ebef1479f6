// cpudist against the real kernel, filtered to workloads whose scheduling the kernel itself counts:
// spinning children pinned to one CPU (their /proc schedstat: time on CPU and times switched in),
// and a sleeper of known sleeps for -O.
import fs from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { BPF, formatLog2Sections, PROG_TYPE, rawTracepointSupported, tracepointExists } from 'bcc-node-bindings';
import { needsBpf } from '../helpers/kernel.ts';
import { explainedRun, firstUsable } from '../helpers/attach.ts';
import { startInTest } from '../helpers/tool.ts';
import { workload } from '../helpers/workloads.ts';
import { buildProgram } from '../../lib/run/program.ts';
import { liveKernel } from '../../lib/kernel/view.ts';
import { configureCpudist, type CpudistConfig } from '../../tools/cpudist/program.ts';

interface Child { pid: number; runNs: number; slices: number; excludedNs: number }

/**
 * Time the CPU spent stolen by the hypervisor or in interrupts (/proc/stat's steal, irq, softirq
 * of that CPU, in ns): the task clock behind RUN_NS leaves it out, the tool's clock does not.
 */
function excludedNs(cpu: number): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`cpu${cpu} `)) ?? '';
  const f = line.trim().split(/\s+/).map(Number);
  // USER_HZ ticks (100 a second): 10 ms each.
  return (f[6] + f[7] + f[8]) * 10_000_000;
}

/** Runs a spinning workload (spin-pinned or cpudist-spin) on the last CPU: its children's schedstat lines. */
async function spin(name: string, seconds: number, n: number): Promise<Child[]> {
  const cpu = Math.max(0, liveKernel().cpus() - 1);
  const before = excludedNs(cpu);
  const { stdout } = await promisify(execFile)(workload(name), [String(cpu), String(seconds), String(n)]);
  // Two ticks more: the counters move in whole ticks at both ends of the window.
  const excluded = excludedNs(cpu) - before + 20_000_000;
  return [...stdout.matchAll(/^child (\d+) (\d+) (\d+) (\d+)$/gm)].map((m) => ({ pid: Number(m[1]), runNs: Number(m[2]), slices: Number(m[4]), excludedNs: excluded }));
}

type Json = { pid: number; count: number; sum_ns: number; val_type: string; data: Array<{ 'interval-start': number; count: number }> };
const jsonLines = (stdout: string): Json[] => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Json);

/**
 * The bound between the tool's sum of a child's slices and the kernel's RUN_NS. The kernel adds up
 * rq_clock_task deltas taken in update_curr, a few instructions before the sched_switch tracepoint
 * at both ends of a slice: per slice the two differ by the time between those points on either
 * side, microseconds at most. And with CONFIG_PARAVIRT_TIME_ACCOUNTING (this VM) the task clock
 * leaves out time the hypervisor stole (and, with IRQ_TIME_ACCOUNTING, interrupts), which the
 * tool's bpf_ktime_get_ns includes: below 1% of the run on a quiet VM, and on a busy host at most
 * what /proc/stat counted for the CPU meanwhile (excludedNs), by which the tool's sum may exceed.
 */
const sumBound = (c: Child) => c.runNs / 100 + c.slices * 20_000;
const sumFits = (sum: number, c: Child, slack = 0) =>
  c.runNs - sum <= sumBound(c) + slack && sum - c.runNs <= sumBound(c) + c.excludedNs + slack;

test('-P counts exactly the on-CPU slices each pinned child had, and their sum is its run time (cpudist-spin: final schedstat)', async (t) => {
  if (!needsBpf(t)) return;
  const run = startInTest(t, 'cpudist', ['-P', '--json']);
  await run.ready;
  const children = await spin('cpudist-spin', 1, 2);
  assert.equal(await run.stop('SIGINT'), 0, run.stderr);
  assert.equal(children.length, 2);
  const lines = jsonLines(run.stdout);
  // Less only what the kernel says it skipped: a sched_switch whose program did not run (a
  // recursion miss, "N events not traced" at the end) ends no slice. A loaded CI run saw 127 of 128.
  const missed = Number(/(\d+) events not traced/.exec(run.stderr)?.[1] ?? 0);
  for (const c of children) {
    const mine = lines.filter((l) => l.pid === c.pid);
    assert.equal(mine.length, 1, `one histogram for ${c.pid}`);
    // The parent read the zombie's schedstat: SLICES counts every switch-in of its whole life, and
    // each slice ended (the last one at exit), so each is one observation.
    const count = mine[0].count;
    assert.ok(count <= c.slices && count >= c.slices - missed, `${count} of ${c.slices} slices of ${c.pid}, ${missed} missed runs reported\n${run.stderr}`);
    assert.equal(mine[0].data.reduce((n, d) => n + d.count, 0), count);
    // A missed slice's length is unknown: then the sum is bounded from above only.
    if (count === c.slices) assert.ok(sumFits(mine[0].sum_ns, c), `sum ${mine[0].sum_ns} ns vs RUN_NS ${c.runNs} (excluded ${c.excludedNs})`);
    else assert.ok(mine[0].sum_ns - c.runNs <= sumBound(c) + c.excludedNs, `sum ${mine[0].sum_ns} ns vs RUN_NS ${c.runNs}`);
  }
});

test('-P with spin-pinned: SLICES counted by each child while it still ran is at most one fewer than the slices it ended', async (t) => {
  if (!needsBpf(t)) return;
  const run = startInTest(t, 'cpudist', ['-P', '--json']);
  await run.ready;
  const children = await spin('spin-pinned', 1, 2);
  assert.equal(await run.stop('SIGINT'), 0, run.stderr);
  const lines = jsonLines(run.stdout);
  for (const c of children) {
    const [mine] = lines.filter((l) => l.pid === c.pid);
    // SLICES includes the slice in which the child read it, which ends later (at its exit): counted
    // by both. A preemption after the read (the parent, woken on the same CPU when the child exits,
    // may take it) adds one slice the child never saw: count is SLICES or SLICES + 1.
    assert.ok(mine.count === c.slices || mine.count === c.slices + 1, `count ${mine.count}, SLICES ${c.slices}`);
    // The time after the read (printf, exit) is on-CPU too: a few ms at most on top of the bound.
    assert.ok(mine.sum_ns >= c.runNs - sumBound(c) && mine.sum_ns <= c.runNs + sumBound(c) + c.excludedNs + 5e6, `sum ${mine.sum_ns} vs ${c.runNs} (excluded ${c.excludedNs})`);
  }
});

test('-O -m -p PID: each of N 20 ms sleeps is one off-CPU period in the 16 -> 31 msecs bucket', async (t) => {
  if (!needsBpf(t)) return;
  const N = 25;
  const sleeper = spawn(workload('cpudist-sleeper'), [String(N), '20'], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => sleeper.kill('SIGKILL'));
  let out = '';
  sleeper.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  while (!/^ready \d+$/m.test(out)) await once(sleeper.stdout, 'data');
  const run = startInTest(t, 'cpudist', ['-O', '-m', '-p', String(sleeper.pid), '-e']);
  await run.ready;
  sleeper.stdin.write('go\n');
  await once(sleeper, 'exit');
  assert.equal(await run.stop('SIGINT'), 0, run.stderr);
  const rows = new Map([...run.stdout.matchAll(/^ +(\d+) -> (\d+) +: (\d+) +\|/gm)].map((m) => [Number(m[1]), Number(m[3])]));
  // Exactly N, less only what the kernel says it skipped (recursion misses, reported at the end
  // as "N events not traced": a switch whose program did not run ends no period).
  const missed = Number(/(\d+) events not traced/.exec(run.stderr)?.[1] ?? 0);
  const sleeps = rows.get(16) ?? 0;
  assert.ok(sleeps <= N && sleeps >= N - missed, `${sleeps} of ${N} sleeps, ${missed} missed runs reported\n${run.stdout}${run.stderr}`);
  // Anything else is a preemption while runnable (well under 16 ms), never a sleep.
  for (const [low, count] of rows) if (low >= 32) assert.equal(count, 0, run.stdout);
  assert.match(run.stdout, /^Tracing off-CPU time\.\.\. Hit Ctrl-C to end\.\n\n +msecs +: count +distribution\n/);
});

test('-L prints bcc\'s sections: "tid = TID COMM" and a blank line (the comm\'s newline), through the binding\'s printer', async (t) => {
  if (!needsBpf(t)) return;
  // This test runner's own threads (its timers wake it within the second).
  const run = startInTest(t, 'cpudist', ['-L', '-p', String(process.pid), '1', '1']);
  await run.ready;
  const timer = setInterval(() => {}, 5);
  assert.equal(await run.exited, 0, run.stderr);
  clearInterval(timer);
  const sections = [...run.stdout.matchAll(/^tid = (\d+) (.+)\n\n( +usecs +: count +distribution\n(?: +\d+ -> \d+ +: \d+ +\|.*\|\n)+)/gm)];
  assert.ok(sections.length >= 1, run.stdout);
  // bcc: print() before the histograms, and print_log2_hist's "\n%s = %s" before each section.
  let expected = 'Tracing on-CPU time... Hit Ctrl-C to end.\n\n';
  for (const [, tid, comm, hist] of sections) {
    assert.equal(`\ntid = ${tid} ${comm}\n\n${hist}`, formatLog2Sections([{ label: tid, slots: parseSlots(hist) }], 'usecs', { sectionHeader: 'tid', sectionPrint: (l) => `${l} ${comm}\n` }));
    expected += `\ntid = ${tid} ${comm}\n\n${hist}`;
  }
  assert.equal(run.stdout, expected);
});

function parseSlots(hist: string): bigint[] {
  const slots: bigint[] = [0n];
  for (const m of hist.matchAll(/^ +\d+ -> \d+ +: (\d+)/gm)) slots.push(BigInt(m[1]));
  return slots;
}

test('cpudist --explain picks the attach points this kernel offers', async (t) => {
  if (!needsBpf(t)) return;
  const { chosen } = await explainedRun(t, 'cpudist', ['1', '1']);
  assert.equal(chosen['context switch'], firstUsable('context switch', [
    ['tracepoint sched:sched_switch', () => tracepointExists('sched', 'sched_switch')],
    ['raw tracepoint sched_switch', rawTracepointSupported],
  ]));
});

test('the raw tracepoint rung measures what the tracepoint does, and the kprobe rung passes this kernel\'s verifier', async (t) => {
  if (!needsBpf(t)) return;
  const run = startInTest(t, 'cpudist', ['-P', '--json', '--explain'], { env: { BPFKIT_AVOID: 'tracepoint' } });
  await run.ready;
  const children = await spin('cpudist-spin', 1, 2);
  assert.equal(await run.stop('SIGINT'), 0, run.stderr);
  assert.match(run.stderr, /context switch: raw tracepoint sched_switch\n/);
  const lines = jsonLines(run.stdout);
  for (const c of children) {
    const [mine] = lines.filter((l) => l.pid === c.pid);
    // Not exact yet: on this kernel the raw tracepoint rung has been seen to miss one or two of a
    // child's switch-ins that the tracepoint rung counts (cause not found; see the tool's notes).
    assert.ok(mine.count <= c.slices && mine.count >= c.slices - 2, `count ${mine.count}, SLICES ${c.slices}`);
    assert.ok(sumFits(mine.sum_ns, c, 2 * 5e6), `sum ${mine.sum_ns} vs ${c.runNs} (excluded ${c.excludedNs})`);
  }
  const live = liveKernel();
  const kprobeKernel = { ...live, tracepoint: () => false, rawTracepoints: () => false, kprobes: () => true, kernelFunction: (f: string) => f === 'finish_task_switch' };
  for (const config of [
    { measure: 'on', grouping: 'pid', pid: 1 }, { measure: 'off', grouping: 'tid' }, { measure: 'both', grouping: 'none', includeIdle: true },
  ] as Array<Partial<CpudistConfig>>) {
    const program = configureCpudist({ measure: 'on', nsPerUnit: 1000, grouping: 'none', includeIdle: false, extension: true, ...config }, kprobeKernel);
    assert.deepEqual(program.hook, { kind: 'kprobe', fn: 'finish_task_switch' });
    const p = buildProgram(program);
    const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
    try {
      assert.deepEqual(bpf.functionNames(), ['on_finish_task_switch']);
      assert.ok(bpf.loadFunc('on_finish_task_switch', PROG_TYPE.KPROBE).fd >= 0, JSON.stringify(config));
    } finally {
      bpf.close();
    }
  }
});
