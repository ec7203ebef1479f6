// statsnoop against the real kernel: a small static C program makes a known list of stat and
// access calls (existing, missing and wrong paths, fds, flags and modes, every syscall this kernel
// has), and the tool must report exactly those calls of that process, in order, with their return
// values, errnos, paths and arguments; a control process running the same calls must be absent
// where -p selects the other one. Tool instances watch the same workload side by side.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BPF, PROG_TYPE, kprobesAvailable, tracepointExists, type PerfEventArray } from 'bcc-node-bindings';
import { needsBpf } from '../helpers/kernel.ts';
import { expectedEventRecords, explainedRun } from '../helpers/attach.ts';
import { type ToolRun, startInTest, stopAll } from '../helpers/tool.ts';
import { buildProgram } from '../../lib/run/program.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { syscallFunction } from '../../lib/kernel/kallsyms.ts';
import { haveSyscallTable, syscalls } from '../../lib/kernel/syscalls.ts';
import { STAT_SYSCALLS } from '../../tools/statsnoop/syscalls.ts';
import { COMM_LEN, PATH_SIZE, RECORD_HEADER_SIZE, STAT_EVENT_OFFSETS, decodeStatRecord } from '../../tools/statsnoop/events.ts';
import { configureStatsnoop, type StatsnoopConfig } from '../../tools/statsnoop/program.ts';
import { structFields } from '../helpers/bpf.ts';

// Raw syscalls only (no stdio, which stats its streams), linked statically (no dynamic loader,
// which stats and accesses its own files): every stat call the process makes is one below.
const WORKLOAD_C = String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

static char path[4096];
static const char *at(const char *dir, const char *name, int round)
{
    if (round < 0) snprintf(path, sizeof path, "%s/%s", dir, name);
    else snprintf(path, sizeof path, "%s/%s-%d", dir, name, round);
    return path;
}

int main(int argc, char **argv)
{
    const char *dir = argv[1];
    int rounds = atoi(argv[2]);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    char go;
    if (dfd < 0 || read(0, &go, 1) != 1) return 1;
    struct stat st;
    struct statfs sfs;
    char stx[256];
    char rel[64];
    for (int r = 0; r < rounds; r++) {
        syscall(SYS_stat, at(dir, "exists", -1), &st);
        syscall(SYS_lstat, at(dir, "link", -1), &st);
        syscall(SYS_newfstatat, AT_FDCWD, at(dir, "missing", r), &st, 0);
        syscall(SYS_newfstatat, dfd, "exists", &st, AT_SYMLINK_NOFOLLOW);
        syscall(SYS_newfstatat, dfd, "", &st, AT_EMPTY_PATH);
        syscall(SYS_statx, AT_FDCWD, at(dir, "exists/sub", r), 0, 0x7ff, stx);
        syscall(SYS_statfs, dir, &sfs);
        syscall(SYS_access, at(dir, "missing", r), F_OK);
        syscall(SYS_faccessat, dfd, "exists", R_OK | W_OK);
        snprintf(rel, sizeof rel, "missing-%d", r);
        syscall(SYS_faccessat2, dfd, rel, X_OK, AT_EACCESS);
        syscall(SYS_stat, (char *)1, &st);
    }
    return 0;
}
`;

interface Call { syscall: string; path: string; ret: number; dirfd: number | null; flags: number | null; mode: number | null }

const AT_FDCWD = -100;
const DFD = 3; // the workload's first open: 0, 1 and 2 are taken

/** The calls one round makes, as the tool must report them. */
function round(dir: string, r: number): Call[] {
  const call = (syscall: string, p: string, ret: number, dirfd: number | null = null, flags: number | null = null, mode: number | null = null) =>
    ({ syscall, path: p, ret, dirfd, flags, mode });
  return [
    call('newstat', `${dir}/exists`, 0),
    call('newlstat', `${dir}/link`, 0),
    call('newfstatat', `${dir}/missing-${r}`, -2, AT_FDCWD, 0),
    call('newfstatat', 'exists', 0, DFD, 0x100),
    call('newfstatat', '', 0, DFD, 0x1000),
    call('statx', `${dir}/exists/sub-${r}`, -20, AT_FDCWD, 0),
    call('statfs', dir, 0),
    call('access', `${dir}/missing-${r}`, -2, null, null, 0),
    call('faccessat', 'exists', 0, DFD, null, 6),
    call('faccessat2', `missing-${r}`, -2, DFD, 0x200, 1),
    call('newstat', '', -14),
  ];
}

function setup(t: TestContext) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'statsnoop-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const src = path.join(dir, 'statcalls.c');
  fs.writeFileSync(src, WORKLOAD_C);
  const bin = path.join(dir, 'statcalls');
  execFileSync('gcc', ['-O2', '-static', '-o', bin, src]);
  const data = path.join(dir, 'd');
  fs.mkdirSync(data);
  fs.writeFileSync(path.join(data, 'exists'), 'x');
  fs.symlinkSync('nowhere', path.join(data, 'link'));
  return { bin, data };
}

/** A workload that has opened its directory and waits for go; go() lets it run to the end. */
function held(t: TestContext, bin: string, dir: string, rounds: number) {
  const child = spawn(bin, [dir, String(rounds)], { stdio: ['pipe', 'ignore', 'ignore'] });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  return {
    pid: child.pid!,
    go: async () => { child.stdin!.end('g'); const [code] = await once(child, 'exit'); assert.equal(code, 0); },
  };
}

const start = (t: TestContext, args: string[]): ToolRun => startInTest(t, 'statsnoop', args);

const stop = stopAll;

type Row = Record<string, string>;

/** Text rows, cut at bcc's fixed widths: [TIME 9][TIME(s) 14]PID 7, COMM 16, RET 4, ERR 3[, SYSCALL 12], PATH. */
function rows(stdout: string): Row[] {
  const [header, ...lines] = stdout.split('\n').filter(Boolean);
  const time = header.startsWith('TIME ') ? 9 : 0;
  const stamp = header.slice(time).startsWith('TIME(s)') ? 14 : 0;
  const sysname = header.includes(' SYSCALL ');
  return lines.map((line) => {
    let at = 0;
    const take = (n: number) => { const v = line.slice(at, at + n); at += n + 1; return v; };
    const row: Row = {};
    if (time) { row.TIME = line.slice(0, 9).trim(); at = 9; }
    if (stamp) { row['TIME(s)'] = line.slice(at, at + 14).trim(); at += 14; }
    row.PID = take(7).trim();
    row.COMM = take(16).trim();
    row.RET = take(4).trim();
    row.ERR = take(3).trim();
    if (sysname) row.SYSCALL = take(12).trim();
    row.PATH = line.slice(at);
    return row;
  });
}

const textOf = (c: Call) => (c.path === '' && c.flags !== null && (c.flags & 0x1000) ? `<fd ${c.dirfd}>` : c.path);

test('every stat and access call of a known process is reported once, in order, with its return value, errno, path and arguments', async (t) => {
  if (!needsBpf(t)) return;
  const { bin, data } = setup(t);
  const ROUNDS = 25;
  const traced = held(t, bin, data, ROUNDS);
  const control = held(t, bin, data, ROUNDS);
  const text = start(t, ['-s', '-T', '-t']);
  const plain = start(t, []);
  const json = start(t, ['--json']);
  const failed = start(t, ['-x', '-s']);
  const pid = start(t, ['-p', String(traced.pid), '-s']);
  await Promise.all([text, plain, json, failed, pid].map((r) => r.ready));
  await Promise.all([traced.go(), control.go()]);
  await stop(text, plain, json, failed, pid);

  const expected = Array.from({ length: ROUNDS }, (_, r) => round(data, r)).flat();
  assert.equal(expected.length, ROUNDS * 11);
  const mine = (rs: Row[], p = traced.pid) => rs.filter((r) => r.PID === String(p));

  // Text, with every column: exactly the calls, in order.
  const t1 = mine(rows(text.stdout));
  assert.deepEqual(t1.map((r) => [r.COMM, r.SYSCALL, r.RET, r.ERR, r.PATH]),
    expected.map((c) => ['statcalls', c.syscall, String(c.ret < 0 ? -1 : c.ret), String(c.ret < 0 ? -c.ret : 0), textOf(c)]));
  for (const r of t1) {
    assert.match(r.TIME, /^\d\d:\d\d:\d\d$/);
    assert.match(r['TIME(s)'], /^\d+\.\d{9}$/);
  }
  // bcc's default columns.
  assert.match(plain.stdout, /^PID {5}COMM {14}RET ERR PATH\n/);
  assert.deepEqual(mine(rows(plain.stdout)).map((r) => [r.RET, r.ERR, r.PATH]), t1.map((r) => [r.RET, r.ERR, r.PATH]));

  // JSON: the same calls with the syscall's own return value and its arguments.
  const events = json.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.pid === traced.pid);
  assert.deepEqual(events.map((e) => ({ syscall: e.syscall, path: e.path, ret: e.ret, dirfd: e.dirfd, flags: e.flags, mode: e.mode })), expected);
  for (const e of events) {
    assert.deepEqual([e.tid, e.comm, e.err], [traced.pid, 'statcalls', e.ret < 0 ? -e.ret : 0]);
    assert.equal(typeof e.timestamp, 'number');
  }

  // -x: failures only, filtered in the kernel.
  const failures = expected.filter((c) => c.ret < 0);
  assert.equal(failures.length, ROUNDS * 5);
  for (const p of [traced.pid, control.pid]) {
    assert.deepEqual(mine(rows(failed.stdout), p).map((r) => [r.SYSCALL, r.RET, r.ERR, r.PATH]),
      failures.map((c) => [c.syscall, '-1', String(-c.ret), textOf(c)]));
  }
  assert.equal(rows(failed.stdout).filter((r) => r.RET !== '-1').length, 0);

  // -p: the traced process, every call; nothing of the control process or anyone else.
  const byPid = rows(pid.stdout);
  assert.equal(byPid.length, expected.length);
  assert.deepEqual(byPid.map((r) => [r.PID, r.SYSCALL, r.PATH]), expected.map((c) => [String(traced.pid), c.syscall, textOf(c)]));
  // The control process ran the same calls and the unfiltered run saw them all.
  assert.equal(mine(rows(text.stdout), control.pid).length, expected.length);
});

// --- the fallbacks, which this kernel does not need: configured for a kernel without what they
// replace (a KernelView that hides it), then built and run (or verified) directly ---

function fallback(config: StatsnoopConfig, hidden: Partial<KernelView>) {
  const program = configureStatsnoop(config, { ...liveKernel(), ...hidden });
  return { program, built: buildProgram(program) };
}

test('without per-syscall tracepoints or a ring buffer, raw_syscalls by number report the same calls through a perf buffer', async (t) => {
  if (!needsBpf(t)) return;
  const { bin, data } = setup(t);
  const traced = held(t, bin, data, 3);
  const { program, built } = fallback({ failedOnly: false, pid: traced.pid }, {
    tracepoint: (category, event) => category !== 'syscalls' && tracepointExists(category, event),
    ringBuffer: () => false,
  });
  assert.deepEqual([program.defines!.HOOK, program.defines!.USE_RINGBUF], [2, false]);
  assert.deepEqual(program.traced, ['newstat', 'newlstat', 'newfstatat', 'statx', 'statfs', 'access', 'faccessat', 'faccessat2']);
  const bpf = new BPF({ text: built.text, includeDirs: built.includeDirs, autoAttach: false });
  try {
    const records: Buffer[] = [];
    const events = bpf.table<PerfEventArray<Buffer>>('events').open((r) => records.push(r), { raw: true });
    program.attach(bpf);
    await traced.go();
    events.flush();
    const got = records.map(decodeStatRecord).map((e) => ({ syscall: e.syscall, path: e.path, ret: e.ret, dirfd: e.dirfd, flags: e.flags, mode: e.mode }));
    assert.deepEqual(got, [0, 1, 2].flatMap((r) => round(data, r)));
  } finally {
    bpf.close();
  }
});

test('the kprobe fallback (kernels without syscall tracepoints) passes the verifier', async (t) => {
  if (!needsBpf(t)) return;
  const { program, built } = fallback({ failedOnly: true, pid: 1 }, {
    tracepoint: (category, event) => category !== 'syscalls' && category !== 'raw_syscalls' && tracepointExists(category, event),
    kprobes: () => true,
    ringBuffer: () => false,
  });
  assert.equal(program.defines!.HOOK, 3);
  const bpf = new BPF({ text: built.text, includeDirs: built.includeDirs, autoAttach: false });
  try {
    const names = bpf.functionNames().sort();
    assert.deepEqual(names, ['stat_return', ...program.traced.map((s) => `syscall__${s}`)].sort());
    for (const name of names) assert.ok(bpf.loadFunc(name, PROG_TYPE.KPROBE).fd >= 0);
  } finally {
    bpf.close();
  }
});

// --- the record contract: struct stat_event in C is the truth ---

test('events.ts reads struct stat_event at the offsets libbcc lays the C struct out with', async (t) => {
  if (!needsBpf(t)) return;
  const p = buildProgram(configureStatsnoop({ failedOnly: false }));
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    const fields = structFields(bpf, 'scratch');
    assert.deepEqual(Object.fromEntries(fields.map((f) => [f.name, f.offset])), STAT_EVENT_OFFSETS);
    const length = (name: string) => { const f = fields.find((x) => x.name === name)!.layout; return f.kind === 'chararray' ? f.length : -1; };
    assert.deepEqual([length('comm'), length('path')], [COMM_LEN, PATH_SIZE]);
    assert.equal(RECORD_HEADER_SIZE, STAT_EVENT_OFFSETS.path);
  } finally {
    bpf.close();
  }
});

test('statsnoop --explain picks the attach points this kernel offers', async (t) => {
  if (!needsBpf(t)) return;
  const { chosen, stderr } = await explainedRun(t, 'statsnoop', []);
  const names = STAT_SYSCALLS.map((sc) => sc.name);
  const hasTracepoints = (name: string) => tracepointExists('syscalls', `sys_enter_${name}`) && tracepointExists('syscalls', `sys_exit_${name}`);
  const inKallsyms = (name: string) => syscallFunction(name) !== null;
  // One hook for all (its label, whether this kernel has it, which calls it reaches here: the rest are other architectures').
  const hooks: Array<[string, () => boolean, (name: string) => boolean]> = [
    ['tracepoints syscalls:sys_enter_<syscall> and sys_exit_<syscall> of each', () => names.some(hasTracepoints), hasTracepoints],
    ['tracepoints raw_syscalls:sys_enter and sys_exit, by syscall number (every syscall runs them)',
      () => tracepointExists('raw_syscalls', 'sys_enter') && tracepointExists('raw_syscalls', 'sys_exit') && haveSyscallTable(),
      (name) => syscalls().some((s) => s.entry === name)],
    ['kprobes and kretprobes on the syscall functions', () => kprobesAvailable() && names.some(inKallsyms), inKallsyms],
  ];
  const hook = hooks.find(([, usable]) => usable());
  assert.ok(hook, 'this kernel offers no way to trace stat calls');
  assert.deepEqual(chosen, {
    'stat and access syscalls': hook[0],
    'syscalls traced': names.filter(hook[2]).join(', '),
    'event records': expectedEventRecords(),
  }, stderr);
});
