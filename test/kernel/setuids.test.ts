// setuids against the real kernel: a small C program (test/workloads/setuids-switch.c), run as
// root, switches to nobody and back with every call of the setuid family, then drops root and
// fails to get it back; it prints each call with its result and the ids it had before it. The
// tool must report exactly those calls, in order, with their arguments, results and old ids. A
// second copy is the control that -p must leave out.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { BPF, rawTracepointSupported, tracepointExists } from 'bcc-node-bindings';
import { needsBpf } from '../helpers/kernel.ts';
import { explainedRun, expectedEventRecords, firstUsable } from '../helpers/attach.ts';
import { type ToolRun, startInTest, stopAll } from '../helpers/tool.ts';
import { workload } from '../helpers/workloads.ts';
import { structFields } from '../helpers/bpf.ts';
import { buildProgram } from '../../lib/run/program.ts';
import { COMM_LEN, SETID_EVENT_OFFSETS } from '../../tools/setuids/events.ts';
import { configureSetuids } from '../../tools/setuids/program.ts';

const COMM = 'setuids-switch';

/** What the workload does, as setuids.bt's SYSCALL and ARGS (RET) columns and UID (the real uid before). */
const EXPECTED: Array<[uid: number, syscall: string, args: string]> = [
  [0, 'setresgid', 'rgid=-1 egid=65534 sgid=-1 (0)'],
  [0, 'setresuid', 'ruid=-1 euid=65534 suid=-1 (0)'],
  [0, 'setfsuid', 'uid=0 (prevuid=65534)'],
  [0, 'setfsuid', 'uid=65534 (prevuid=0)'],
  [0, 'setresuid', 'ruid=-1 euid=0 suid=-1 (0)'],
  [0, 'setresgid', 'rgid=-1 egid=0 sgid=-1 (0)'],
  [0, 'setgid', 'gid=0 (0)'],
  [0, 'setreuid', 'ruid=0 euid=0 (0)'],
  [0, 'setregid', 'rgid=65534 egid=65534 (0)'],
  [0, 'setfsgid', 'gid=0 (prevgid=65534)'],
  [0, 'setfsgid', 'gid=65534 (prevgid=0)'],
  [0, 'setuid', 'uid=65534 (0)'],
  [65534, 'setuid', 'uid=0 (-1)'],
  [65534, 'setgid', 'gid=0 (-1)'],
  [65534, 'setresuid', 'ruid=-1 euid=0 suid=-1 (-1)'],
  [65534, 'setfsuid', 'uid=0 (prevuid=65534)'],
];

const ARG_NAMES: Record<string, string[]> = {
  setuid: ['uid'], setgid: ['gid'], setfsuid: ['uid'], setfsgid: ['gid'], setreuid: ['ruid', 'euid'], setregid: ['rgid', 'egid'],
  setresuid: ['ruid', 'euid', 'suid'], setresgid: ['rgid', 'egid', 'sgid'],
};

interface Made { syscall: string; args: number[]; ret: number; uids: number[]; gids: number[] }

/** The workload, started and held until go(): its PID is known before it makes any call. */
async function held(t: TestContext) {
  const child = spawn(workload('setuids-switch'), [], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  while (!out.includes('\n')) await once(child.stdout!, 'data');
  assert.equal(out.split('\n')[0], `pid ${child.pid}`);
  return {
    pid: child.pid!,
    go: async (): Promise<Made[]> => {
      child.stdin!.end('go\n');
      // 'close', not 'exit': only then has stdout delivered everything the child printed.
      const [code] = await once(child, 'close');
      assert.equal(code, 0);
      return out.split('\n').slice(1).filter(Boolean).map((l) => {
        const [syscall, args, ret, uids, gids] = l.split(' ');
        const nums = (s: string) => s.split(',').map(Number);
        return { syscall, args: nums(args), ret: Number(ret), uids: nums(uids), gids: nums(gids) };
      });
    },
  };
}

const start = (t: TestContext, args: string[], env?: Record<string, string>): ToolRun => startInTest(t, 'setuids', args, { env });

type Row = Record<string, string>;

/** Text rows keyed by setuids.bt's header labels (each column starts where its label does; ARGS (RET) is the rest). */
function rows(stdout: string, header = /^TIME {5}PID {4}COMM {13}UID {4}SYSCALL {3}ARGS \(RET\)$/): Row[] {
  const [first, ...lines] = stdout.split('\n').filter(Boolean);
  assert.match(first, header);
  const labels = [...first.replace('ARGS (RET)', 'ARGS').matchAll(/\S+/g)].map((m) => ({ label: m[0], start: m.index! }));
  return lines.map((line) => Object.fromEntries(labels.map(({ label, start }, i) =>
    [label, line.slice(start, labels[i + 1]?.start).trim()])));
}

const jsonRows = (stdout: string) => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);

/** The program's own record of its calls, as the ARGS (RET) column should say it. */
function argsColumn(m: Made): string {
  const args = ARG_NAMES[m.syscall].map((name, i) => `${name}=${m.args[i]}`).join(' ');
  if (m.syscall === 'setfsuid' || m.syscall === 'setfsgid') return `${args} (prev${m.syscall.slice(-3)}=${m.ret})`;
  return `${args} (${m.ret})`;
}

test('every call of a program that switches to nobody and back is one row, in order, with its arguments, old uid and result; --json has the same and every old id', async (t) => {
  if (!needsBpf(t)) return;
  const text = start(t, []);
  const json = start(t, ['--json']);
  const stamped = start(t, ['-T']);
  await Promise.all([text.ready, json.ready, stamped.ready]);
  const w = await held(t);
  const made = await w.go();
  await stopAll(text, json, stamped);

  // The program's own view, checked once so the assertions below mean what they say (the three
  // failures are -EPERM, which is -1).
  assert.deepEqual(made.map((m) => [m.uids[0], m.syscall, argsColumn(m)]), EXPECTED);
  assert.deepEqual(made.filter((m) => m.ret < 0).map((m) => m.ret), [-1, -1, -1]);

  const mine = rows(text.stdout).filter((r) => r.PID === String(w.pid));
  assert.deepEqual(mine.map((r) => [Number(r.UID), r.SYSCALL, r.ARGS]), EXPECTED);
  for (const r of mine) {
    assert.equal(r.COMM, COMM);
    assert.match(r.TIME, /^\d\d:\d\d:\d\d$/);
  }

  const withTime = rows(stamped.stdout, /^TIME\(s\) {2}TIME {5}PID {4}COMM {13}UID {4}SYSCALL {3}ARGS \(RET\)$/).filter((r) => r.PID === String(w.pid));
  assert.deepEqual(withTime.map((r) => [Number(r.UID), r.SYSCALL, r.ARGS]), EXPECTED);
  const seconds = withTime.map((r) => Number(r['TIME(s)']));
  for (const [i, s] of seconds.entries()) {
    assert.match(withTime[i]['TIME(s)'], /^\d+\.\d{3}$/);
    if (i > 0) assert.ok(s >= seconds[i - 1]);
  }

  const events = jsonRows(json.stdout).filter((e) => e.pid === w.pid);
  assert.deepEqual(events.map((e) => [e.syscall, Object.values(e.args), e.ret]), made.map((m) => [m.syscall, m.args, m.ret]));
  assert.deepEqual(events.map((e) => Object.keys(e.args)), made.map((m) => ARG_NAMES[m.syscall]));
  // Old ids as /proc/self/status said them just before each call (real, effective, saved, fs).
  assert.deepEqual(events.map((e) => [[e.old.uid, e.old.euid, e.old.suid, e.old.fsuid], [e.old.gid, e.old.egid, e.old.sgid, e.old.fsgid]]),
    made.map((m) => [m.uids, m.gids]));
  assert.deepEqual(events.map((e) => e.errno ?? null), made.map((m) => (m.ret === -1 ? 'EPERM' : null)));
  for (const e of events) {
    assert.deepEqual([e.comm, e.tid], [COMM, w.pid]);
    assert.match(e.time, /^\d\d:\d\d:\d\d$/);
    assert.equal(typeof e.timestamp, 'number');
  }
});

test('-p shows only that process\'s calls; the control, run meanwhile, is absent', async (t) => {
  if (!needsBpf(t)) return;
  const w = await held(t);
  const control = await held(t);
  const only = start(t, ['-p', String(w.pid)]);
  const all = start(t, []);
  await Promise.all([only.ready, all.ready]);
  await Promise.all([w.go(), control.go()]);
  await stopAll(only, all);

  assert.equal(rows(all.stdout).filter((r) => r.PID === String(control.pid)).length, EXPECTED.length);
  const shown = rows(only.stdout);
  assert.deepEqual(shown.map((r) => [r.PID, Number(r.UID), r.SYSCALL, r.ARGS]), EXPECTED.map(([uid, s, a]) => [String(w.pid), uid, s, a]));
});

test('with the syscall tracepoints ruled out (BPFKIT_AVOID=tracepoint), the raw sys_enter/sys_exit rung gives the same rows', async (t) => {
  if (!needsBpf(t)) return;
  const w = await held(t);
  const raw = start(t, ['--explain', '-p', String(w.pid)], { BPFKIT_AVOID: 'tracepoint' });
  const json = start(t, ['--json', '-p', String(w.pid)], { BPFKIT_AVOID: 'tracepoint' });
  await Promise.all([raw.ready, json.ready]);
  const made = await w.go();
  await stopAll(raw, json);
  assert.match(raw.stderr, /^ {2}setuid\(\), .*: raw tracepoints sys_enter and sys_exit /m);
  assert.deepEqual(rows(raw.stdout).map((r) => [r.PID, Number(r.UID), r.SYSCALL, r.ARGS]), EXPECTED.map(([uid, s, a]) => [String(w.pid), uid, s, a]));
  assert.deepEqual(jsonRows(json.stdout).map((e) => [e.syscall, Object.values(e.args), e.ret, e.old.euid, e.old.fsgid]),
    made.map((m) => [m.syscall, m.args, m.ret, m.uids[1], m.gids[3]]));
});

test('events.ts reads struct setid_event at the offsets libbcc lays the C struct out with', async (t) => {
  if (!needsBpf(t)) return;
  const p = buildProgram(configureSetuids({}));
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    const fields = structFields(bpf, 'pending');
    assert.deepEqual(Object.fromEntries(fields.map((f) => [f.name, f.offset])), SETID_EVENT_OFFSETS);
    const comm = fields.find((f) => f.name === 'comm')!.layout;
    assert.equal(comm.kind === 'chararray' ? comm.length : -1, COMM_LEN);
  } finally {
    bpf.close();
  }
});

test('setuids --explain picks the attach points this kernel offers', async (t) => {
  if (!needsBpf(t)) return;
  const { chosen, stderr } = await explainedRun(t, 'setuids', []);
  assert.deepEqual(chosen, {
    'setuid(), setgid(), setreuid(), setregid(), setresuid(), setresgid(), setfsuid(), setfsgid()': firstUsable('setuid family', [
      ['tracepoints syscalls:sys_enter_* and sys_exit_* of each',
        () => tracepointExists('syscalls', 'sys_enter_setuid') && tracepointExists('syscalls', 'sys_exit_setuid')],
      // setuids knows the eight syscall numbers of these architectures only.
      ['raw tracepoints sys_enter and sys_exit (every syscall runs them; the eight are picked by number)',
        () => rawTracepointSupported() && ['x64', 'arm64', 'riscv64'].includes(process.arch)],
    ]),
    'event records': expectedEventRecords(),
  }, stderr);
});
