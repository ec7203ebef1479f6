// profile against the real kernel: workloads that spin in one known function (a C one with its
// symbols, a stripped one with a separate debug file, one run from its own copy in a private mount
// namespace, and a JavaScript one named through V8's perf map) must show that function in at least
// 90% of their samples. Other tests run meanwhile: everything is filtered by the workload's PID.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BPF } from 'bcc-node-bindings';
import { needsBpf, sleep } from '../helpers/kernel.ts';
import { explainedRun } from '../helpers/attach.ts';
import { REPO, runToolToEnd } from '../helpers/tool.ts';
import { burnCpu, type BurnCpuVariant } from '../helpers/workloads.ts';
import { parseFolded } from '../../lib/output/flamegraph.ts';

interface JsonFrame { name: string | null; offset: number; module: string | null; addr: string }
interface JsonStack {
  comm: string; pid: number; tid?: number; value: number;
  kernel: JsonFrame[] | null; user: JsonFrame[] | null; missed: string[];
}

const SECONDS = 3;
const HZ = 99;

/** Starts a workload that prints "ready PID" once it spins; it is killed when the test ends. */
async function startSpinner(t: TestContext, file: string, args: string[]): Promise<number> {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { child.kill('SIGKILL'); });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  for (;;) {
    const m = /^ready (\d+)$/m.exec(out);
    if (m) return Number(m[1]);
    assert.equal(child.exitCode, null, `${file} ended before it was ready`);
    await sleep(20);
  }
}

async function profileJson(args: string[]): Promise<JsonStack[]> {
  const run = await runToolToEnd('profile', ['-F', String(HZ), '--json', ...args, String(SECONDS)]);
  assert.equal(run.code, 0, run.stderr);
  return run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as JsonStack);
}

/** Samples of `pid`, and those with a user frame `matches` accepts. */
function share(stacks: JsonStack[], pid: number, matches: (f: JsonFrame) => boolean): { total: number; hits: number } {
  const mine = stacks.filter((s) => s.pid === pid);
  const total = mine.reduce((n, s) => n + s.value, 0);
  const hits = mine.filter((s) => s.user?.some(matches)).reduce((n, s) => n + s.value, 0);
  return { total, hits };
}

function assertMostly({ total, hits }: { total: number; hits: number }, what: string, detail: unknown): void {
  assert.ok(total > 0, `no samples of the workload: ${JSON.stringify(detail)}`);
  assert.ok(hits >= 0.9 * total, `${what} in ${hits} of ${total} samples: ${JSON.stringify(detail).slice(0, 4000)}`);
}

for (const variant of ['symtab', 'stripped'] as BurnCpuVariant[]) {
  test(`${variant} burn-cpu: at least 90% of its samples at ${HZ} Hz for ${SECONDS} s have burn_cpu, from its own file`, async (t) => {
    if (!needsBpf(t)) return;
    const bin = burnCpu(variant);
    const pid = await startSpinner(t, bin, ['60']);
    const stacks = await profileJson(['-p', String(pid)]);
    assert.ok(stacks.every((s) => s.pid === pid && s.comm === 'burn-cpu' && s.tid === undefined), JSON.stringify(stacks));
    const isBurn = (f: JsonFrame) => f.name === 'burn_cpu' && f.module === bin;
    assertMostly(share(stacks, pid, isBurn), 'burn_cpu', stacks);
    // The frames below it are the program's own: main, called from libc.
    const burning = stacks.find((s) => s.user?.some(isBurn))!;
    const names = burning.user!.map((f) => f.name);
    assert.equal(names[names.indexOf('burn_cpu') + 1], 'main', names.join(' < '));
  });
}

test('text, -f and --svg of one workload: bcc\'s header and blocks, folded lines that parse, an SVG naming the functions', async (t) => {
  if (!needsBpf(t)) return;
  const pid = await startSpinner(t, burnCpu('symtab'), ['60']);
  const svg = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'profile-svg-')), 'cpu.svg');
  t.after(() => fs.rmSync(path.dirname(svg), { recursive: true, force: true }));
  const [text, folded] = await Promise.all([
    runToolToEnd('profile', ['-F', String(HZ), '-p', String(pid), String(SECONDS)]),
    runToolToEnd('profile', ['-F', String(HZ), '-p', String(pid), '-f', '--svg', svg, String(SECONDS)]),
  ]);
  assert.equal(text.code, 0, text.stderr);
  assert.equal(folded.code, 0, folded.stderr);

  const lines = text.stdout.split('\n');
  assert.equal(lines[0], `Sampling at ${HZ} Hertz of PID [${pid}] by user + kernel stack for ${SECONDS} secs.`);
  assert.equal(lines[1], '');
  const blocks = text.stdout.slice(lines[0].length + 2).split('\n\n').filter(Boolean);
  let total = 0;
  let hits = 0;
  let last = 0;
  for (const block of blocks) {
    const rows = block.split('\n');
    assert.equal(rows.at(-2), `    -                burn-cpu (${pid})`, block);
    const value = Number(/^ {8}(\d+)$/.exec(rows.at(-1)!)?.[1]);
    assert.ok(value >= last, 'blocks are sorted by count, smallest first');
    last = value;
    total += value;
    if (rows.includes('    burn_cpu')) hits += value;
  }
  assertMostly({ total, hits }, 'burn_cpu', text.stdout);

  const stacks = parseFolded(folded.stdout);
  assert.equal(stacks.length, folded.stdout.split('\n').filter(Boolean).length);
  assert.ok(stacks.every((s) => s.frames[0] === 'burn-cpu'), folded.stdout);
  assertMostly({
    total: stacks.reduce((n, s) => n + s.value, 0),
    hits: stacks.filter((s) => s.frames.includes('burn_cpu')).reduce((n, s) => n + s.value, 0),
  }, 'burn_cpu', folded.stdout);

  // A real XML parser (Python's, as bcc's tools run Python anyway): the root and every tooltip.
  const parsed = execFileSync('python3', ['-c', [
    'import sys, xml.dom.minidom as m',
    'd = m.parse(sys.argv[1])',
    'print(d.documentElement.tagName)',
    "[print(t.firstChild.data) for t in d.getElementsByTagName('title') if t.firstChild]",
  ].join('\n'), svg], { encoding: 'utf8' }).split('\n');
  assert.equal(parsed[0], 'svg');
  for (const name of ['burn-cpu', 'main', 'burn_cpu']) {
    assert.ok(parsed.some((title) => title.startsWith(`${name} (`)), `no tooltip for ${name}:\n${parsed.join('\n')}`);
  }
});

test('a Node workload run with --perf-basic-prof: its hot JavaScript function is named from the perf map in at least 90% of its main thread\'s samples', async (t) => {
  if (!needsBpf(t)) return;
  // --interpreted-frames-native-stack: the function is named even in a tier V8 has not compiled to
  // machine code yet (on a busy machine that can take a while).
  const pid = await startSpinner(t, process.execPath, ['--perf-basic-prof', '--interpreted-frames-native-stack', path.join(REPO, 'test/workloads/profile-hot.mjs'), '60']);
  t.after(() => fs.rmSync(`/tmp/perf-${pid}.map`, { force: true }));
  // -L: the main thread alone (its TID is the PID), where the function runs; V8's compiler and GC
  // threads do other work.
  const stacks = await profileJson(['-L', String(pid)]);
  assert.ok(stacks.every((s) => s.pid === pid && s.tid === pid), JSON.stringify(stacks).slice(0, 2000));
  const isHot = (f: JsonFrame) => /\bbpfkitHotLoop\b/.test(f.name ?? '') && f.module === '[perf-map]';
  assertMostly(share(stacks, pid, isHot), 'bpfkitHotLoop', stacks);
});

test('a process in its own mount namespace, run from a copy the host cannot see, is named from that copy', async (t) => {
  if (!needsBpf(t)) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'profile-mntns-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const inside = path.join(dir, 'burn-cpu');
  // The tmpfs exists only in the new namespace: the host's `dir` stays empty.
  const pid = await startSpinner(t, 'unshare', ['-m', '--propagation', 'private', 'sh', '-c',
    'mount -t tmpfs bpfkit-profile "$1" && cp "$2" "$1/burn-cpu" && exec "$1/burn-cpu" 60', 'sh', dir, burnCpu('symtab')]);
  assert.equal(fs.existsSync(inside), false, 'the copy must not be visible from the host');
  assert.equal(fs.readlinkSync(`/proc/${pid}/exe`), inside);
  const stacks = await profileJson(['-p', String(pid)]);
  assertMostly(share(stacks, pid, (f) => f.name === 'burn_cpu' && f.module === inside), 'burn_cpu', stacks);
});

/** Whether a sampling perf event of hardware cycles attaches here, tried with a program of our own. */
function hardwareCyclesAttach(): boolean {
  const bpf = new BPF({ text: '#include <uapi/linux/bpf_perf_event.h>\nint on_sample(struct bpf_perf_event_data *ctx) { return 0; }', autoAttach: false });
  try {
    bpf.attachPerfEvent({ fnName: 'on_sample', evType: 0, evConfig: 0, sampleFreq: 49 });
    return true;
  } catch {
    return false;
  } finally {
    bpf.close();
  }
}

test('profile --explain picks the attach points this kernel offers', async (t) => {
  if (!needsBpf(t)) return;
  const SOFTWARE = "perf event software cpu-clock (bcc's)";
  const expected = hardwareCyclesAttach() ? "perf event hardware cpu-cycles (the CPU's PMU)" : SOFTWARE;
  const { chosen, stderr } = await explainedRun(t, 'profile', []);
  assert.deepEqual(chosen, { 'CPU samples': expected }, stderr);
  assert.match(stderr, /^ {2}program id \d+ do_perf_event: perf_event on perf_event type=[01],config=0$/m);
  // -I and -c keep bcc's cpu-clock whatever the machine has.
  for (const args of [['-I'], ['-c', '1000000']]) {
    const run = await explainedRun(t, 'profile', args);
    assert.deepEqual(run.chosen, { 'CPU samples': SOFTWARE }, run.stderr);
  }
});
