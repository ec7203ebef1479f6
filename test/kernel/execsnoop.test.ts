// execsnoop against the real kernel: known processes are started while the tool runs, and every
// one of them (and nothing it must filter out) is reported with its exact PID, PPID, comm and
// arguments. Tool instances that watch the same workload run side by side to save start-ups.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { BPF, PROG_TYPE, tracepointExists, type PerCpuTable, type PerfEventArray, type RingBufTable } from 'bcc-node-bindings';
import { needsBpf } from '../helpers/kernel.ts';
import { startTool, type ToolRun } from '../helpers/tool.ts';
import { workload } from '../helpers/workloads.ts';
import { buildProgram, inlineHeaders } from '../../lib/run/program.ts';
import { BPF_INCLUDE_DIR } from '../../lib/run/paths.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { cgroupV2Mount } from '../../lib/kernel/cgroups.ts';
import { CGROUP_MAP, MNTNS_MAP } from '../../lib/kernel/pinned-maps.ts';
import { COMM_LEN, EXEC_EVENT_OFFSETS, RECORD_HEADER_SIZE, argsText, decodeExecRecord } from '../../tools/execsnoop/events.ts';
import { configureExecsnoop, type ExecsnoopConfig } from '../../tools/execsnoop/program.ts';
import { createPinnedHashMap, ensureBpffs, u64, updatePinnedMap } from '../helpers/bpffs.ts';
import { structFields } from '../helpers/bpf.ts';
import { expectedEventRecords, expectedSyscallHook, explainedRun } from '../helpers/attach.ts';

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

// --- the fallbacks, which this kernel does not need: configured for a kernel without what they
// replace (a KernelView that hides it), then built and run (or verified) directly ---

/** execsnoop's program as configureExecsnoop makes it for this kernel with `hidden` taken away. */
function fallback(config: ExecsnoopConfig, hidden: Partial<KernelView>) {
  const program = configureExecsnoop(config, { ...liveKernel(), ...hidden });
  return { program, built: buildProgram(program) };
}

test('without sched_process_exec or a ring buffer, execs are reported at the syscall tracepoints\' exit through a perf buffer', async (t) => {
  if (!needsBpf(t)) return;
  const { program, built: p } = fallback({ fails: true, maxArgs: 20, ppid: process.pid }, {
    tracepoint: (category, event) => !(category === 'sched' && event === 'sched_process_exec') && tracepointExists(category, event),
    ringBuffer: () => false,
  });
  assert.deepEqual([program.defines!.SUCCESS_AT_EXEC_TP, program.defines!.EXECVE_TRACEPOINT, program.defines!.USE_RINGBUF], [false, true, false]);
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    const records: Buffer[] = [];
    const events = bpf.table<PerfEventArray<Buffer>>('events').open((r) => records.push(r), { raw: true });
    program.attach(bpf);
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
  const { program, built: p } = fallback({ fails: true, maxArgs: 60 }, {
    tracepoint: (category, event) => category !== 'syscalls' && tracepointExists(category, event),
    kprobes: () => true,
    ringBuffer: () => false,
  });
  assert.deepEqual([program.defines!.EXECVE_KPROBE, program.defines!.EXECVEAT_KPROBE, program.defines!.EXECVE_TRACEPOINT], [true, true, false]);
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    assert.deepEqual(bpf.functionNames().sort(), ['exec_return', 'syscall__execve', 'syscall__execveat', 'tracepoint__sched__sched_process_exec']);
    for (const name of ['exec_return', 'syscall__execve', 'syscall__execveat']) assert.ok(bpf.loadFunc(name, PROG_TYPE.KPROBE).fd >= 0);
    assert.ok(bpf.loadFunc('tracepoint__sched__sched_process_exec', PROG_TYPE.TRACEPOINT).fd >= 0);
  } finally {
    bpf.close();
  }
});

// --- the record contract: struct exec_event in C is the truth ---

test('events.ts reads struct exec_event at the offsets libbcc lays the C struct out with', async (t) => {
  if (!needsBpf(t)) return;
  const p = buildProgram(configureExecsnoop({ fails: false, maxArgs: 20 }));
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    // `scratch` holds the record each CPU builds: its value type is struct exec_event.
    const fields = structFields(bpf, 'scratch');
    assert.deepEqual(Object.fromEntries(fields.map((f) => [f.name, f.offset])), EXEC_EVENT_OFFSETS);
    const length = (name: string) => { const f = fields.find((x) => x.name === name)!.layout; return f.kind === 'chararray' ? f.length : -1; };
    assert.deepEqual([length('comm'), length('pcomm')], [COMM_LEN, COMM_LEN]);
    assert.equal(RECORD_HEADER_SIZE, EXEC_EVENT_OFFSETS.data);
  } finally {
    bpf.close();
  }
});

// --- bpfkit/events.h, as the snoop tools will use it ---

test('bpfkit/events.h: a ring buffer delivers what fits and counts the rest in `lost`; a perf buffer delivers every record, reserved or copied', async (t) => {
  if (!needsBpf(t)) return;
  // A shell whose PID is known before it execs /bin/true: the probe reports that exec only.
  const held = heldShell(t, 'exec /bin/true');
  for (let i = 0; i < 200 && !fs.readFileSync(`/proc/${held.pid}/cmdline`, 'utf8').startsWith('sh\0'); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const program = (ring: boolean) => inlineHeaders(`#define USE_RINGBUF ${ring ? 1 : 0}
#define RINGBUF_PAGES 1
struct big_event { u32 pid; u32 shape; char fill[3000]; };
#define BPFKIT_EVENT struct big_event
#include "bpfkit/events.h"
BPF_PERCPU_ARRAY(copy_scratch, struct big_event, 1);

TRACEPOINT_PROBE(sched, sched_process_exec)
{
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    if (pid != ${held.pid})
        return 0;
    /* in place, twice: one page holds one record, so a ring buffer must refuse the second */
    for (int i = 1; i <= 2; i++) {
        struct big_event *ev = bpfkit_event_reserve();
        if (!ev)
            continue;
        ev->pid = pid;
        ev->shape = i;
        bpfkit_event_submit(args, ev);
    }
    /* built elsewhere, then copied */
    int zero = 0;
    struct big_event *copy = copy_scratch.lookup(&zero);
    if (!copy)
        return 0;
    copy->pid = pid;
    copy->shape = 3;
    bpfkit_event_output(args, copy, sizeof(*copy));
    return 0;
}`, 'events-test.bpf.c', (name) => fs.readFileSync(path.join(BPF_INCLUDE_DIR, name), 'utf8'));
  const ring = new BPF({ text: program(true), autoAttach: true });
  const perf = new BPF({ text: program(false), autoAttach: false });
  try {
    const fromPerf: number[] = [];
    const perfEvents = perf.table<PerfEventArray<Buffer>>('events').open((r) => fromPerf.push(r.readUInt32LE(4)), { raw: true, pageCount: 8 });
    perf.attachTracepoint({ tp: 'sched:sched_process_exec', fnName: 'tracepoint__sched__sched_process_exec' });
    await held.go();
    // The ring is read only now: nothing was consumed while the probe ran.
    const fromRing: number[] = [];
    ring.table<RingBufTable<Buffer>>('events').open((r) => fromRing.push(r.readUInt32LE(4)), { raw: true }).flush();
    perfEvents.flush();
    assert.deepEqual(fromRing, [1]);
    assert.equal(ring.table<PerCpuTable<number, bigint>>('lost').sum(0), 2n);
    assert.deepEqual(fromPerf, [1, 2, 3]);
  } finally {
    ring.close();
    perf.close();
  }
});

test('execsnoop --explain picks the attach points this kernel offers', async (t) => {
  if (!needsBpf(t)) return;
  // -x: failures need each syscall's own hook, the ladder that differs between kernels.
  const { chosen, stderr } = await explainedRun(t, 'execsnoop', ['-x']);
  assert.deepEqual(chosen, {
    'successful exec()s': tracepointExists('sched', 'sched_process_exec')
      ? 'tracepoint sched:sched_process_exec' : 'the exit of execve/execveat, hooked as below',
    'failed execve()': expectedSyscallHook('execve'),
    'failed execveat()': expectedSyscallHook('execveat', 'nothing (no execveat hook on this kernel)'),
    'event records': expectedEventRecords(),
  }, stderr);
});
