// execsnoop against the real kernel: known processes are started while the tool runs, and every
// one of them (and nothing it must filter out) is reported with its exact PID, PPID, comm and
// arguments. Tool instances that watch the same workload run side by side to save start-ups.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { BPF, PROG_TYPE, type PerfEventArray } from 'bcc-node-bindings';
import { needsBpf } from '../helpers/kernel.ts';
import { startTool, type ToolRun } from '../helpers/tool.ts';
import { workload } from '../helpers/workloads.ts';
import { buildProgram } from '../../lib/run/program.ts';
import { taskParentOffsets, argAreaOffsets, taskCommOffset } from '../../lib/kernel/offsets.ts';
import { cgroupV2Mount } from '../../lib/kernel/cgroups.ts';
import { CGROUP_MAP, MNTNS_MAP, createPinnedHashMap, updatePinnedMap } from '../../lib/kernel/pinned-maps.ts';
import { argsText, decodeExecRecord } from '../../tools/execsnoop/events.ts';
import { ensureBpffs, u64 } from '../helpers/bpffs.ts';

const TAG = `es${process.pid}`;
const MY_COMM = fs.readFileSync('/proc/self/comm', 'utf8').trim();

/** Runs a program to its end; resolves with its PID. */
async function run(file: string, args: string[], opts: SpawnOptions = {}): Promise<number> {
  const child = spawn(file, args, { stdio: 'ignore', ...opts });
  await once(child, 'exit');
  return child.pid!;
}

/** Starts the tool; a failing test kills it rather than waiting for it for ever. */
function start(t: TestContext, args: string[]): ToolRun {
  const tool = startTool('execsnoop', args);
  t.after(() => { if (tool.child.exitCode === null && tool.child.signalCode === null) tool.child.kill('SIGKILL'); });
  return tool;
}

async function ready(...runs: ToolRun[]): Promise<void> {
  await Promise.all(runs.map((r) => r.ready));
}

async function stop(...runs: ToolRun[]): Promise<void> {
  const codes = await Promise.all(runs.map((r) => r.stop('SIGINT')));
  runs.forEach((r, i) => assert.equal(codes[i], 0, `exit ${codes[i]}; stderr:\n${r.stderr}`));
}

type Row = Record<string, string>;

/** Text output as rows keyed by bcc's header labels; columns start where their labels do. */
function rows(stdout: string): Row[] {
  const [header, ...lines] = stdout.split('\n').filter(Boolean);
  const labels = [...header.matchAll(/\S+/g)].map((m) => ({ label: m[0], start: m.index! }));
  const args = labels.find((l) => l.label === 'ARGS')!.start;
  return lines.map((line) => {
    const row: Row = {};
    labels.forEach(({ label, start }, i) => {
      if (label === 'ARGS') row.ARGS = line.slice(args);
      else if (label === 'RET') row.RET = line.slice(start - 1, args).trim(); // right-aligned, %3d
      else row[label] = line.slice(start, labels[i + 1].label === 'RET' ? labels[i + 1].start - 1 : labels[i + 1].start).trim();
    });
    return row;
  });
}

function jsonRows(stdout: string): Array<Record<string, any>> {
  return stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

function only<T>(items: T[], what: string): T {
  assert.equal(items.length, 1, `expected exactly one ${what}, got ${items.length}`);
  return items[0];
}

test('200 execs from a known parent each appear once with their PID, PPID, comm and arguments; --json has the same values', async (t) => {
  if (!needsBpf(t)) return;
  const text = start(t, ['-T', '-t', '-U', '-M', '-C']);
  const json = start(t, ['--json']);
  await ready(text, json);

  const N = 200;
  const pids: number[] = [];
  for (let batch = 0; batch < N; batch += 20) {
    const started = Array.from({ length: 20 }, (_, j) => run('/bin/echo', [`marker-${TAG}-${batch + j}`, `n${batch + j}`, 'a b']));
    pids.push(...await Promise.all(started));
  }
  const execAs = workload('exec_as');
  const byExecveat = await run(execAs, ['execveat', '/bin/echo', 'echo', `at-${TAG}`]);
  const byFd = await run(execAs, ['fexecve', '/bin/echo', 'echo', `fd-${TAG}`]);
  const byThread = await run(execAs, ['thread', '/bin/echo', 'echo', `thread-${TAG}`]);
  await run(execAs, ['execve', `/nonexistent/${TAG}`, 'x', `missing-${TAG}`]);
  const nineteen = Array.from({ length: 18 }, (_, i) => `a${i}`);
  await run('/bin/echo', [`twenty-${TAG}`, ...nineteen]); // argc 20: the file name and 19 arguments
  await run('/bin/echo', [`twentyone-${TAG}`, ...nineteen, 'a18']);
  await run('/bin/echo', [`long-${TAG}`, 'y'.repeat(300)]);
  await stop(text, json);

  const textRows = rows(text.stdout);
  const jsonEvents = jsonRows(json.stdout);
  for (let i = 0; i < N; i++) {
    const args = `/bin/echo marker-${TAG}-${i} n${i} a b`;
    const row = only(textRows.filter((r) => r.ARGS === args), `row for ${args}`);
    assert.deepEqual([row.COMM, row.PID, row.PPID, row.RET, row.PCOMM, row.UID],
      ['echo', String(pids[i]), String(process.pid), '0', MY_COMM, '0']);
    assert.match(row.TIME, /^\d\d:\d\d:\d\d$/);
    assert.match(row['TIME(s)'], /^\d+\.\d{3}$/);
    const ev = only(jsonEvents.filter((e) => e.args.join(' ') === args), `JSON event for ${args}`);
    assert.deepEqual(ev.args, ['/bin/echo', `marker-${TAG}-${i}`, `n${i}`, 'a b']);
    assert.deepEqual([ev.comm, ev.pid, ev.ppid, ev.ret, ev.pcomm, ev.uid, ev.cpu, ev.args_truncated],
      [row.COMM, Number(row.PID), Number(row.PPID), Number(row.RET), row.PCOMM, Number(row.UID), Number(row.CPU), false]);
    // Two runs turn the same kernel timestamp into wall time separately: a second apart at most.
    const seconds = (hms: string) => hms.split(':').reduce((s, v) => s * 60 + Number(v), 0);
    assert.ok(Math.abs(seconds(ev.time) - seconds(row.TIME)) <= 1, `${ev.time} vs ${row.TIME}`);
  }

  // exec_as's own exec is a row too (its arguments name the target): look at the echo rows.
  const find = (pattern: RegExp) => only(textRows.filter((r) => r.COMM === 'echo' && pattern.test(r.ARGS)), `echo row matching ${pattern}`);
  // execveat() is traced; after an exec by file descriptor the file name is /dev/fd/N.
  assert.deepEqual([find(new RegExp(`at-${TAG}$`)).ARGS, find(new RegExp(`at-${TAG}$`)).PID], [`/bin/echo at-${TAG}`, String(byExecveat)]);
  assert.match(find(new RegExp(`fd-${TAG}$`)).ARGS, new RegExp(`^/dev/fd/\\d+ fd-${TAG}$`));
  assert.equal(find(new RegExp(`fd-${TAG}$`)).PID, String(byFd));
  // A thread that is not the leader calls exec(): the process keeps its PID, and so does the row.
  const thread = find(new RegExp(`thread-${TAG}$`));
  assert.deepEqual([thread.COMM, thread.PID, thread.PPID], ['echo', String(byThread), String(process.pid)]);
  // Without -x a failed exec is not shown.
  assert.equal(textRows.filter((r) => r.ARGS.startsWith(`/nonexistent/${TAG}`)).length, 0);
  // argc 20 is shown whole; argc 21 shows the first 20 and "...".
  assert.equal(find(new RegExp(`twenty-${TAG}`)).ARGS, `/bin/echo twenty-${TAG} ${nineteen.join(' ')}`);
  assert.equal(find(new RegExp(`twentyone-${TAG}`)).ARGS, `/bin/echo twentyone-${TAG} ${nineteen.join(' ')} ...`);
  // An argument over 128 bytes is cut there and marked.
  assert.equal(find(new RegExp(`long-${TAG}`)).ARGS, `/bin/echo long-${TAG} ${'y'.repeat(128)}...`);
});

test('-q quotes as bcc does, -x shows a missing program with RET -2, --max-args cuts with "..."', async (t) => {
  if (!needsBpf(t)) return;
  const quoted = start(t, ['-q', '-x']);
  const cut = start(t, ['--max-args', '3', '-x']);
  await ready(quoted, cut);
  const special = [`q-${TAG}`, 'a b', 'say "hi"', 'ünïcødé ✓', '', 'two\nlines'];
  await run('/bin/echo', special);
  const execAs = workload('exec_as');
  const missing = await run(execAs, ['execve', `/nonexistent/${TAG}`, 'x', 'f1']);
  const missingMore = await run(execAs, ['execve', `/nonexistent/${TAG}-more`, 'x', 'f1', 'f2', 'f3']);
  await run('/bin/echo', [`exact-${TAG}`, 'm2']);
  await run('/bin/echo', [`over-${TAG}`, 'm2', 'm3']);
  await stop(quoted, cut);

  const q = rows(quoted.stdout);
  const c = rows(cut.stdout);
  assert.equal(only(q.filter((r) => r.ARGS.includes(`q-${TAG}`)), 'quoted row').ARGS,
    `"/bin/echo" "q-${TAG}" "a b" "say \\"hi\\"" "ünïcødé ✓" "" "two\\nlines"`);
  const failed = only(q.filter((r) => r.ARGS === `"/nonexistent/${TAG}" "f1"`), 'failed exec row');
  assert.deepEqual([failed.COMM, failed.PID, failed.PPID, failed.RET], ['exec_as', String(missing), String(process.pid), '-2']);

  const argsOf = (needle: string) => only(c.filter((r) => r.ARGS.includes(needle)), needle).ARGS;
  assert.equal(argsOf(`q-${TAG}`), `/bin/echo q-${TAG} a b ...`);
  assert.equal(argsOf(`exact-${TAG}`), `/bin/echo exact-${TAG} m2`); // argc 3: exactly --max-args
  assert.equal(argsOf(`over-${TAG}`), `/bin/echo over-${TAG} m2 ...`);
  assert.equal(only(c.filter((r) => r.ARGS.startsWith(`/nonexistent/${TAG} `)), 'failed exec row').ARGS, `/nonexistent/${TAG} f1`);
  const more = only(c.filter((r) => r.ARGS.startsWith(`/nonexistent/${TAG}-more`)), 'failed exec row');
  assert.deepEqual([more.ARGS, more.PID, more.RET], [`/nonexistent/${TAG}-more f1 f2 ...`, String(missingMore), '-2']);
});

/** A cgroup made for one test, emptied and removed after it whatever happened. */
function tempCgroup(t: TestContext, dir: string): string {
  fs.mkdirSync(dir);
  t.after(async () => {
    for (const pid of fs.readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n').filter(Boolean)) {
      try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone already */ }
    }
    for (let i = 0; i < 100; i++) {
      try { fs.rmdirSync(dir); return; } catch { await new Promise((r) => setTimeout(r, 10)); }
    }
  });
  return dir;
}

/** A shell that waits for a line on stdin, then runs its script: its PID is known before it execs anything. */
function heldShell(t: TestContext, script: string, command: string[] = []) {
  const argv = [...command, 'sh', '-c', `read go; ${script}; exit 0`];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'ignore', 'ignore'] });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  return {
    pid: child.pid!,
    go: async () => { child.stdin!.end('go\n'); const [code] = await once(child, 'exit'); assert.equal(code, 0); },
  };
}

/** What a filtered run printed of the filter tests' processes: the part of each name after the tag. */
function seen(r: ToolRun): string[] {
  return rows(r.stdout).filter((row) => row.ARGS.includes(`f-${TAG}-`))
    .map((row) => row.ARGS.replace(/^\S+ f-[^-]+-/, '')).sort();
}

test('-n, -l, -u, -P and --cgroup each show exactly the processes they select', async (t) => {
  if (!needsBpf(t)) return;
  const root = cgroupV2Mount();
  assert.ok(root, 'a cgroup v2 hierarchy is mounted');
  const cgroupDir = tempCgroup(t, `${root}/bpfkit-execsnoop-${process.pid}`);

  // Held parents, created before the tools start so that -P can name one.
  const parent = heldShell(t, `/bin/echo f-${TAG}-child1; /bin/echo f-${TAG}-child2`);
  const inCgroup = heldShell(t, `/bin/echo f-${TAG}-cgroup`);
  fs.writeFileSync(`${cgroupDir}/cgroup.procs`, String(inCgroup.pid));

  const runs = {
    name: start(t, ['-n', '^tru']),
    line: start(t, ['-l', `f-${TAG}-root-e`]),
    nobody: start(t, ['-u', 'nobody']),
    root: start(t, ['-u', '0']),
    ppid: start(t, ['-P', String(parent.pid)]),
    cgroup: start(t, ['--cgroup', cgroupDir]),
  };
  await ready(...Object.values(runs));
  await run('/bin/echo', [`f-${TAG}-root-echo`]);
  await run('/bin/true', [`f-${TAG}-root-true`]);
  await run('/bin/echo', [`f-${TAG}-nobody`], { uid: 65534, gid: 65534 });
  await parent.go();
  await inCgroup.go();
  await stop(...Object.values(runs));

  assert.deepEqual(seen(runs.name), ['root-true']);
  assert.deepEqual(seen(runs.line), ['root-echo']);
  assert.deepEqual(seen(runs.nobody), ['nobody']);
  assert.deepEqual(seen(runs.root), ['cgroup', 'child1', 'child2', 'root-echo', 'root-true']);
  assert.deepEqual(seen(runs.ppid), ['child1', 'child2']);
  assert.deepEqual(seen(runs.cgroup), ['cgroup']);
});

test('--cgroupmap and --mntnsmap show exactly the processes whose cgroup or mount namespace is in the pinned map', async (t) => {
  if (!needsBpf(t)) return;
  const root = cgroupV2Mount();
  assert.ok(root, 'a cgroup v2 hierarchy is mounted');
  const cgroupDir = tempCgroup(t, `${root}/bpfkit-execsnoop-${process.pid}-map`);
  const mounted = ensureBpffs();
  const pins = [`/sys/fs/bpf/bpfkit-execsnoop-${process.pid}-cgroups`, `/sys/fs/bpf/bpfkit-execsnoop-${process.pid}-mntns`];
  t.after(() => {
    for (const p of pins) fs.rmSync(p, { force: true });
    if (mounted) execFileSync('umount', ['/sys/fs/bpf']);
  });

  const inCgroup = heldShell(t, `/bin/echo f-${TAG}-cgroup`);
  fs.writeFileSync(`${cgroupDir}/cgroup.procs`, String(inCgroup.pid));
  // unshare -m execs the shell in a new mount namespace (same PID): wait until it has.
  const inMntns = heldShell(t, `/bin/echo f-${TAG}-mntns`, ['unshare', '-m']);
  for (let i = 0; i < 200 && fs.readlinkSync(`/proc/${inMntns.pid}/ns/mnt`) === fs.readlinkSync('/proc/self/ns/mnt'); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const cgroupFd = createPinnedHashMap(pins[0], CGROUP_MAP, 16);
  updatePinnedMap(cgroupFd, u64(fs.statSync(cgroupDir).ino), u64(1)); // a v2 cgroup's id is its inode number
  const mntnsFd = createPinnedHashMap(pins[1], MNTNS_MAP, 16);
  updatePinnedMap(mntnsFd, u64(fs.statSync(`/proc/${inMntns.pid}/ns/mnt`).ino), Buffer.alloc(4, 1));
  fs.closeSync(cgroupFd);
  fs.closeSync(mntnsFd);

  const runs = {
    cgroupmap: start(t, ['--cgroupmap', pins[0]]),
    mntnsmap: start(t, ['--mntnsmap', pins[1]]),
  };
  await ready(...Object.values(runs));
  await run('/bin/echo', [`f-${TAG}-root-echo`]);
  await inCgroup.go();
  await inMntns.go();
  await stop(...Object.values(runs));

  assert.deepEqual(seen(runs.cgroupmap), ['cgroup']);
  assert.deepEqual(seen(runs.mntnsmap), ['mntns']);
});

test('a burst of 5,000 execs: every one is seen or reported lost, and none is lost here', async (t) => {
  if (!needsBpf(t)) return;
  const N = 5000;
  const target = workload('donothing');
  const tool = start(t, []);
  await tool.ready;
  await run(workload('execburst'), [String(N), '2', target, `burst-${TAG}`]);
  await stop(tool);
  const burst = rows(tool.stdout).filter((r) => r.ARGS === `${target} burst-${TAG}`);
  const lost = [...tool.stderr.matchAll(/lost (\d+) events/g)].reduce((sum, m) => sum + Number(m[1]), 0);
  assert.equal(burst.length + lost, N);
  assert.equal(lost, 0);
  assert.equal(new Set(burst.map((r) => r.PID)).size, burst.length, 'each exec once');
});

// --- the fallbacks, which this kernel does not need: built and run (or verified) directly ---

function program(defines: Record<string, number | boolean>) {
  return buildProgram({
    file: 'execsnoop.bpf.c',
    defines: {
      TRACE_FAILS: false, SUCCESS_AT_EXEC_TP: true, EXECVE_HOOK: 0, EXECVEAT_HOOK: 0, MAX_ARGS: 20,
      FILTER_UID: false, TARGET_UID: 0, FILTER_PPID: false, TARGET_PPID: 0, FILTER_CGROUP: false,
      FILTER_CGROUP_MAP: false, FILTER_MNTNS_MAP: false, USE_RINGBUF: true, RINGBUF_PAGES: 64,
      ...taskParentOffsets(), ...taskCommOffset(), ...argAreaOffsets(), ...defines,
    },
  });
}

test('without sched_process_exec or a ring buffer, execs are reported at the syscall tracepoints\' exit through a perf buffer', async (t) => {
  if (!needsBpf(t)) return;
  const p = program({ SUCCESS_AT_EXEC_TP: false, TRACE_FAILS: true, EXECVE_HOOK: 1, FILTER_PPID: true, TARGET_PPID: process.pid, USE_RINGBUF: false });
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    const records: Buffer[] = [];
    const events = bpf.table<PerfEventArray<Buffer>>('events').open((r) => records.push(r), { raw: true });
    bpf.attachTracepoint({ tp: 'syscalls:sys_enter_execve', fnName: 'tracepoint__syscalls__sys_enter_execve' });
    bpf.attachTracepoint({ tp: 'syscalls:sys_exit_execve', fnName: 'tracepoint__syscalls__sys_exit_execve' });
    const ok = await run('/bin/echo', [`exit-${TAG}`, 'a b']);
    const failed = await run(workload('exec_as'), ['execve', `/nonexistent/${TAG}`, 'x', 'f1']);
    events.flush();
    const evs = records.map((r) => decodeExecRecord(r, 20));
    const success = only(evs.filter((e) => e.pid === ok), 'success record');
    assert.deepEqual([success.comm, success.ppid, success.ret, argsText(success)], ['echo', process.pid, 0, `/bin/echo exit-${TAG} a b`]);
    const failure = only(evs.filter((e) => e.pid === failed && e.ret !== 0), 'failure record');
    assert.deepEqual([failure.comm, failure.ret, argsText(failure)], ['exec_as', -2, `/nonexistent/${TAG} f1`]);
  } finally {
    bpf.close();
  }
});

test('the kprobe fallback (kernels without syscall tracepoints) passes the verifier', async (t) => {
  if (!needsBpf(t)) return;
  const p = program({ TRACE_FAILS: true, EXECVE_HOOK: 2, EXECVEAT_HOOK: 2, MAX_ARGS: 60, USE_RINGBUF: false });
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    assert.deepEqual(bpf.functionNames().sort(), ['exec_return', 'syscall__execve', 'syscall__execveat', 'tracepoint__sched__sched_process_exec']);
    for (const name of ['exec_return', 'syscall__execve', 'syscall__execveat']) assert.ok(bpf.loadFunc(name, PROG_TYPE.KPROBE).fd >= 0);
    assert.ok(bpf.loadFunc('tracepoint__sched__sched_process_exec', PROG_TYPE.TRACEPOINT).fd >= 0);
  } finally {
    bpf.close();
  }
});
