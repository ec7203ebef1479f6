// bashreadline against the real kernel: `bash -i` on a pseudo-terminal of its own (so readline has
// a real terminal) is typed known lines by test/workloads/bashreadline-pty.c, and the tool must
// show exactly those lines, in order, for that bash's PID. Other shells may be typed into meanwhile
// (other tests run concurrently): rows are filtered by the typed bash's PID.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BPF, type PerfEventArray } from 'bcc-node-bindings';
import { needsBpf } from '../helpers/kernel.ts';
import { expectedEventRecords, explainedRun } from '../helpers/attach.ts';
import { runToolToEnd, startInTest, stopAll } from '../helpers/tool.ts';
import { structFields } from '../helpers/bpf.ts';
import { workload } from '../helpers/workloads.ts';
import { fakeKernel } from '../helpers/kernel-view.ts';
import { buildProgram } from '../../lib/run/program.ts';
import { liveKernel } from '../../lib/kernel/view.ts';
import { COMM_LEN, LINE_EVENT_OFFSETS, decodeLineRecord } from '../../tools/bashreadline/events.ts';
import { BASH, LINE_READ, configureBashreadline } from '../../tools/bashreadline/program.ts';

const PURPOSE = 'lines bash reads (the return of readline)';
const BASH_COMMAND = [BASH, '--norc', '--noprofile', '-i'];
/** Typed in this order; the empty line is Enter alone, the long one is beyond bcc's 80 bytes. */
const LINES = ['echo one', '', 'true two', 'echo héllo wörld', `echo ${'x'.repeat(200)}`, 'exit'];

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bashreadline-home-'));
process.on('exit', () => fs.rmSync(home, { recursive: true, force: true }));

interface Typist {
  /** The PID of the program typed into (bash). */
  pid: number;
  /** Types the lines, and resolves with the program's exit status once it has ended. */
  go(): Promise<number>;
}

/** `command` started on a pty and waiting at its first prompt; nothing is typed before go(). */
async function typist(t: TestContext, lines: string[], command: string[]): Promise<Typist> {
  const child = spawn(workload('bashreadline-pty'), ['lines', String(lines.length), ...lines, ...command], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, HOME: home, HISTFILE: '/dev/null' },
  });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const closed = once(child, 'close');
  while (!/^pid \d+\n/.test(out)) {
    const ended = await Promise.race([once(child.stdout!, 'data').then(() => false), closed.then(() => true)]);
    if (ended && !/^pid \d+\n/.test(out)) throw new Error(`the typist ended before its program's first prompt: ${out}`);
  }
  return {
    pid: Number(/^pid (\d+)/.exec(out)![1]),
    go: async () => {
      child.stdin!.end('go\n');
      const [code] = await closed;
      assert.equal(code, 0, out);
      return Number(/^status (\d+)$/m.exec(out)![1]);
    },
  };
}

/** The COMMAND of each row of this PID, from bcc's columns ("%-9s %-7d %s"). */
function commandsOf(stdout: string, pid: number): string[] {
  const [header, ...rows] = stdout.split('\n').filter((l, i) => i === 0 || l !== '');
  assert.equal(header, 'TIME      PID     COMMAND');
  return rows.filter((r) => r.slice(10, 17).trim() === String(pid)).map((r) => {
    assert.match(r, /^\d\d:\d\d:\d\d {2}/);
    return r.slice(18);
  });
}

function jsonOf(stdout: string, pid: number): Array<Record<string, unknown>> {
  return stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.pid === pid);
}

/** The symbol a uretprobe should go on in `file` and its file offset, from binutils (not libbcc). */
function expectedProbe(file: string): { sym: string; offset: bigint } {
  const symbols = new Map(execFileSync('nm', ['-D', '--defined-only', file], { encoding: 'utf8' }).split('\n')
    .map((l) => l.trim().split(/\s+/)).filter((f) => f.length === 3).map(([addr, , name]) => [name, BigInt(`0x${addr}`)]));
  const sym = ['readline_internal_teardown', 'readline'].find((s) => symbols.has(s));
  assert.ok(sym, `no readline in ${file}`);
  const vaddr = symbols.get(sym)!;
  const loads = execFileSync('readelf', ['-lW', file], { encoding: 'utf8' }).split('\n').filter((l) => /^\s*LOAD\s/.test(l))
    .map((l) => l.trim().split(/\s+/)).map((f) => ({ offset: BigInt(f[1]), vaddr: BigInt(f[2]), filesz: BigInt(f[4]) }));
  const seg = loads.find((s) => vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz);
  assert.ok(seg, `no segment holds ${sym} in ${file}`);
  return { sym, offset: vaddr - seg.vaddr + seg.offset };
}

/** The libreadline the loader would give a program, from ldconfig's cache. */
function sharedReadline(): string {
  const line = execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }).split('\n').find((l) => /^\s*libreadline\.so\.8 \(/.test(l));
  assert.ok(line, 'no libreadline.so.8 in ldconfig -p');
  return line.split('=>')[1].trim();
}

test('bash -i fed known lines through a pty: exactly those lines, in order, for its PID; --json has the same with comm and uid', async (t) => {
  if (!needsBpf(t)) return;
  const plain = startInTest(t, 'bashreadline', []);
  const json = startInTest(t, 'bashreadline', ['--json']);
  await Promise.all([plain.ready, json.ready]);
  const bash = await typist(t, LINES, BASH_COMMAND);
  assert.equal(await bash.go(), 0);
  await stopAll(plain, json);
  assert.deepEqual(commandsOf(plain.stdout, bash.pid), LINES);
  const events = jsonOf(json.stdout, bash.pid);
  assert.deepEqual(events.map((e) => e.line), LINES);
  for (const e of events) {
    assert.deepEqual(Object.keys(e), ['time', 'timestamp', 'pid', 'uid', 'comm', 'line']);
    assert.match(String(e.time), /^\d\d:\d\d:\d\d$/);
    assert.equal(typeof e.timestamp, 'number');
    assert.deepEqual([e.uid, e.comm], [process.getuid!(), 'bash']);
  }
});

test('a bash already waiting at its prompt when the tool starts: its first line is seen too (readline_internal_teardown\'s return)', async (t) => {
  if (!needsBpf(t)) return;
  const bash = await typist(t, LINES, BASH_COMMAND);
  // bash is inside readline() now. A uretprobe placed on readline() itself would miss the return
  // of that call (its entry came before the probe): only there is the first line lost.
  const run = startInTest(t, 'bashreadline', []);
  await run.ready;
  assert.equal(await bash.go(), 0);
  await stopAll(run);
  const { sym } = expectedProbe(BASH);
  assert.deepEqual(commandsOf(run.stdout, bash.pid), sym === 'readline' ? LINES.slice(1) : LINES);
});

test('-s with a shared libreadline: a program named bash reading through it is shown; another program using it is not', async (t) => {
  if (!needsBpf(t)) return;
  const lib = sharedReadline();
  const run = startInTest(t, 'bashreadline', ['--json', '-s', lib]);
  await run.ready;
  const named = await typist(t, ['echo through the library', 'exit'], [workload('bashreadline-lib'), 'bash']);
  const other = await typist(t, ['typed into another program', 'exit'], [workload('bashreadline-lib'), 'python3']);
  assert.equal(await named.go(), 0);
  assert.equal(await other.go(), 0);
  await stopAll(run);
  assert.deepEqual(jsonOf(run.stdout, named.pid).map((e) => [e.comm, e.line]), [['bash', 'echo through the library'], ['bash', 'exit']]);
  assert.deepEqual(jsonOf(run.stdout, other.pid), []);
});

test('a line of exactly LINE_READ bytes arrives whole; a longer one is cut there, and --json says truncated', async (t) => {
  if (!needsBpf(t)) return;
  const exact = `: ${'a'.repeat(LINE_READ - 2)}`;
  const longer = `: ${'b'.repeat(LINE_READ + 6)}`;
  const run = startInTest(t, 'bashreadline', ['--json']);
  await run.ready;
  const bash = await typist(t, [exact, longer, 'exit'], BASH_COMMAND);
  assert.equal(await bash.go(), 0);
  await stopAll(run);
  assert.deepEqual(jsonOf(run.stdout, bash.pid).map((e) => [e.line, e.truncated ?? false]),
    [[exact, false], [longer.slice(0, LINE_READ), true], ['exit', false]]);
});

test('bashreadline --explain picks the attach points this kernel offers, naming the file and the offset', async (t) => {
  if (!needsBpf(t)) return;
  const { chosen, stderr } = await explainedRun(t, 'bashreadline', []);
  const { sym, offset } = expectedProbe(BASH);
  assert.deepEqual(chosen, {
    [PURPOSE]: `uretprobe on ${sym} in ${BASH} (file offset 0x${offset.toString(16)})`,
    'event records': expectedEventRecords(),
  }, stderr);
  assert.match(stderr, new RegExp(`^ {2}program id \\d+ line_returned: kprobe on uretprobe ${BASH}:${sym}$`, 'm'));
});

test('-s with a file without readline, or one that is no ELF file: one line on stderr, exit 2', async (t) => {
  if (!needsBpf(t)) return;
  const noReadline = workload('bashreadline-pty');
  const r = await runToolToEnd('bashreadline', ['-s', noReadline]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `bashreadline: -s ${noReadline}: no readline in it (it has neither readline_internal_teardown nor readline as a symbol) (see bashreadline --help)\n`);
  assert.equal(r.stdout, '');
  const text = await runToolToEnd('bashreadline', ['-s', '/proc/self/status']);
  assert.equal(text.code, 2);
  assert.match(text.stderr, /^bashreadline: argument -s\/--shared: "\/proc\/self\/status" is not an ELF binary or library \(see bashreadline --help\)\n$/);
});

test('through a perf buffer (kernels before 5.8) the same lines arrive, read by the uretprobe', async (t) => {
  if (!needsBpf(t)) return;
  const live = liveKernel();
  const program = configureBashreadline({}, undefined, fakeKernel({ ringBuffer: () => false, cpus: () => live.cpus() }));
  assert.equal(program.defines!.USE_RINGBUF, false);
  const p = buildProgram(program);
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    const records: Buffer[] = [];
    const events = bpf.table<PerfEventArray<Buffer>>('events').open((r) => records.push(r), { raw: true });
    program.attach(bpf);
    const bash = await typist(t, LINES, BASH_COMMAND);
    assert.equal(await bash.go(), 0);
    events.flush();
    // Read in one drain at the end, a perf buffer gives each CPU's records in turn: in time order
    // only within a CPU, so the lines are put back in order by their timestamps.
    const mine = records.map(decodeLineRecord).filter((e) => e.pid === bash.pid).sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    assert.deepEqual(mine.map((e) => e.line), LINES);
  } finally {
    bpf.close();
  }
});

test('events.ts reads struct line_event at the offsets libbcc lays the C struct out with', async (t) => {
  if (!needsBpf(t)) return;
  const p = buildProgram(configureBashreadline({}));
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    const fields = structFields(bpf, 'scratch');
    assert.deepEqual(Object.fromEntries(fields.map((f) => [f.name, f.offset])), LINE_EVENT_OFFSETS);
    const comm = fields.find((f) => f.name === 'comm')!.layout;
    assert.equal(comm.kind === 'chararray' ? comm.length : -1, COMM_LEN);
  } finally {
    bpf.close();
  }
});
