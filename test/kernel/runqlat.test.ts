// runqlat against the real kernel: children pinned to one CPU take turns on it (spinners are
// preempted, sleepers are woken), and each child's histogram is compared with what the kernel
// counted for it in /proc/PID/schedstat, read once the child has exited (test/workloads/runqlat-tasks.c):
// SLICES, the times it was switched in, and WAIT_NS, its time runnable but not running.
//
// Why the sum of the waits is compared within 25 µs per wait: the kernel stamps a wait's start
// and end with its run queue clock (rq_clock, updated at the start of __schedule and at wakeups,
// and left stale after a wakeup preemption: RQCF_ACT_SKIP), the tool with bpf_ktime_get_ns() at
// the tracepoints; each wait's two stamps are a few µs apart from the kernel's (measured here:
// under 15 µs on average).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { BPF, PROG_TYPE, formatLog2Sections, kprobesAvailable, rawTracepointSupported } from 'bcc-node-bindings';
import { needsBpf } from '../helpers/kernel.ts';
import { explainedRun, firstUsable } from '../helpers/attach.ts';
import { startInTest, stopAll, type ToolRun } from '../helpers/tool.ts';
import { workload } from '../helpers/workloads.ts';
import { buildProgram } from '../../lib/run/program.ts';
import { liveKernel } from '../../lib/kernel/view.ts';
import { configureRunqlat, type RunqlatConfig } from '../../tools/runqlat/program.ts';

const CLOCK_SKEW_NS = 25_000;
const CPU = '1';

interface Child { pid: number; runNs: number; waitNs: number; slices: number }

/** Runs runqlat-tasks to its end: the children's PIDs, then the kernel's numbers for each. */
function tasks(seconds: number, spinners: number, sleepers: number, opts: { wait?: boolean } = {}) {
  const child = spawn(workload('runqlat-tasks'), [CPU, String(seconds), String(spinners), String(sleepers), ...(opts.wait ? ['wait'] : [])], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const ready = new Promise<number[]>((resolve, reject) => {
    const check = () => {
      const m = /^ready((?: \d+)+)\n/m.exec(out);
      if (m) resolve(m[1].trim().split(' ').map(Number));
    };
    child.stdout.on('data', check);
    child.on('exit', () => reject(new Error(`runqlat-tasks exited before it was ready: ${out}`)));
  });
  ready.catch(() => {});
  const done = once(child, 'exit').then(([code]) => {
    assert.equal(code, 0, out);
    return [...out.matchAll(/^child (\d+) (\d+) (\d+) (\d+)$/gm)].map((m): Child => ({
      pid: Number(m[1]), runNs: Number(m[2]), waitNs: Number(m[3]), slices: Number(m[4]),
    }));
  });
  return { ready, done, go: () => child.stdin.end('go\n') };
}

interface Histogram { id: number; count: number; inSlots: number; sumNs: number; slots: number[] }

/** The --json objects of every interval, added up per pid/tid. */
function jsonTotals(stdout: string, key: 'pid' | 'tid'): Map<number, Histogram> {
  const totals = new Map<number, Histogram>();
  for (const line of stdout.split('\n').filter(Boolean)) {
    const o = JSON.parse(line) as { data: Array<{ count: number }>; count: number; sum_ns: number } & Record<string, number>;
    const h = totals.get(o[key]) ?? { id: o[key], count: 0, inSlots: 0, sumNs: 0, slots: [] };
    o.data.forEach((d, i) => { h.slots[i + 1] = (h.slots[i + 1] ?? 0) + d.count; });
    h.inSlots += o.data.reduce((n, d) => n + d.count, 0);
    h.count += o.count;
    h.sumNs += o.sum_ns;
    totals.set(o[key], h);
  }
  return totals;
}

/** The text sections ("pid = N" then bcc's histogram) of a run, per id, with their counts. */
function textCounts(stdout: string): Map<number, number> {
  const counts = new Map<number, number>();
  let id = -1;
  for (const line of stdout.split('\n')) {
    const m = /^(?:pid|tid|pidns) = (\d+)$/.exec(line);
    if (m) id = Number(m[1]);
    const row = /^ +\d+ -> \d+ +: (\d+) +\|/.exec(line);
    if (row) counts.set(id, (counts.get(id) ?? 0) + Number(row[1]));
  }
  return counts;
}

async function started(t: Parameters<typeof startInTest>[0], runs: Array<[string[], Record<string, string>?]>): Promise<ToolRun[]> {
  const tools = runs.map(([args, env]) => startInTest(t, 'runqlat', ['-q', ...args], { env }));
  await Promise.all(tools.map((r) => r.ready));
  return tools;
}

const RAW = { BPFKIT_AVOID: 'tracepoint' };

/** Switch-ins the tool may miss on a busy machine: 1%, at least 3 (see the first test). */
const allowance = (slices: number) => Math.max(3, Math.ceil(slices / 100));

test('two spinners pinned to one CPU: -P counts each one\'s switch-ins exactly, and its waits add up to its schedstat wait', async (t) => {
  if (!needsBpf(t)) return;
  // Raw tracepoints run under a per-program recursion guard; the classic tracepoint's programs are
  // skipped while any bpf() map call preempted on that CPU holds bpf_prog_active (README.md).
  const [raw, rawText, classic, perThread] = await started(t, [
    [['-P', '--json'], RAW], [['-P'], RAW], [['-P', '--json']], [['-L', '--json']],
  ]);
  const run = tasks(2, 2, 0);
  const pids = await run.ready;
  const children = await run.done;
  await stopAll(raw, rawText, classic, perThread);
  assert.deepEqual(children.map((c) => c.pid).sort(), [...pids].sort());
  const rawTotals = jsonTotals(raw.stdout, 'pid');
  const classicTotals = jsonTotals(classic.stdout, 'pid');
  const threadTotals = jsonTotals(perThread.stdout, 'tid');
  const text = textCounts(rawText.stdout);
  for (const c of children) {
    const h = rawTotals.get(c.pid);
    assert.ok(h, `no histogram for ${c.pid}`);
    // Equal when the machine is otherwise quiet; with other tracers and tests busy on the same
    // two CPUs, one or two switch-ins in a few hundred went unseen (README.md "Accuracy"), never
    // one the kernel did not count.
    assert.ok(h.count <= c.slices && h.count >= c.slices - allowance(c.slices), `${h.count} of ${c.slices} switch-ins of ${c.pid}`);
    // The maps are drained one after the other: equal for a process that has ended.
    assert.equal(h.inSlots, h.count, 'count is the histogram\'s total');
    if (h.count === c.slices) assert.ok(Math.abs(h.sumNs - c.waitNs) <= CLOCK_SKEW_NS * c.slices, `${c.pid}: waits ${h.sumNs} ns, schedstat ${c.waitNs} ns`);
    else assert.ok(h.sumNs <= c.waitNs + CLOCK_SKEW_NS * h.count, `${c.pid}: waits ${h.sumNs} ns > schedstat ${c.waitNs} ns`);
    const inText = text.get(c.pid) ?? 0;
    assert.ok(inText <= c.slices && inText >= c.slices - allowance(c.slices), `text histogram of ${c.pid}: ${inText} of ${c.slices}`);
    for (const [name, totals] of [['tracepoints', classicTotals], ['-L', threadTotals]] as const) {
      const seen = totals.get(c.pid)?.count ?? 0;
      assert.ok(seen <= c.slices && seen >= c.slices - allowance(c.slices), `${name}: ${seen} of ${c.slices} switch-ins of ${c.pid}`);
    }
  }
  // bcc's format, byte for byte, through the binding's printer.
  const mine = [...text.keys()].filter((id) => pids.includes(id));
  assert.equal(mine.length, 2);
  const section = rawText.stdout.split('\n\n').find((s) => s.startsWith(`pid = ${mine[0]}\n`));
  assert.ok(section, 'a section per pid');
  const slots = section.split('\n').slice(2).map((l) => Number(/: (\d+)/.exec(l)?.[1] ?? 0));
  assert.equal(`\n${section}\n`, formatLog2Sections([{ label: mine[0], slots: [0, ...slots] }], 'usecs', { sectionHeader: 'pid', sectionPrint: String }));
});

test('woken tasks (sched_wakeup): sleepers beside a spinner are counted at each wakeup, within the bound README.md gives', async (t) => {
  if (!needsBpf(t)) return;
  const [run1] = await started(t, [[['-P', '--json'], RAW]]);
  const run = tasks(2, 1, 2);
  await run.ready;
  const children = await run.done;
  await stopAll(run1);
  const totals = jsonTotals(run1.stdout, 'pid');
  for (const c of children) {
    const h = totals.get(c.pid);
    assert.ok(h, `no histogram for ${c.pid}`);
    // As for the spinners (README.md "Accuracy"): here too about one in 500 goes unseen.
    assert.ok(h.count <= c.slices && h.count >= c.slices - allowance(c.slices), `${c.pid}: ${h.count} of ${c.slices}`);
    assert.ok(h.sumNs <= c.waitNs + CLOCK_SKEW_NS * h.count, `${c.pid}: waits ${h.sumNs} ns > schedstat ${c.waitNs} ns`);
  }
});

test('-p PID counts exactly that process\'s waits, the same ones -P shows for it', async (t) => {
  if (!needsBpf(t)) return;
  const run = tasks(1, 2, 0, { wait: true });
  const [first] = await run.ready;
  const [only, all] = await started(t, [[['-p', String(first), '--json'], RAW], [['-P', '--json'], RAW]]);
  run.go();
  await run.done;
  await stopAll(only, all);
  const lines = only.stdout.trim().split('\n').map((l) => JSON.parse(l) as { count: number; pid?: number });
  assert.equal(lines.length, 1);
  assert.equal(lines[0].pid, undefined);
  assert.ok(lines[0].count > 0);
  assert.equal(lines[0].count, jsonTotals(all.stdout, 'pid').get(first)?.count);
});

test('--pidnss shows this test\'s PID namespace', async (t) => {
  if (!needsBpf(t)) return;
  const fs = await import('node:fs');
  const inum = Number(/\[(\d+)\]/.exec(fs.readlinkSync('/proc/self/ns/pid'))![1]);
  for (const env of [undefined, RAW]) {
    const [run1] = await started(t, [[['--pidnss'], env]]);
    const run = tasks(1, 2, 0);
    await run.ready;
    const children = await run.done;
    await stopAll(run1);
    const count = textCounts(run1.stdout).get(inum) ?? 0;
    assert.ok(count >= children.reduce((n, c) => n + c.slices, 0) * 0.99, `${count} waits in pidns ${inum}\n${run1.stdout}`);
  }
});

test('runqlat --explain picks the attach points this kernel offers', async (t) => {
  if (!needsBpf(t)) return;
  const { chosen } = await explainedRun(t, 'runqlat', ['-P']);
  assert.equal(chosen['run queue waits'], firstUsable('run queue waits', [
    ['tracepoints sched:sched_wakeup, sched:sched_wakeup_new, sched:sched_switch', () => true],
    ['raw tracepoints sched_wakeup, sched_wakeup_new, sched_switch', rawTracepointSupported],
    ['kprobes ttwu_do_wakeup, wake_up_new_task, finish_task_switch', kprobesAvailable],
  ]));
});

test('the fallbacks compile and pass this kernel\'s verifier: raw tracepoints, and the kprobes loaded as kprobes', async (t) => {
  if (!needsBpf(t)) return;
  const live = liveKernel();
  const configs: RunqlatConfig[] = [
    { grouping: 'none', nsPerUnit: 1000, totals: false },
    { grouping: 'pid', nsPerUnit: 1000, totals: true, pid: process.pid },
    { grouping: 'pidns', nsPerUnit: 1, totals: true, seriesLimit: 100 },
  ];
  const rungs = [
    { kernel: { ...live, tracepoint: () => true }, avoid: 'tracepoint', type: PROG_TYPE.RAW_TRACEPOINT, fns: ['on_switch', 'on_wakeup'] },
    {
      kernel: { ...live, rawTracepoints: () => false, kprobes: () => true, kernelFunction: (f: string) => f !== 'ttwu_do_wakeup' },
      avoid: 'tracepoint', type: PROG_TYPE.KPROBE, fns: ['on_switch', 'on_wakeup', 'on_wakeup_new'],
    },
  ];
  const before = process.env.BPFKIT_AVOID;
  try {
    for (const rung of rungs) {
      process.env.BPFKIT_AVOID = rung.avoid;
      for (const config of configs) {
        const p = buildProgram(configureRunqlat(config, rung.kernel));
        const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
        try {
          assert.deepEqual(bpf.functionNames().sort(), [...rung.fns].sort());
          for (const fn of rung.fns) assert.ok(bpf.loadFunc(fn, rung.type).fd >= 0, `${fn} ${JSON.stringify(config)}`);
        } finally {
          bpf.close();
        }
      }
    }
  } finally {
    if (before === undefined) delete process.env.BPFKIT_AVOID;
    else process.env.BPFKIT_AVOID = before;
  }
});
