// opensnoop against the real kernel: a static C workload (below) makes N opens of known outcome
// through open, openat and openat2 (absolute, relative to its cwd, relative to a directory fd;
// created, missing, EEXIST) and prints what each returned; the tool must report exactly those,
// with the workload's PID and comm, and nothing of a control process where a filter excludes it.
// Tool instances that watch the same workloads run side by side to save start-ups.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BPF, PROG_TYPE } from 'bcc-node-bindings';
import { needsBpf } from '../helpers/kernel.ts';
import { expectedEventRecords, expectedSyscallHook, explainedRun } from '../helpers/attach.ts';
import { type ToolRun, startInTest, stopAll } from '../helpers/tool.ts';
import { buildProgram } from '../../lib/run/program.ts';
import { liveKernel } from '../../lib/kernel/view.ts';
import { COMM_LEN, OPEN_EVENT_OFFSETS, RECORD_HEADER_SIZE } from '../../tools/opensnoop/events.ts';
import { configureOpensnoop, type OpensnoopConfig } from '../../tools/opensnoop/program.ts';
import { freePort } from '../helpers/http.ts';
import { structFields } from '../helpers/bpf.ts';

const N = 300;
const WORKLOAD_C = String.raw`
/* N opens of known outcome; each printed as SYSCALL\tPATH\tFULL\tFLAGS(octal)\tRET (fd or -errno),
 * the directory fd's own open first. Waits for a line on stdin before that first open.
 *   opens DIR N */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static char line[16384];
static int used;

static void note(const char *sys, const char *path, const char *full, long flags, long ret)
{
    if (ret < 0)
        ret = -errno;
    used += snprintf(line + used, sizeof line - used, "%s\t%s\t%s\t%lo\t%ld\n", sys, path, full, flags, ret);
    if (used > (int)sizeof line - 8192) {
        fputs(line, stdout);
        used = 0;
    }
    if (ret >= 0 && strcmp(sys, "dir") != 0)
        close((int)ret);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const char *dir = argv[1];
    int n = atoi(argv[2]);
    static char sub[2048], path[4096], full[4096], rel[256];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    if (mkdir(sub, 0755) != 0 || chdir(dir) != 0)
        return 3;
    if (!fgets(rel, sizeof rel, stdin))
        return 4;
    int dirfd = syscall(SYS_openat, AT_FDCWD, sub, O_DIRECTORY | O_RDONLY, 0);
    note("dir", sub, sub, O_DIRECTORY | O_RDONLY, dirfd);
    if (dirfd < 0)
        return 5;
    for (int i = 0; i < n; i++) {
        struct open_how how = { 0 };
        long flags;
        switch (i % 7) {
        case 0: /* open(), absolute, created */
            snprintf(path, sizeof path, "%s/f-%d", dir, i);
            flags = O_CREAT | O_WRONLY;
            note("open", path, path, flags, syscall(SYS_open, path, flags, 0644));
            break;
        case 1: /* open(), absolute, missing */
            snprintf(path, sizeof path, "%s/missing-%d", dir, i);
            flags = O_RDONLY;
            note("open", path, path, flags, syscall(SYS_open, path, flags, 0));
            break;
        case 2: /* openat(AT_FDCWD), relative to the cwd, created */
            snprintf(rel, sizeof rel, "rel-%d", i);
            snprintf(full, sizeof full, "%s/%s", dir, rel);
            flags = O_CREAT | O_RDWR;
            note("openat", rel, full, flags, syscall(SYS_openat, AT_FDCWD, rel, flags, 0600));
            break;
        case 3: /* openat(dirfd), relative to a directory fd, created */
            snprintf(rel, sizeof rel, "d-%d", i);
            snprintf(full, sizeof full, "%s/%s", sub, rel);
            flags = O_CREAT | O_WRONLY | O_TRUNC;
            note("openat", rel, full, flags, syscall(SYS_openat, dirfd, rel, flags, 0600));
            break;
        case 4: /* openat2(dirfd), relative, missing */
            snprintf(rel, sizeof rel, "missing2-%d", i);
            snprintf(full, sizeof full, "%s/%s", sub, rel);
            how.flags = flags = O_RDONLY;
            note("openat2", rel, full, flags, syscall(SYS_openat2, dirfd, rel, &how, sizeof how));
            break;
        case 5: /* openat2(AT_FDCWD), absolute, created */
            snprintf(path, sizeof path, "%s/g-%d", dir, i);
            how.flags = flags = O_CREAT | O_WRONLY;
            how.mode = 0600;
            note("openat2", path, path, flags, syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how));
            break;
        default: /* open() with O_EXCL of a file made above: EEXIST */
            snprintf(path, sizeof path, "%s/f-%d", dir, i - 6);
            flags = O_CREAT | O_EXCL | O_WRONLY;
            note("open", path, path, flags, syscall(SYS_open, path, flags, 0644));
            break;
        }
    }
    fputs(line, stdout);
    return 0;
}
`;

// Static: no dynamic loader, so the workload's only opens are its own.
const BUILD = fs.mkdtempSync(path.join(os.tmpdir(), 'bpfkit-opensnoop-'));
fs.chmodSync(BUILD, 0o755); // the workload also runs as nobody
process.on('exit', () => fs.rmSync(BUILD, { recursive: true, force: true }));
fs.writeFileSync(path.join(BUILD, 'opens.c'), WORKLOAD_C);
execFileSync('gcc', ['-O2', '-static', '-o', path.join(BUILD, 'opens'), path.join(BUILD, 'opens.c')]);
fs.copyFileSync(path.join(BUILD, 'opens'), path.join(BUILD, 'ctlopens'));
fs.chmodSync(path.join(BUILD, 'ctlopens'), 0o755);

interface Expected { sys: string; path: string; full: string; flags: number; ret: number }

/** A workload started in its own world-writable directory, waiting for go(). */
function workload(t: TestContext, binary = 'opens', opts: { uid?: number } = {}) {
  const dir = fs.mkdtempSync(path.join(BUILD, 'w-'));
  fs.chmodSync(dir, 0o777);
  const child = spawn(path.join(BUILD, binary), [dir, String(N)], {
    stdio: ['pipe', 'pipe', 'inherit'], ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.uid }),
  });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  // 'close', not 'exit': a child's exit can be seen before the last of its stdout is read.
  const exited = once(child, 'close');
  return {
    pid: child.pid!,
    dir,
    go: async (): Promise<Expected[]> => {
      child.stdin!.end('go\n');
      const [code] = await exited;
      assert.equal(code, 0, `${binary} exited ${code}`);
      return out.trim().split('\n').map((l) => {
        const [sys, p, full, flags, ret] = l.split('\t');
        return { sys, path: p, full, flags: parseInt(flags, 8), ret: Number(ret) };
      });
    },
  };
}

const start = (t: TestContext, args: string[]): ToolRun => startInTest(t, 'opensnoop', args);

const stop = stopAll;

interface Row { time?: string; uid?: number; id: number; comm: string; fd: number; err: number; flags?: number; path: string }

/** Text rows in bcc's layout: [TIME(s)] [UID] PID COMM FD ERR [FLAGS] PATH. */
function rows(stdout: string): Row[] {
  const [header, ...lines] = stdout.split('\n').filter(Boolean);
  const time = header.startsWith('TIME(s)');
  const uid = /^(TIME\(s\)\s+)?UID /.test(header);
  const flags = header.includes(' FLAGS ');
  return lines.map((line) => {
    let rest = line;
    const row = {} as Row;
    if (time) { row.time = rest.slice(0, 14).trim(); rest = rest.slice(14); }
    if (uid) { row.uid = Number(rest.slice(0, 6)); rest = rest.slice(6); }
    row.id = Number(rest.slice(0, 6));
    row.comm = rest.slice(7, 23).trim();
    row.fd = Number(rest.slice(24, 28));
    row.err = Number(rest.slice(29, 32));
    rest = rest.slice(33);
    if (flags) { row.flags = parseInt(rest.slice(0, 8), 8); rest = rest.slice(9); }
    row.path = rest;
    return row;
  });
}

const fdOf = (e: Expected) => (e.ret >= 0 ? e.ret : -1);
const errOf = (e: Expected) => (e.ret >= 0 ? 0 : -e.ret);

test(`${N} opens through open, openat and openat2 are each reported once, in order, with fd or errno, path, PID and comm; -F, -e, -U, -T and --json agree`, async (t) => {
  if (!needsBpf(t)) return;
  const runs = {
    plain: start(t, []),
    full: start(t, ['-F']),
    extended: start(t, ['-e', '-U', '-T']),
    json: start(t, ['--json', '-F']),
  };
  await Promise.all(Object.values(runs).map((r) => r.ready));
  const w = workload(t);
  const expected = await w.go();
  await stop(...Object.values(runs));

  assert.equal(expected.length, N + 1);
  const kinds = new Map<string, number>();
  for (const e of expected) kinds.set(`${e.sys} ${e.ret < 0 ? -e.ret : 'fd'}`, (kinds.get(`${e.sys} ${e.ret < 0 ? -e.ret : 'fd'}`) ?? 0) + 1);
  // The workload did what it says: created, missing (ENOENT 2) and existing (EEXIST 17) files through each syscall.
  assert.deepEqual(Object.fromEntries(kinds), { 'dir fd': 1, 'open fd': 43, 'open 2': 43, 'openat fd': 86, 'openat2 2': 43, 'openat2 fd': 43, 'open 17': 42 });

  const mine = (r: ToolRun) => rows(r.stdout).filter((row) => row.id === w.pid);
  assert.deepEqual(mine(runs.plain).map((r) => [r.comm, r.fd, r.err, r.path]), expected.map((e) => ['opens', fdOf(e), errOf(e), e.path]));
  assert.deepEqual(mine(runs.full).map((r) => [r.comm, r.fd, r.err, r.path]), expected.map((e) => ['opens', fdOf(e), errOf(e), e.full]));
  const ext = mine(runs.extended);
  assert.deepEqual(ext.map((r) => [r.uid, r.fd, r.err, r.flags, r.path]), expected.map((e) => [0, fdOf(e), errOf(e), e.flags, e.path]));
  for (const r of ext) assert.match(r.time!, /^\d+\.\d{9}$/);

  const json = runs.json.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.pid === w.pid);
  assert.deepEqual(json.map((e) => [e.syscall, e.path_as_given, e.path, e.fd, e.err, e.flags, e.tid, e.comm, e.uid]),
    expected.map((e) => [e.sys === 'dir' ? 'openat' : e.sys, e.path, e.full, fdOf(e), errOf(e), e.flags, w.pid, 'opens', 0]));
  assert.deepEqual([...new Set(json.map((e) => e.errno))].sort(), ['EEXIST', 'ENOENT', null].sort());
  // openat2's mode comes from struct open_how; open()'s from its third argument.
  assert.deepEqual([...new Set(json.filter((e) => e.syscall === 'openat2' && e.fd >= 0).map((e) => e.mode))], [0o600]);
  assert.deepEqual([...new Set(json.filter((e) => e.syscall === 'open' && e.fd >= 0).map((e) => e.mode))], [0o644]);
  assert.deepEqual([...new Set(json.filter((e) => e.path_as_given.startsWith('d-')).map((e) => e.dirfd))], [expected[0].ret]);
});

test('-p, -t, -u, -n, -x and -f O_WRONLY show exactly the opens they select; the control process is absent', async (t) => {
  if (!needsBpf(t)) return;
  const main = workload(t);
  const control = workload(t, 'ctlopens');
  const nobody = workload(t, 'opens', { uid: 65534 });
  const runs = {
    pid: start(t, ['-p', String(main.pid)]),
    tid: start(t, ['-t', String(main.pid)]),
    uid: start(t, ['-u', 'nobody']),
    name: start(t, ['-n', 'ctlop']),
    failed: start(t, ['-x']),
    wronly: start(t, ['-f', 'O_WRONLY', '-e']),
    writing: start(t, ['-f', 'O_WRONLY', '-f', 'O_RDWR']),
  };
  await Promise.all(Object.values(runs).map((r) => r.ready));
  const [m, c, n] = await Promise.all([main.go(), control.go(), nobody.go()]);
  await stop(...Object.values(runs));

  const pids = [main.pid, control.pid, nobody.pid];
  const seen = (r: ToolRun) => rows(r.stdout).filter((row) => pids.includes(row.id)).map((row) => `${row.id} ${row.fd} ${row.err} ${row.path}`);
  const as = (pid: number, list: Expected[]) => list.map((e) => `${pid} ${fdOf(e)} ${errOf(e)} ${e.path}`);
  assert.deepEqual(seen(runs.pid), as(main.pid, m));
  assert.deepEqual(seen(runs.tid), as(main.pid, m));
  assert.match(runs.tid.stdout, /^TID +COMM/);
  assert.deepEqual(seen(runs.uid), as(nobody.pid, n));
  assert.deepEqual(seen(runs.name), as(control.pid, c));
  // Three workloads ran at once: compare each one's rows, in its own order.
  const of = (r: ToolRun, pid: number) => seen(r).filter((s) => s.startsWith(`${pid} `));
  for (const [pid, list] of [[main.pid, m], [control.pid, c], [nobody.pid, n]] as const) {
    assert.deepEqual(of(runs.failed, pid), as(pid, list.filter((e) => e.ret < 0)));
    assert.deepEqual(of(runs.wronly, pid), as(pid, list.filter((e) => e.flags & 1)));
    assert.deepEqual(of(runs.writing, pid), as(pid, list.filter((e) => e.flags & 3)));
  }
  assert.ok(m.filter((e) => e.ret < 0).length === 128 && m.filter((e) => e.flags & 1).length === 171);
});

test('--metrics counts every open by comm and the failures by errno, exactly', async (t) => {
  if (!needsBpf(t)) return;
  const comm = `osm${process.pid % 100000}`;
  fs.copyFileSync(path.join(BUILD, 'opens'), path.join(BUILD, comm));
  fs.chmodSync(path.join(BUILD, comm), 0o755);
  const port = await freePort();
  const tool = start(t, ['--metrics', `127.0.0.1:${port}`]);
  await tool.ready;
  const w = workload(t, comm);
  const expected = await w.go();
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  await stop(tool);
  const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1]);
  assert.equal(value(`bpfkit_opens_total{comm="${comm}"}`), N + 1);
  assert.equal(value(`bpfkit_open_errors_total{comm="${comm}",errno="ENOENT"}`), expected.filter((e) => e.ret === -2).length);
  assert.equal(value(`bpfkit_open_errors_total{comm="${comm}",errno="EEXIST"}`), expected.filter((e) => e.ret === -17).length);
  assert.equal(value('bpfkit_lost_events_total{tool="opensnoop"}'), 0);
  assert.equal(tool.stdout, '', 'nothing printed with --metrics alone');
});

test('a buffer too small for a burst: every open is seen or counted lost, and the loss is reported', async (t) => {
  if (!needsBpf(t)) return;
  const w = workload(t);
  const tool = start(t, ['-p', String(w.pid), '-b', '1']);
  await tool.ready;
  const expected = await w.go();
  await stop(tool);
  const seen = rows(tool.stdout).filter((r) => r.id === w.pid).length;
  const lost = [...tool.stderr.matchAll(/lost (\d+) events \(the ring buffer was full\)/g)].reduce((s, m) => s + Number(m[1]), 0);
  assert.equal(seen + lost, expected.length);
  assert.ok(lost > 0, 'one page cannot hold 301 records read 50 ms late');
});

// --- the record contract and the fallbacks this kernel does not need ---

test('events.ts reads struct open_event at the offsets libbcc lays the C struct out with', async (t) => {
  if (!needsBpf(t)) return;
  const p = buildProgram(configureOpensnoop({ records: true, count: false, failedOnly: false, fullPath: false }));
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    const fields = structFields(bpf, 'scratch');
    assert.deepEqual(Object.fromEntries(fields.map((f) => [f.name, f.offset])), OPEN_EVENT_OFFSETS);
    const comm = fields.find((f) => f.name === 'comm')!.layout;
    assert.equal(comm.kind === 'chararray' ? comm.length : -1, COMM_LEN);
    assert.equal(RECORD_HEADER_SIZE, OPEN_EVENT_OFFSETS.data);
  } finally {
    bpf.close();
  }
});

test('the kprobe fallback with a perf buffer, -F and every filter passes the verifier', async (t) => {
  if (!needsBpf(t)) return;
  const config: OpensnoopConfig = {
    records: true, count: true, failedOnly: true, pid: 1, uid: 0, flags: { mask: 1, rdonly: true }, fullPath: true,
  };
  const program = configureOpensnoop(config, {
    ...liveKernel(), tracepoint: (category) => category !== 'syscalls', kprobes: () => true, ringBuffer: () => false,
  });
  const p = buildProgram(program);
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    assert.deepEqual(bpf.functionNames().sort(), ['open_return', 'syscall__open', 'syscall__openat', 'syscall__openat2']);
    for (const name of bpf.functionNames()) assert.ok(bpf.loadFunc(name, PROG_TYPE.KPROBE).fd >= 0, name);
  } finally {
    bpf.close();
  }
});

test('opensnoop --explain picks the attach points this kernel offers', async (t) => {
  if (!needsBpf(t)) return;
  const { chosen, stderr } = await explainedRun(t, 'opensnoop', []);
  assert.deepEqual(chosen, {
    // arm64 has no open(), kernels before 5.6 no openat2(): nothing to hook there.
    'open()': expectedSyscallHook('open', 'nothing (no open() hook on this kernel)'),
    'openat()': expectedSyscallHook('openat'),
    'openat2()': expectedSyscallHook('openat2', 'nothing (no openat2() hook on this kernel)'),
    'event records': expectedEventRecords(),
  }, stderr);
});
