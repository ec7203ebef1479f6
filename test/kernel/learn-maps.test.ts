// The course's steps 1, 2, 5 and 10 (examples/learn/) run as a reader runs them, each with its
// known workload: what each prints must be exactly what its workload did, as its page promises.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { needsBpf } from '../helpers/kernel.ts';
import { freePort, scrape } from '../helpers/http.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const children = new Set<ChildProcess>();
after(() => { for (const child of children) child.kill('SIGKILL'); });

interface Ran { status: number | null; stdout: string; stderr: string }

/** Starts a step as a child process; `ran` settles when it has exited. */
function startStep(file: string, args: string[] = []): { child: ChildProcess; ran: Promise<Ran>; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('examples', 'learn', file), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const ran = once(child, 'close').then(([status]) => { children.delete(child); return { status: status as number | null, stdout, stderr }; });
  return { child, ran, output: () => stdout };
}

const runStep = (file: string, args: string[] = []): Promise<Ran> => startStep(file, args).ran;

/** The four counters of a "sendmsg=21 recvmsg=27 bytes_sent=9100 bytes_recv=9100" line after `prefix`. */
function countersAfter(text: string, prefix: string): Record<string, number> {
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  assert.ok(line, `no line starting ${JSON.stringify(prefix)} in:\n${text}`);
  return Object.fromEntries([...line.slice(prefix.length).matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
}

// sendrecv's 6 rounds: round r sends and receives r messages of 100*r bytes, then fails one recvmsg.
const SENDRECV = { sendmsg: 21, recvmsg: 27, bytes_sent: 9100, bytes_recv: 9100 };

test('learn 1: the workload\'s 5 execs of /bin/true arrive through the ring buffer, exactly', async (t) => {
  if (!needsBpf(t)) return;
  const { status, stdout, stderr } = await runStep('01-hello.ts', ['--seconds', '1']);
  assert.equal(status, 0, stderr);
  const rows = stdout.split('\n').filter((l) => /^\d+\s/.test(l));
  assert.equal(rows.length, 5, stdout);
  for (const row of rows) assert.match(row, /^\d+\s+true\s+\/bin\/true$/);
  assert.equal(new Set(rows.map((r) => r.split(/\s+/)[0])).size, 5, 'five distinct processes');
  assert.match(stdout, /^the workload \(pid \d+\) ran 5 execs; the program saw 5$/m);
});

test('learn 2: the map\'s counts for the workload equal its sendmsg/recvmsg calls and bytes', async (t) => {
  if (!needsBpf(t)) return;
  const { status, stdout, stderr } = await runStep('02-maps.ts', ['--seconds', '1']);
  assert.equal(status, 0, stderr);
  const pid = /^the workload \(pid (\d+)\) did: /m.exec(stdout)?.[1];
  assert.ok(pid, stdout);
  assert.deepEqual(countersAfter(stdout, `the workload (pid ${pid}) did: `), SENDRECV);
  assert.deepEqual(countersAfter(stdout, 'the map holds for it:'), SENDRECV);
  // The map is read once a second while the workload runs: the last table has its final row.
  const tables = stdout.split('\nafter ').slice(1);
  assert.ok(tables.length >= 3, `the workload runs 2.5 s, so at least 3 reads: ${stdout}`);
  const rows = tables.at(-1)!.split('\n').filter((l) => l.includes('<- the workload'));
  assert.equal(rows.length, 1, stdout);
  assert.deepEqual(rows[0].trim().split(/\s+/).slice(0, 6), [pid, 'sendrecv', '21', '27', '9100', '9100']);
});

test('learn 5: a filter written into the map changes the counts without a reload; per-CPU values add up', async (t) => {
  if (!needsBpf(t)) return;
  const { status, stdout, stderr } = await runStep('05-config.ts', ['--seconds', '1']);
  assert.equal(status, 0, stderr);
  const before = /^loaded and attached: (program id \d+, tag [0-9a-f]{16})$/m.exec(stdout)?.[1];
  const afterwards = /^still running: (program id \d+, tag [0-9a-f]{16})$/m.exec(stdout)?.[1];
  assert.ok(before, stdout);
  assert.equal(afterwards, before, 'the same program (id and tag) before and after the filter change');
  assert.match(stdout, /^filter = \{A\}: A made 10 getppid calls, B made 20; the program counted A 10, B 0$/m);
  assert.match(stdout, /^filter = \{B\}: A made 30 more, B made 40; the program counted A 10, B 40$/m);

  const race = /^filter = \{A, B\}, both calling for 1 s at once: A made (\d+), B made (\d+), (\d+) in all$/m.exec(stdout);
  assert.ok(race, stdout);
  const [a, b, total] = race.slice(1).map(Number);
  assert.equal(a + b, total);
  const plain = Number(/plain \+\+: +(\d+) +\((\d+) increments lost\)/.exec(stdout)?.[1]);
  assert.ok(plain <= total && plain > 0, `plain ++ can lose increments, never invent them: ${plain} of ${total}`);
  assert.equal(Number(/__sync_fetch_and_add: (\d+)$/m.exec(stdout)?.[1]), total);
  const perCpu = /^ {2}per-CPU array: (.*); sum (\d+)$/m.exec(stdout);
  assert.ok(perCpu, stdout);
  assert.equal(Number(perCpu[2]), total);
  const values = [...perCpu[1].matchAll(/CPU (\d+) (\d+)/g)].map((m) => Number(m[2]));
  // Each worker is pinned to its own CPU, so each CPU's value is its worker's count.
  if (values.length >= 2) assert.deepEqual(values.slice(0, 2), [a, b]);
  assert.equal(values.reduce((s, v) => s + v, 0), total);
});

test('learn 10: /metrics shows exactly the workload\'s counts and passes promtool', async (t) => {
  if (!needsBpf(t)) return;
  const port = await freePort();
  const step = startStep('10-exporter.ts', ['--port', String(port), '--seconds', '120']);
  // The step prints its own scrape once the workload has ended; the endpoint then keeps serving.
  while (!/^the workload did: /m.test(step.output())) {
    const ended = await Promise.race([step.ran, new Promise((resolve) => setTimeout(resolve, 100, null))]);
    if (ended) assert.fail(`the step ended early: ${JSON.stringify(ended)}`);
  }
  const body = await scrape(port);
  step.child.kill('SIGTERM');
  const { stdout, stderr } = await step.ran;
  assert.equal(stderr, '');
  execFileSync('promtool', ['check', 'metrics'], { input: body });

  const pid = /after the workload \(pid (\d+)\) ended/.exec(stdout)?.[1];
  assert.ok(pid, stdout);
  assert.deepEqual(countersAfter(stdout, 'the workload did: '), SENDRECV);
  const names = { sendmsg: 'sendmsg_calls', recvmsg: 'recvmsg_calls', bytes_sent: 'sent_bytes', bytes_recv: 'received_bytes' };
  for (const [field, name] of Object.entries(names)) {
    const sample = `bpfkit_learn_${name}_total{pid="${pid}",comm="sendrecv"} ${SENDRECV[field as keyof typeof SENDRECV]}`;
    assert.ok(body.split('\n').includes(sample), `${sample} in the test's scrape:\n${body}`);
    assert.ok(stdout.split('\n').includes(sample), `${sample} in the step's own scrape:\n${stdout}`);
    assert.match(body, new RegExp(`^# TYPE bpfkit_learn_${name}_total counter$`, 'm'));
  }
});

test('learn 10: a bad --port is one line on stderr and status 2', async () => {
  for (const bad of ['0', '65536', 'x']) {
    const { status, stdout, stderr } = await runStep('10-exporter.ts', ['--port', bad]);
    assert.equal(status, 2);
    assert.equal(stdout, '');
    assert.equal(stderr, `learn 10: --port needs a whole number from 1 to 65535, not ${JSON.stringify(bad)}\n`);
  }
});
