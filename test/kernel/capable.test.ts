// capable against the real kernel: a small C program (test/workloads/capable-checks.c) runs
// `nice -n -5 true` and `chown` in children whose PIDs it prints, as root and as nobody, or makes
// the same checks itself; each nice is exactly one CAP_SYS_NICE check and each chown one
// CAP_CHOWN check, allowed for root and denied for nobody. Rows are matched by those PIDs: other
// tests run meanwhile.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BPF, PROG_TYPE, kernelBtfOrNull, kprobesAvailable, tracepointExists } from 'bcc-node-bindings';
import { needsBpf } from '../helpers/kernel.ts';
import { expectedEventRecords, explainedRun, firstUsable } from '../helpers/attach.ts';
import { startInTest, stopAll } from '../helpers/tool.ts';
import { structFields } from '../helpers/bpf.ts';
import { workload } from '../helpers/workloads.ts';
import { buildProgram } from '../../lib/run/program.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { kernelFunctionExists } from '../../lib/kernel/kallsyms.ts';
import { CAP_EVENT_OFFSETS, COMM_LEN } from '../../tools/capable/events.ts';
import { configureCapable, type CapableConfig } from '../../tools/capable/program.ts';
import { CAP_SLOTS } from '../../tools/capable/metrics.ts';

const NOBODY = 65534;
const CAP_CHOWN = 0;
const CAP_SYS_NICE = 23;
/** What AUDIT shows for these checks: bcc's 1 where the hook gives the opts (kprobe), N/A on the tracepoint. */
const AUDIT = tracepointExists('capability', 'cap_capable') ? 'N/A' : '1';

/** A directory nobody can enter, for files the workload hands to nobody. */
function scratch(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpfkit-capable-'));
  fs.chmodSync(dir, 0o755);
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Checks {
  pid: number;
  /** exec mode: the children, by command. */
  children: { nice: number[]; chown: number[] };
  /** self mode: the "done" line's counts. */
  done: Record<string, number>;
  statuses: Array<[string, number, number]>;
}

/** The workload, started and held until go(): its PID is known before it checks anything. */
async function held(t: TestContext, mode: 'exec' | 'self', n: number, k: number, uid?: number) {
  const file = path.join(scratch(t), 'owned');
  const args = [mode, String(n), String(k), file, ...(uid === undefined ? [] : [String(uid)])];
  const child = spawn(workload('capable-checks'), args, { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr!.resume();
  while (!/^ready \d+\n/m.test(out)) {
    if (child.exitCode !== null) throw new Error(`capable-checks exited (${child.exitCode}) before it was ready`);
    await once(child.stdout!, 'data');
  }
  const pid = Number(/^ready (\d+)/m.exec(out)![1]);
  return {
    pid,
    /** Lets it check; a self-mode workload then stays until `release` (its stacks are named meanwhile). */
    go: async (release?: Promise<unknown>): Promise<Checks> => {
      child.stdin!.write('go\n');
      await release;
      child.stdin!.end();
      // 'close', not 'exit': only then has stdout delivered everything the child printed.
      const [code] = await once(child, 'close');
      assert.equal(code, 0, out);
      const statuses = [...out.matchAll(/^(nice|chown) (\d+) (\d+)$/gm)].map((m) => [m[1], Number(m[2]), Number(m[3])] as [string, number, number]);
      const doneLine = /^done.*$/m.exec(out)![0];
      const done = Object.fromEntries([...doneLine.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
      return {
        pid, statuses, done,
        children: { nice: statuses.filter((s) => s[0] === 'nice').map((s) => s[1]), chown: statuses.filter((s) => s[0] === 'chown').map((s) => s[1]) },
      };
    },
  };
}

type Row = Record<string, string>;

/**
 * Text rows keyed by the header's labels; stack lines left out. Split on spaces from both ends, as
 * a wide PID (pid_max 4194304) pushes the columns right and a COMM may hold a space.
 */
function rows(stdout: string): Row[] {
  const [header, ...lines] = stdout.split('\n').filter(Boolean);
  assert.match(header, /^TIME {6}UID {4}PID {4}(TID {4})?COMM {13}CAP {2}NAME {17}AUDIT {2}VERDICT( INSETID)?$/);
  const labels = header.split(/ +/);
  const head = labels.indexOf('COMM');
  const tail = labels.length - head - 1;
  return lines.filter((l) => !l.startsWith(' ')).map((line) => {
    const f = line.split(/ +/);
    const comm = f.slice(head, f.length - tail).join(' ');
    return Object.fromEntries([...f.slice(0, head), comm, ...f.slice(f.length - tail)].map((v, i) => [labels[i], v]));
  });
}

const jsonRows = (stdout: string) => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);

/** [pid, cap, verdict, uid, comm] of the CAP_CHOWN and CAP_SYS_NICE rows of these PIDs, sorted. */
function checksOf(found: Array<{ pid: number; cap: number; verdict: string; uid: number; comm: string }>, pids: number[]) {
  return found.filter((r) => pids.includes(r.pid) && (r.cap === CAP_CHOWN || r.cap === CAP_SYS_NICE))
    .map((r) => [r.pid, r.cap, r.verdict, r.uid, r.comm]).sort();
}

function expected(c: Checks, verdict: string, uid: number) {
  return [
    ...c.children.nice.map((pid) => [pid, CAP_SYS_NICE, verdict, uid, 'nice']),
    ...c.children.chown.map((pid) => [pid, CAP_CHOWN, verdict, uid, 'chown']),
  ].sort();
}

test('each `nice -n -5 true` is one CAP_SYS_NICE row and each chown one CAP_CHOWN row: allow for root, deny for nobody; --json and -x agree', async (t) => {
  if (!needsBpf(t)) return;
  const root = await held(t, 'exec', 5, 4);
  const nobody = await held(t, 'exec', 3, 2, NOBODY);
  const text = startInTest(t, 'capable', []);
  const json = startInTest(t, 'capable', ['--json']);
  const extra = startInTest(t, 'capable', ['-x']);
  await Promise.all([text.ready, json.ready, extra.ready]);
  const [r, n] = await Promise.all([root.go(), nobody.go()]);
  await stopAll(text, json, extra);

  // What the commands said of themselves: nice goes on when refused (exit 0), chown does not.
  assert.deepEqual(r.statuses.map((s) => [s[0], s[2]]), [...Array(5).fill(['nice', 0]), ...Array(4).fill(['chown', 0])]);
  assert.deepEqual(n.statuses.map((s) => [s[0], s[2]]), [...Array(3).fill(['nice', 0]), ...Array(2).fill(['chown', 1])]);
  const pids = [...r.children.nice, ...r.children.chown, ...n.children.nice, ...n.children.chown];
  assert.equal(new Set(pids).size, 14);

  const textRows = rows(text.stdout).map((row) => ({ pid: Number(row.PID), cap: Number(row.CAP), verdict: row.VERDICT, uid: Number(row.UID), comm: row.COMM, row }));
  assert.deepEqual(checksOf(textRows, pids), [...expected(r, 'allow', 0), ...expected(n, 'deny', NOBODY)].sort());
  for (const { row } of textRows.filter((x) => pids.includes(x.pid) && (x.cap === CAP_CHOWN || x.cap === CAP_SYS_NICE))) {
    assert.equal(row.NAME, row.CAP === '0' ? 'CAP_CHOWN' : 'CAP_SYS_NICE');
    assert.equal(row.AUDIT, AUDIT);
    assert.match(row.TIME, /^\d\d:\d\d:\d\d$/);
  }

  const events = jsonRows(json.stdout);
  assert.deepEqual(checksOf(events as any, pids), [...expected(r, 'allow', 0), ...expected(n, 'deny', NOBODY)].sort());
  for (const e of events.filter((x) => pids.includes(x.pid) && (x.cap === CAP_CHOWN || x.cap === CAP_SYS_NICE))) {
    assert.equal(e.name, e.cap === CAP_CHOWN ? 'CAP_CHOWN' : 'CAP_SYS_NICE');
    assert.equal(e.ret, e.verdict === 'allow' ? 0 : -1); // -EPERM
    assert.equal(e.tid, e.pid);
    assert.equal(e.audit, AUDIT === 'N/A' ? null : true);
    assert.ok(!('kernel_stack' in e) && !('user_stack' in e));
  }

  const extraRows = rows(extra.stdout).map((row) => ({ pid: Number(row.PID), cap: Number(row.CAP), verdict: row.VERDICT, uid: Number(row.UID), comm: row.COMM, row }));
  assert.deepEqual(checksOf(extraRows, pids), [...expected(r, 'allow', 0), ...expected(n, 'deny', NOBODY)].sort());
  // INSETID is set only for checks made by the set*id calls (setpriv's own CAP_SETUID and
  // CAP_SETGID checks, on the kprobe rung): not for these.
  for (const { row } of extraRows.filter((x) => pids.includes(x.pid))) assert.equal(row.TID, row.PID);
  for (const { row } of extraRows.filter((x) => pids.includes(x.pid) && (x.cap === CAP_CHOWN || x.cap === CAP_SYS_NICE))) {
    assert.equal(row.INSETID, AUDIT === 'N/A' ? 'N/A' : '0');
  }
});

test('-p shows that process only, every check; --unique one row per capability for it, as bcc', async (t) => {
  if (!needsBpf(t)) return;
  const w = await held(t, 'self', 20, 10);
  const other = await held(t, 'self', 3, 0);
  const only = startInTest(t, 'capable', ['-p', String(w.pid)]);
  const unique = startInTest(t, 'capable', ['--unique']);
  await Promise.all([only.ready, unique.ready]);
  const [c, o] = await Promise.all([w.go(), other.go()]);
  await stopAll(only, unique);
  assert.deepEqual(c.done, { nice_ok: 20, nice_denied: 0, chown_ok: 10, chown_denied: 0 });
  assert.deepEqual(o.done, { nice_ok: 3, nice_denied: 0, chown_ok: 0, chown_denied: 0 });

  const mine = rows(only.stdout);
  assert.ok(mine.every((r) => r.PID === String(w.pid)), only.stdout);
  assert.deepEqual(mine.map((r) => [r.COMM, r.NAME, r.VERDICT]), [
    ...Array(20).fill(['capable-checks', 'CAP_SYS_NICE', 'allow']),
    ...Array(10).fill(['capable-checks', 'CAP_CHOWN', 'allow']),
  ]);

  const firsts = rows(unique.stdout).filter((r) => r.PID === String(w.pid) || r.PID === String(other.pid));
  assert.deepEqual(firsts.map((r) => [Number(r.PID), r.NAME]).sort(), [
    [w.pid, 'CAP_CHOWN'], [w.pid, 'CAP_SYS_NICE'], [other.pid, 'CAP_SYS_NICE'],
  ].sort());
});

test('-K and -U: each check with its kernel stack (cap_capable, setpriority) and user stack; --json carries them', async (t) => {
  if (!needsBpf(t)) return;
  const w = await held(t, 'self', 3, 0);
  const text = startInTest(t, 'capable', ['-K', '-U', '-p', String(w.pid)]);
  const json = startInTest(t, 'capable', ['-K', '-U', '--json', '-p', String(w.pid)]);
  await Promise.all([text.ready, json.ready]);
  // The process stays until both have printed its three checks: a process that is gone has no
  // memory maps to name its user frames with.
  await w.go(Promise.all([
    text.waitForOutput(/(^\S.* CAP_SYS_NICE [^\n]*\n(?: {4}.*\n)+){3}/m),
    json.waitForOutput(/(^\{.*\n){3}/m),
  ]));
  await stopAll(text, json);

  const [, ...lines] = text.stdout.split('\n').filter(Boolean);
  const blocks: string[][] = [];
  for (const line of lines) {
    if (!line.startsWith(' ')) blocks.push([line]);
    else blocks.at(-1)!.push(line);
  }
  assert.equal(blocks.length, 3, text.stdout);
  for (const [row, ...frames] of blocks) {
    const [, uid, pid, comm, cap, name, , verdict] = row.split(/ +/);
    assert.deepEqual([uid, pid, comm, cap, name, verdict], ['0', String(w.pid), 'capable-checks', '23', 'CAP_SYS_NICE', 'allow']);
    assert.ok(frames.every((f) => f.startsWith('        ')), frames.join('\n'));
    const names = frames.map((f) => f.trim());
    assert.ok(names.some((f) => /^cap_capable\+0x[0-9a-f]+ \[kernel\]$/.test(f)), names.join('\n'));
    assert.ok(names.some((f) => /setpriority.* \[kernel\]$/.test(f)), names.join('\n'));
    // The user stack: at least the libc call the check came from.
    assert.ok(names.some((f) => /setpriority.* \[libc\.so\.6\]$/.test(f)), names.join('\n'));
  }

  const events = jsonRows(json.stdout);
  assert.equal(events.length, 3);
  for (const e of events) {
    assert.equal(e.name, 'CAP_SYS_NICE');
    assert.ok(e.kernel_stack.some((f: string) => f.startsWith('cap_capable+0x')), JSON.stringify(e));
    assert.ok(e.user_stack.some((f: string) => /setpriority.* \[libc\.so\.6\]$/.test(f)), JSON.stringify(e));
  }
});

test('--metrics counts checks by capability and verdict in the kernel', async (t) => {
  if (!needsBpf(t)) return;
  const root = await held(t, 'self', 7, 4);
  const nobody = await held(t, 'self', 5, 3, NOBODY);
  const port = 20000 + (process.pid % 20000);
  const granted = startInTest(t, 'capable', ['-p', String(root.pid), '--metrics', `127.0.0.1:${port}`]);
  const refused = startInTest(t, 'capable', ['-p', String(nobody.pid), '--metrics', `127.0.0.1:${port + 1}`]);
  await Promise.all([granted.ready, refused.ready]);
  const [r, n] = await Promise.all([root.go(), nobody.go()]);
  assert.deepEqual([r.done, n.done], [
    { nice_ok: 7, nice_denied: 0, chown_ok: 4, chown_denied: 0 },
    { nice_ok: 0, nice_denied: 5, chown_ok: 0, chown_denied: 3 },
  ]);
  const scrape = async (p: number) => (await fetch(`http://127.0.0.1:${p}/metrics`)).text();
  const [allowed, denied] = await Promise.all([scrape(port), scrape(port + 1)]);
  await stopAll(granted, refused);
  const series = (body: string) => [...body.matchAll(/^bpfkit_capability_checks_total(\{[^}]*\}) (\d+)$/gm)].map((m) => [m[1], Number(m[2])]);
  assert.deepEqual(series(allowed), [['{cap="CAP_CHOWN",verdict="allow"}', 4], ['{cap="CAP_SYS_NICE",verdict="allow"}', 7]]);
  assert.deepEqual(series(denied), [['{cap="CAP_CHOWN",verdict="deny"}', 3], ['{cap="CAP_SYS_NICE",verdict="deny"}', 5]]);
});

// --- the fallback this kernel does not need, configured for a kernel without the tracepoint ---

const BEFORE_TRACEPOINT: Partial<KernelView> = {
  tracepoint: (category, event) => !(category === 'capability' && event === 'cap_capable') && tracepointExists(category, event),
  kprobes: () => true,
  kernelFunction: (name) => name === 'cap_capable',
};

test('the kprobe fallback passes the verifier, in every shape the options give it', async (t) => {
  if (!needsBpf(t)) return;
  const shapes: CapableConfig[] = [
    { verbose: false, events: true, count: false, self: process.pid },
    { verbose: true, events: true, count: true, self: process.pid, pid: process.pid, kernelStack: true, userStack: true, unique: true },
    { verbose: true, events: false, count: true, self: process.pid },
  ];
  for (const [config, view] of [
    ...shapes.map((c) => [c, { ...liveKernel(), ...BEFORE_TRACEPOINT }] as const),
    // Before 5.1 the fourth argument was an int, and there was no ring buffer.
    [shapes[0], { ...liveKernel(), ...BEFORE_TRACEPOINT, release: '4.19.0-27-amd64', ringBuffer: () => false }] as const,
  ]) {
    const program = configureCapable(config, view);
    assert.equal(program.hook, 'kprobe');
    const p = buildProgram(program);
    const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
    try {
      assert.deepEqual(bpf.functionNames().sort(), ['capable_entry', 'capable_return']);
      for (const name of ['capable_entry', 'capable_return']) assert.ok(bpf.loadFunc(name, PROG_TYPE.KPROBE).fd >= 0, `${name} ${JSON.stringify(program.defines)}`);
    } finally {
      bpf.close();
    }
  }
});

test('events.ts reads struct cap_event at the offsets libbcc lays the C struct out with; `checks` has a slot per capability and verdict', async (t) => {
  if (!needsBpf(t)) return;
  // Through a perf buffer, each CPU's record is a map value: its layout can be read back.
  const p = buildProgram(configureCapable({ verbose: false, events: true, count: true, self: process.pid }, { ...liveKernel(), ringBuffer: () => false }));
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    const fields = structFields(bpf, 'bpfkit_event_scratch');
    assert.deepEqual(Object.fromEntries(fields.map((f) => [f.name, f.offset])), CAP_EVENT_OFFSETS);
    const comm = fields.find((f) => f.name === 'comm')!.layout;
    assert.equal(comm.kind === 'chararray' ? comm.length : -1, COMM_LEN);
    assert.equal(bpf.table('checks').info.maxEntries, CAP_SLOTS * 2);
  } finally {
    bpf.close();
  }
});

test('capable --explain picks the attach points this kernel offers', async (t) => {
  if (!needsBpf(t)) return;
  const { chosen, stderr } = await explainedRun(t, 'capable', []);
  assert.deepEqual(chosen, {
    'capability checks': firstUsable('capability checks', [
      ['tracepoint capability:cap_capable (no opts: AUDIT and INSETID unknown, every check shown)', () => tracepointExists('capability', 'cap_capable')],
      ["kprobe and kretprobe on cap_capable (bcc's: AUDIT and INSETID from its opts)", () => kprobesAvailable() && kernelFunctionExists('cap_capable')],
    ]),
    UID: kernelBtfOrNull()?.fieldLocation('cred', 'uid') ? "the checked credentials' (struct cred.uid at the running kernel's BTF offset)"
      : "the current task's (bpf_get_current_uid_gid(), as bcc)",
    'event records': expectedEventRecords(),
  }, stderr);
});
