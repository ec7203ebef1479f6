// runqlen against the real kernel: N spinners pinned to the last CPU, in a session of their own
// (so, with autogroup, a CFS group of their own) whose weight is raised (autogroup nice -20) so
// that they hold that CPU whatever else the machine runs. Ground truth: whenever a spinner is on
// the CPU, its queue holds exactly the N spinners, so N - 1 wait; the CPU's whole queue (-H)
// never holds fewer than N while they spin. Every run starts after the spinners and stops
// before they are killed, so every sample falls within the spin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { kernelBtf } from 'bcc-node-bindings';
import { needsBpf, sleep } from '../helpers/kernel.ts';
import { explainedRun } from '../helpers/attach.ts';
import { runToolToEnd, startInTest, stopAll } from '../helpers/tool.ts';
import { workload } from '../helpers/workloads.ts';
import { TIME_SCALE } from '../helpers/guest.ts';

const N = 4;
const CPU = os.cpus().length - 1;

/** Per CPU, the counts of each length: every `cpu = C` section of the text. */
function parseSections(stdout: string): Map<number, number[]> {
  const out = new Map<number, number[]>();
  let cpu = -1;
  for (const line of stdout.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^cpu = (\d+)$/.exec(line))) { cpu = Number(m[1]); out.set(cpu, []); }
    else if ((m = /^ {8}(\d+) +: (\d+) +\|[* ]*\|$/.exec(line))) out.get(cpu)![Number(m[1])] = Number(m[2]);
  }
  return out;
}

const total = (slots: number[]) => slots.reduce((a, b) => a + (b ?? 0), 0);
const share = (slots: number[], pick: (len: number) => boolean) => total(slots.map((v, len) => (pick(len) ? v : 0))) / total(slots);

/** The spinners: running once "ready PID…" is printed; killed (children first) when the test ends. */
async function startSpinners(t: { after(fn: () => void): void }): Promise<number[]> {
  // detached: a new session, hence a new autogroup that only the spinners are in.
  const parent: ChildProcess = spawn(workload('spin-pinned'), [String(CPU), '600', String(N)], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  parent.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const children: number[] = [];
  t.after(() => {
    for (const pid of [...children, parent.pid!]) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  });
  try { fs.writeFileSync(`/proc/${parent.pid}/autogroup`, '-20'); } catch { /* no autogroup here: nothing to outweigh */ }
  while (!/^ready( \d+)+\n/.test(out)) {
    if (parent.exitCode !== null) throw new Error(`spin-pinned exited: ${out}`);
    await sleep(20);
  }
  children.push(...out.split('\n')[0].split(' ').slice(1).map(Number));
  assert.equal(children.length, N);
  return children;
}

test(`runqlen -C: ${N} spinners pinned to one CPU show ${N - 1} tasks waiting there, the other CPU not; -O near 100%; -H never below ${N - 1}`, async (t) => {
  if (!needsBpf(t)) return;
  await startSpinners(t);
  const runs = {
    perCpu: startInTest(t, 'runqlen', ['-C']),
    occupancy: startInTest(t, 'runqlen', ['-C', '-O']),
    host: startInTest(t, 'runqlen', ['-C', '-H']),
    json: startInTest(t, 'runqlen', ['-C', '--json']),
  };
  await Promise.all(Object.values(runs).map((r) => r.ready));
  await sleep(2000 * TIME_SCALE);
  await stopAll(...Object.values(runs));

  const perCpu = parseSections(runs.perCpu.stdout);
  const mine = perCpu.get(CPU)!;
  assert.ok(total(mine) > 0, runs.perCpu.stdout);
  const exactly = share(mine, (len) => len === N - 1);
  t.diagnostic(`CPU ${CPU}: ${(exactly * 100).toFixed(1)}% of ${total(mine)} samples at ${N - 1}`);
  assert.ok(exactly >= 0.9, `CPU ${CPU}: ${Math.round(exactly * 100)}% of samples at ${N - 1}\n${runs.perCpu.stdout}`);
  if (CPU > 0) {
    const other = perCpu.get(0) ?? [];
    assert.ok(share(other, (len) => len === N - 1) < 0.5, `CPU 0 looks like the spinners' CPU:\n${runs.perCpu.stdout}`);
  }

  const occ = new Map([...runs.occupancy.stdout.matchAll(/^runqocc, CPU (\d+) +([\d.]+)%$/gm)].map((m) => [Number(m[1]), Number(m[2])]));
  assert.ok(occ.get(CPU)! >= 90, runs.occupancy.stdout);

  // Every task runnable on the CPU counts: the spinners alone make N, one of them (or another task) running.
  const host = parseSections(runs.host.stdout).get(CPU)!;
  assert.ok(total(host) > 0);
  assert.equal(share(host, (len) => len >= N - 1), 1, runs.host.stdout);

  const objects = runs.json.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const json = objects.find((o) => o.cpu === CPU);
  assert.deepEqual(Object.keys(json), ['ts', 'val_type', 'data', 'cpu', 'samples', 'queued', 'runqocc']);
  assert.equal(json.val_type, 'runqlen');
  const counts: number[] = json.data.map((d: { 'interval-start': number; count: number }) => d.count);
  json.data.forEach((d: { 'interval-start': number; 'interval-end': number }, i: number) => assert.deepEqual([d['interval-start'], d['interval-end']], [i, i]));
  assert.equal(json.samples, total(counts));
  assert.equal(json.queued, json.samples - counts[0]);
  assert.ok(counts[N - 1] / json.samples >= 0.9, runs.json.stdout);
});

test('runqlen: interval and count end the run, one histogram per interval, -T stamps each', async (t) => {
  if (!needsBpf(t)) return;
  const { code, stdout } = await runToolToEnd('runqlen', ['-T', '1', '2']);
  assert.equal(code, 0);
  const lines = stdout.split('\n');
  assert.equal(lines[0], 'Sampling run queue length... Hit Ctrl-C to end.');
  assert.equal(stdout.match(/^\d\d:\d\d:\d\d\n {5}runqlen {7}: count {5}distribution$/gm)?.length, 2, stdout);
});

test('runqlen --explain picks the attach points this kernel offers', async (t) => {
  if (!needsBpf(t)) return;
  const btf = kernelBtf();
  const field = btf.hasField('cfs_rq', 'nr_queued') ? 'nr_queued' : 'nr_running';
  const { chosen } = await explainedRun(t, 'runqlen', []);
  assert.deepEqual(chosen, {
    sampling: 'perf event software cpu-clock at 99 Hz on every CPU',
    'run queue length': `cfs_rq.${field} through task_struct.se.cfs_rq (${field === 'nr_queued' ? '6.13+' : 'before 6.13'})`,
  });
  const host = await explainedRun(t, 'runqlen', ['-H', '-f', '199']);
  assert.deepEqual(host.chosen, {
    sampling: 'perf event software cpu-clock at 199 Hz on every CPU',
    'run queue length': 'rq.nr_running through task_struct.se.cfs_rq->rq (the whole CPU)',
  });
});
