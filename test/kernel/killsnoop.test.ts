// killsnoop against the real kernel: a small C program sends a known list of signals (every
// traced syscall, successes and failures) and prints what each call returned; the tool must
// report exactly those calls, in order, with the right signal, target and result. A second copy
// of the program is the control that filters must leave out.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BPF, PROG_TYPE, kprobesAvailable, rawTracepointSupported, tracepointExists, type PerfEventArray } from 'bcc-node-bindings';
import { needsBpf } from '../helpers/kernel.ts';
import { expectedEventRecords, explainedRun, firstUsable } from '../helpers/attach.ts';
import { type ToolRun, startInTest, stopAll } from '../helpers/tool.ts';
import { buildProgram } from '../../lib/run/program.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { syscallFunction } from '../../lib/kernel/kallsyms.ts';
import { COMM_LEN, SIGNAL_EVENT_OFFSETS, SYSCALLS, decodeSignalRecord } from '../../tools/killsnoop/events.ts';
import { configureKillsnoop, type KillsnoopConfig } from '../../tools/killsnoop/program.ts';
import { structFields } from '../helpers/bpf.ts';

/** Sends ROUNDS rounds of eight signals, then SIGKILL to its target, and prints each call's result. */
const SIGNALLER = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Above PID_MAX_LIMIT: no process ever has it, whatever PIDs the machine recycles meanwhile. */
#define NO_PID 4194305

static long ret(long r) { return r < 0 ? -errno : r; }

static void say(const char *call, int sig, int tpid, int tgid, int fd, long r)
{
    printf("%s %d %d %d %d %ld\n", call, sig, tpid, tgid, fd, r);
}

int main(int argc, char **argv)
{
    int rounds = atoi(argv[1]);
    int ready[2];
    if (pipe(ready))
        return 1;
    pid_t target = fork();
    if (target == 0) {
        int s[] = { SIGUSR1, SIGUSR2, 35, 36, 37 };
        for (int i = 0; i < 5; i++)
            signal(s[i], SIG_IGN);
        if (write(ready[1], "x", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    char c;
    if (read(ready[0], &c, 1) != 1)
        return 1;
    /* a process that is gone: a child that has exited and been reaped. Its pidfd still names it
     * (and gives ESRCH) even if its PID number is given to another process meanwhile. */
    pid_t gone = fork();
    if (gone == 0)
        _exit(0);
    int target_fd = syscall(SYS_pidfd_open, target, 0);
    int gone_fd = syscall(SYS_pidfd_open, gone, 0);
    waitpid(gone, NULL, 0);
    printf("target %d gone %d\n", target, gone);
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof line, stdin))
        return 3;
    siginfo_t info;
    memset(&info, 0, sizeof info);
    info.si_code = SI_QUEUE;
    info.si_pid = getpid();
    info.si_uid = getuid();
    for (int i = 0; i < rounds; i++) {
        say("kill", SIGUSR1, target, 0, -1, ret(kill(target, SIGUSR1)));
        say("kill", SIGTERM, NO_PID, 0, -1, ret(kill(NO_PID, SIGTERM)));
        say("tkill", SIGUSR2, target, 0, -1, ret(syscall(SYS_tkill, target, SIGUSR2)));
        say("tgkill", 0, target, target, -1, ret(syscall(SYS_tgkill, target, target, 0)));
        say("pidfd_send_signal", 36, target, 0, target_fd, ret(syscall(SYS_pidfd_send_signal, target_fd, 36, NULL, 0)));
        say("pidfd_send_signal", SIGUSR1, gone, 0, gone_fd, ret(syscall(SYS_pidfd_send_signal, gone_fd, SIGUSR1, NULL, 0)));
        say("rt_sigqueueinfo", 35, target, 0, -1, ret(syscall(SYS_rt_sigqueueinfo, target, 35, &info)));
        say("kill", 100, target, 0, -1, ret(kill(target, 100)));
    }
    say("kill", SIGKILL, target, 0, -1, ret(kill(target, SIGKILL)));
    waitpid(target, NULL, 0);
    return 0;
}
`;

const ROUNDS = 12;
const PER_ROUND = 8;

let binary: string | undefined;
function signaller(): string {
  if (binary) return binary;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpfkit-killsnoop-'));
  fs.writeFileSync(path.join(dir, 'signaller.c'), SIGNALLER);
  execFileSync('gcc', ['-O2', '-o', path.join(dir, 'signaller'), path.join(dir, 'signaller.c')]);
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return (binary = path.join(dir, 'signaller'));
}

interface Sent { syscall: string; sig: number; tpid: number; tgid: number; pidfd: number; ret: number }

/** A signaller, started and held until go(): its PID and its target's are known before it sends anything. */
async function held(t: TestContext) {
  const child = spawn(signaller(), [String(ROUNDS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  while (!out.includes('\n')) await once(child.stdout!, 'data');
  const [, target, gone] = /^target (\d+) gone (\d+)/.exec(out)!.map(Number);
  return {
    pid: child.pid!, target, gone,
    go: async (): Promise<Sent[]> => {
      child.stdin!.end('go\n');
      // 'close', not 'exit': only then has stdout delivered everything the child printed.
      const [code] = await once(child, 'close');
      assert.equal(code, 0);
      return out.split('\n').slice(1).filter(Boolean).map((l) => {
        const [syscall, sig, tpid, tgid, pidfd, ret] = l.split(' ');
        return { syscall, sig: Number(sig), tpid: Number(tpid), tgid: Number(tgid), pidfd: Number(pidfd), ret: Number(ret) };
      });
    },
  };
}

const start = (t: TestContext, args: string[]): ToolRun => startInTest(t, 'killsnoop', args);

const stop = stopAll;

type Row = Record<string, string>;

/** Text rows keyed by bcc's header labels (each column starts where its label does). */
function rows(stdout: string): Row[] {
  const [header, ...lines] = stdout.split('\n').filter(Boolean);
  assert.match(header, /^TIME {6}PID {4}COMM {13}SIG {2}TPID {3}RESULT$/);
  const labels = [...header.matchAll(/\S+/g)].map((m) => ({ label: m[0], start: m.index! }));
  return lines.map((line) => Object.fromEntries(labels.map(({ label, start }, i) =>
    [label, line.slice(start, labels[i + 1]?.start).trim()])));
}

const jsonRows = (stdout: string) => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);

test('every signal a known program sends is one row, in order, with its signal, target and result; --json has the same and more', async (t) => {
  if (!needsBpf(t)) return;
  const text = start(t, []);
  const json = start(t, ['--json']);
  const names = start(t, ['-n']);
  await Promise.all([text.ready, json.ready, names.ready]);
  const w = await held(t);
  const sent = await w.go();
  await stop(text, json, names);

  assert.equal(sent.length, ROUNDS * PER_ROUND + 1);
  // The program's own view of what each call returned, checked once so the assertions below mean what they say.
  assert.deepEqual(sent.slice(0, PER_ROUND).map((s) => s.ret), [0, -3, 0, 0, 0, -3, 0, -22]);
  assert.deepEqual(sent.at(-1), { syscall: 'kill', sig: 9, tpid: w.target, tgid: 0, pidfd: -1, ret: 0 });

  const mine = rows(text.stdout).filter((r) => r.PID === String(w.pid));
  assert.deepEqual(mine.map((r) => [r.COMM, r.SIG, r.TPID, r.RESULT]),
    sent.map((s) => ['signaller', String(s.sig), String(s.tpid), String(s.ret)]));
  for (const r of mine) assert.match(r.TIME, /^\d\d:\d\d:\d\d$/);

  // A name wider than bcc's 4-column SIG pushes the rest right (%-4s never cuts): split on spaces.
  const named = names.stdout.split('\n').map((l) => l.split(/ +/)).filter((f) => f[1] === String(w.pid)).map((f) => f[3]);
  assert.equal(named.length, sent.length);
  assert.deepEqual(named.slice(0, PER_ROUND), ['USR1', 'TERM', 'USR2', '0', 'RTMIN+2', 'USR1', 'RTMIN+1', '100']);
  assert.equal(named.at(-1), 'KILL');

  const events = jsonRows(json.stdout).filter((e) => e.pid === w.pid);
  assert.deepEqual(events.map((e) => [e.syscall, e.sig, e.tpid, e.tgid ?? 0, e.pidfd ?? -1, e.ret]),
    sent.map((s) => [s.syscall, s.sig, s.tpid, s.tgid, s.pidfd, s.ret]));
  assert.deepEqual(events.slice(0, PER_ROUND).map((e) => e.errno ?? null), [null, 'ESRCH', null, null, null, 'ESRCH', null, 'EINVAL']);
  assert.deepEqual(events.slice(0, PER_ROUND).map((e) => e.signal), ['USR1', 'TERM', 'USR2', '0', 'RTMIN+2', 'USR1', 'RTMIN+1', '100']);
  for (const e of events) {
    assert.deepEqual([e.comm, e.tid, e.uid], ['signaller', w.pid, 0]);
    assert.match(e.time, /^\d\d:\d\d:\d\d$/);
    assert.equal(typeof e.timestamp, 'number');
  }
});

test('-p with -x shows only the sender\'s failures; -T with -s only that target\'s chosen signals; the control is absent', async (t) => {
  if (!needsBpf(t)) return;
  const w = await held(t);
  const control = await held(t);
  const failed = start(t, ['-p', String(w.pid), '-x']);
  const target = start(t, ['-T', String(w.target), '-s', 'USR1,RTMIN+2,9']);
  const all = start(t, []);
  await Promise.all([failed.ready, target.ready, all.ready]);
  const [sent, controlSent] = await Promise.all([w.go(), control.go()]);
  await stop(failed, target, all);

  // The control ran while they traced: the unfiltered run saw every one of its calls.
  assert.equal(rows(all.stdout).filter((r) => r.PID === String(control.pid)).length, controlSent.length);

  const failures = rows(failed.stdout);
  assert.deepEqual(failures.map((r) => [r.PID, r.SIG, r.TPID, r.RESULT]),
    sent.filter((s) => s.ret < 0).map((s) => [String(w.pid), String(s.sig), String(s.tpid), String(s.ret)]));
  assert.equal(failures.length, ROUNDS * 3);

  // Other processes may signal other targets meanwhile, never this one.
  const chosen = rows(target.stdout);
  assert.deepEqual(chosen.map((r) => [r.PID, r.SIG, r.TPID, r.RESULT]),
    sent.filter((s) => s.tpid === w.target && [10, 36, 9].includes(s.sig)).map((s) => [String(w.pid), String(s.sig), String(s.tpid), String(s.ret)]));
  assert.equal(chosen.length, ROUNDS * 2 + 1);
});

test('--metrics counts signals by signal and failures by signal and errno', async (t) => {
  if (!needsBpf(t)) return;
  const w = await held(t);
  const port = 20000 + (process.pid % 20000);
  const tool = start(t, ['-p', String(w.pid), '--metrics', `127.0.0.1:${port}`]);
  await tool.ready;
  await w.go();
  const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  await stop(tool);
  const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}+]/g, '\\$&')} (\\d+)$`, 'm').exec(body)?.[1] ?? NaN);
  // Per round: USR1 twice (one to a gone PID), TERM, USR2, 0, RTMIN+2, RTMIN+1, 100; then KILL.
  assert.equal(value('bpfkit_signals_total{signal="USR1"}'), ROUNDS * 2);
  assert.equal(value('bpfkit_signals_total{signal="TERM"}'), ROUNDS);
  assert.equal(value('bpfkit_signals_total{signal="RTMIN+2"}'), ROUNDS);
  assert.equal(value('bpfkit_signals_total{signal="0"}'), ROUNDS);
  assert.equal(value('bpfkit_signals_total{signal="100"}'), ROUNDS);
  assert.equal(value('bpfkit_signals_total{signal="KILL"}'), 1);
  assert.equal(value('bpfkit_signal_failures_total{signal="USR1",errno="ESRCH"}'), ROUNDS);
  assert.equal(value('bpfkit_signal_failures_total{signal="TERM",errno="ESRCH"}'), ROUNDS);
  assert.equal(value('bpfkit_signal_failures_total{signal="100",errno="EINVAL"}'), ROUNDS);
  assert.equal([...body.matchAll(/^bpfkit_signal_failures_total\{/gm)].length, 3);
});

// --- the fallbacks this kernel does not need, configured for a kernel without what they replace ---

function fallback(config: KillsnoopConfig, hidden: Partial<KernelView>) {
  const program = configureKillsnoop(config, { ...liveKernel(), ...hidden });
  return { program, built: buildProgram(program) };
}

test('without syscall tracepoints, the raw sys_enter/sys_exit fallback reports the same calls through a perf buffer', async (t) => {
  if (!needsBpf(t)) return;
  const w = await held(t);
  const { program, built: p } = fallback({ failedOnly: false, pid: w.pid }, {
    tracepoint: (category, event) => category !== 'syscalls' && tracepointExists(category, event),
    ringBuffer: () => false,
  });
  assert.deepEqual([program.defines!.HOOK_RAW, program.defines!.HOOK_TRACEPOINTS, program.defines!.USE_RINGBUF], [true, false, false]);
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    const records: Buffer[] = [];
    const events = bpf.table<PerfEventArray<Buffer>>('events').open((r) => records.push(r), { raw: true });
    program.attach(bpf);
    const sent = await w.go();
    events.flush();
    assert.deepEqual(records.map(decodeSignalRecord).map((e) => [e.syscall, e.sig, e.tpid, e.tgid, e.pidfd, e.ret]),
      sent.map((s) => [s.syscall, s.sig, s.tpid, s.tgid, s.pidfd, s.ret]));
  } finally {
    bpf.close();
  }
});

test('the kprobe fallback passes the verifier', async (t) => {
  if (!needsBpf(t)) return;
  const { program, built: p } = fallback({ failedOnly: true, signals: [9, 64] }, {
    tracepoint: (category, event) => category !== 'syscalls' && tracepointExists(category, event),
    rawTracepoints: () => false,
    kprobes: () => true,
  });
  assert.equal(program.defines!.HOOK_KPROBES, true);
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    const names = bpf.functionNames().sort();
    assert.deepEqual(names, ['signal_return', 'syscall__kill', 'syscall__pidfd_send_signal', 'syscall__rt_sigqueueinfo',
      'syscall__rt_tgsigqueueinfo', 'syscall__tgkill', 'syscall__tkill']);
    for (const name of names) assert.ok(bpf.loadFunc(name, PROG_TYPE.KPROBE).fd >= 0);
  } finally {
    bpf.close();
  }
});

test('events.ts reads struct signal_event at the offsets libbcc lays the C struct out with', async (t) => {
  if (!needsBpf(t)) return;
  const p = buildProgram(configureKillsnoop({ failedOnly: false }));
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    const fields = structFields(bpf, 'pending');
    assert.deepEqual(Object.fromEntries(fields.map((f) => [f.name, f.offset])), SIGNAL_EVENT_OFFSETS);
    const comm = fields.find((f) => f.name === 'comm')!.layout;
    assert.equal(comm.kind === 'chararray' ? comm.length : -1, COMM_LEN);
  } finally {
    bpf.close();
  }
});

test('killsnoop --explain picks the attach points this kernel offers', async (t) => {
  if (!needsBpf(t)) return;
  const { chosen, stderr } = await explainedRun(t, 'killsnoop', []);
  const functions = () => SYSCALLS.map(({ name }) => syscallFunction(name)).filter((fn) => fn !== null);
  assert.deepEqual(chosen, {
    'signals sent by kill(), tkill(), tgkill(), pidfd_send_signal(), rt_(tg)sigqueueinfo()': firstUsable('signals', [
      ['tracepoints syscalls:sys_enter_* and sys_exit_* of each',
        () => tracepointExists('syscalls', 'sys_enter_kill') && tracepointExists('syscalls', 'sys_exit_kill')],
      // killsnoop knows the six syscall numbers of these architectures only.
      ['raw tracepoints sys_enter and sys_exit (every syscall runs them; the six are picked by number)',
        () => rawTracepointSupported() && ['x64', 'arm64', 'riscv64'].includes(process.arch)],
      [() => `kprobes and kretprobes on ${functions().join(', ')}`, () => kprobesAvailable() && syscallFunction('kill') !== null],
    ]),
    'event records': expectedEventRecords(),
  }, stderr);
});
