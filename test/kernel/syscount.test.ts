// syscount against the real kernel: each test runs a workload that makes an exactly known set of
// system calls (test/workloads/syscall-mix.c) and checks that the tool reports exactly those.
// The workload waits on stdin (blocked in read) until the tool is attached, so the PID filter is
// set before its first counted call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { BPF, rawTracepointSupported, tracefsPath, tracepointExists, type ArrayTable, type PerCpuTable } from 'bcc-node-bindings';
import { buildProgram } from '../../lib/run/program.ts';
import { cgroupV2Mount } from '../../lib/kernel/cgroups.ts';
import { syscallByName, syscalls } from '../../lib/kernel/syscalls.ts';
import { startTool, runToolToEnd, REPO, type ToolRun } from '../helpers/tool.ts';
import { workload } from '../helpers/workloads.ts';
import { needsBpf, sleep } from '../helpers/kernel.ts';
import { explainedRun, firstUsable } from '../helpers/attach.ts';
import { kernelIndependentTest } from '../helpers/guest.ts';

const COMM = 'syscall-mix';

interface Mix {
  child: ChildProcess;
  pid: number;
  /** Lets the workload run. */
  go(): void;
  /** The workload's stdout, once it has exited. */
  done: Promise<string>;
}

/** Starts the workload held in its read(0), and returns once it is blocked there. */
async function heldMix(ops: string[]): Promise<Mix> {
  const child = spawn(workload('syscall-mix'), ['wait', ...ops], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const done = once(child, 'exit').then(() => out);
  const pid = child.pid!;
  for (let i = 0; i < 500; i++) {
    // /proc/PID/syscall starts with the number of the call the task is blocked in: 0 is read.
    const now = fs.readFileSync(`/proc/${pid}/syscall`, 'utf8');
    if (now.startsWith('0 ')) return { child, pid, go: () => child.stdin!.end('go\n'), done };
    await sleep(10);
  }
  child.kill();
  throw new Error('the workload never blocked in read()');
}

/** Runs syscount with `args` while the held workload runs `ops`; Ctrl-C once it has exited. */
async function traceMix(args: (pid: number) => string[], ops: string[]): Promise<{ run: ToolRun; mixOut: string; pid: number }> {
  const mix = await heldMix(ops);
  const run = startTool('syscount', args(mix.pid));
  try {
    await run.ready;
  } catch (err) {
    mix.child.kill();
    throw err;
  }
  mix.go();
  const mixOut = await mix.done;
  assert.equal(await run.stop('SIGINT'), 0, run.stderr);
  return { run, mixOut, pid: mix.pid };
}

interface Table { clock: string; header: string; rows: Map<string, { count: number; time?: string }> }

/** The interval tables in syscount's text output, keyed by the first column (name, or "PID COMM"). */
function tables(stdout: string): Table[] {
  const out: Table[] = [];
  const lines = stdout.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^\[(\d\d:\d\d:\d\d)\]$/.exec(lines[i]);
    if (!m) continue;
    const table: Table = { clock: m[1], header: lines[i + 1], rows: new Map() };
    for (i += 2; i < lines.length && lines[i] !== ''; i++) {
      const line = lines[i];
      const time = line.slice(32).trim();
      table.rows.set(line.slice(0, 22).trim().replace(/\s+/, ' '), { count: Number(line.slice(23, 31)), ...(time ? { time } : {}) });
    }
    out.push(table);
  }
  return out;
}

function counts(table: Table): Record<string, number> {
  return Object.fromEntries([...table.rows].map(([name, r]) => [name, r.count]));
}

function jsonLines(stdout: string): Array<{ time: string; interval_s: number; rows: Array<Record<string, string | number>> }> {
  return stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

test('-p counts exactly the N getppid() and M write() calls of a process, and its one exit_group()', async (t) => {
  if (!needsBpf(t)) return;
  const { run } = await traceMix((pid) => ['-p', String(pid)], ['getppid=12345', 'write=678']);
  const lines = run.stdout.split('\n');
  assert.equal(lines[0], 'Tracing syscalls, printing top 10... Ctrl+C to quit.');
  const [table, ...more] = tables(run.stdout);
  assert.equal(more.length, 0);
  assert.equal(table.header, 'SYSCALL                   COUNT');
  assert.deepEqual(counts(table), { getppid: 12345, write: 678, exit_group: 1 });
  assert.ok(lines.includes(`${'getppid'.padEnd(22)} ${'12345'.padStart(8)}`), 'bcc\'s "%-22s %8d" row');
  assert.deepEqual(lines.slice(-3), ['', 'Detaching...', '']);
});

test('--json -i 1 -d 3 prints three interval objects that add up to the same exact numbers, and stops on its own', async (t) => {
  if (!needsBpf(t)) return;
  const mix = await heldMix(['getppid=4321', 'write=99']);
  const run = startTool('syscount', ['-p', String(mix.pid), '--json', '-i', '1', '-d', '3']);
  await run.ready;
  mix.go();
  await mix.done;
  assert.equal(await run.exited, 0, run.stderr);
  const intervals = jsonLines(run.stdout);
  assert.equal(intervals.length, 3);
  const total: Record<string, number> = {};
  for (const interval of intervals) {
    assert.match(interval.time, /^\d\d:\d\d:\d\d$/);
    assert.equal(typeof interval.interval_s, 'number');
    for (const row of interval.rows) {
      assert.equal(syscallByName(String(row.syscall))?.nr, row.id);
      total[row.syscall] = (total[row.syscall] ?? 0) + Number(row.count);
    }
  }
  assert.deepEqual(total, { getppid: 4321, write: 99, exit_group: 1 });
});

test('-i 1 -d 3 prints three interval tables and "Detaching..." and exits 0 by itself', async (t) => {
  if (!needsBpf(t)) return;
  const { code, stdout, stderr } = await runToolToEnd('syscount', ['-i', '1', '-d', '3', '-T', '5']);
  assert.equal(code, 0, stderr);
  const found = tables(stdout);
  assert.equal(found.length, 3);
  for (const table of found) assert.ok(table.rows.size <= 5);
  assert.equal(stdout.trimEnd().split('\n').pop(), 'Detaching...');
});

test('-x counts exactly the failed calls, and -e ENOENT only those failing with ENOENT', async (t) => {
  if (!needsBpf(t)) return;
  const ops = ['getppid=500', 'enoent=37', 'ebadf=11', 'write=5'];
  const failed = await traceMix((pid) => ['-p', String(pid), '-x'], ops);
  assert.equal(failed.run.stdout.split('\n')[0], 'Tracing failed syscalls, printing top 10... Ctrl+C to quit.');
  assert.deepEqual(counts(tables(failed.run.stdout)[0]), { openat: 37, close: 11 });
  const enoent = await traceMix((pid) => ['-p', String(pid), '-e', 'ENOENT'], ops);
  assert.deepEqual(counts(tables(enoent.run.stdout)[0]), { openat: 37 });
});

test('-L reports each nanosleep() with a total between the requested and the measured sleep', async (t) => {
  if (!needsBpf(t)) return;
  const calls = 20;
  const eachNs = 2_000_000;
  const { run, mixOut } = await traceMix((pid) => ['-p', String(pid), '-L', '--json'], [`nanosleep=${calls}:${eachNs}`]);
  const measuredNs = Number(/slept_ns=(\d+)/.exec(mixOut)![1]);
  const [interval] = jsonLines(run.stdout);
  const sleep = interval.rows.find((r) => r.syscall === 'nanosleep')!;
  assert.equal(sleep.count, calls);
  // nanosleep() sleeps at least what it is asked; the child's clock reads bracket the kernel's.
  assert.ok(Number(sleep.total_ns) >= calls * eachNs, `${sleep.total_ns} < ${calls * eachNs}`);
  assert.ok(Number(sleep.total_ns) <= measuredNs, `${sleep.total_ns} > measured ${measuredNs}`);
  // The child reads the clock around each sleep: in the vDSO (no syscall) where the clocksource
  // allows it, else always through clock_gettime() (a guest on acpi_pm or hpet, a Xen guest).
  const clockReads = interval.rows.find((r) => r.syscall === 'clock_gettime')?.count ?? 0;
  assert.ok(clockReads === 0 || clockReads === 2 * calls, `clock_gettime counted ${clockReads} times`);
  // The one write() of the report was timed too; exit_group never returns, so it is not.
  assert.deepEqual(interval.rows.filter((r) => r.syscall !== 'clock_gettime').map((r) => [r.syscall, r.count]),
    [['nanosleep', calls], ['write', 1]]);
});

test('-L -m prints bcc\'s "TIME (ms)" column with six decimals', async (t) => {
  if (!needsBpf(t)) return;
  const { run } = await traceMix((pid) => ['-p', String(pid), '-L', '-m'], ['nanosleep=3:1000000']);
  const [table] = tables(run.stdout);
  assert.equal(table.header, 'SYSCALL                   COUNT        TIME (ms)');
  const sleep = table.rows.get('nanosleep')!;
  assert.equal(sleep.count, 3);
  assert.match(sleep.time!, /^\d+\.\d{6}$/);
  assert.ok(Number(sleep.time) >= 3);
});

test('-P shows the process\'s PID, name and total, even after it has exited', async (t) => {
  if (!needsBpf(t)) return;
  const { run, pid } = await traceMix((p) => ['-p', String(p), '-P'], ['getppid=300', 'write=20']);
  const [table] = tables(run.stdout);
  assert.equal(table.header, 'PID    COMM               COUNT');
  const lines = run.stdout.split('\n');
  assert.ok(lines.includes(`${String(pid).padEnd(6)} ${COMM.padEnd(15)} ${'321'.padStart(8)}`), run.stdout);
});

test('--syscall write counts only write() calls', async (t) => {
  if (!needsBpf(t)) return;
  const { run } = await traceMix((pid) => ['-p', String(pid), '--syscall', 'write'], ['getppid=100', 'write=42', 'enoent=3']);
  assert.equal(run.stdout.split('\n')[0], "Tracing syscall 'write'... Ctrl+C to quit.");
  assert.deepEqual(counts(tables(run.stdout)[0]), { write: 42 });
});

test('-c counts the calls of a process\'s children only, not its own', async (t) => {
  if (!needsBpf(t)) return;
  // A shell waits for a line, then runs the workload twice as its children: both make the same
  // calls (loader, libc start-up, exit) except for the getppid() loop, 250 against 50.
  const bin = workload('syscall-mix');
  const shell = spawn('/bin/sh', ['-c', `read line; ${bin} getppid=250; ${bin} getppid=50; exit 0`], { stdio: ['pipe', 'ignore', 'inherit'] });
  const exited = once(shell, 'exit');
  const run = startTool('syscount', ['-c', String(shell.pid), '-P']);
  await run.ready;
  shell.stdin!.end('go\n');
  await exited;
  assert.equal(await run.stop('SIGINT'), 0, run.stderr);
  const rows = [...tables(run.stdout)[0].rows].map(([who, r]) => ({ pid: Number(who.split(' ')[0]), comm: who.split(' ')[1], count: r.count }));
  assert.equal(rows.length, 2, run.stdout);
  assert.ok(rows.every((r) => r.comm === COMM && r.pid !== shell.pid), run.stdout);
  assert.equal(Math.abs(rows[0].count - rows[1].count), 200, run.stdout);
});

test('--exec runs the command held until attached, counts only it, and stops when it exits', async (t) => {
  if (!needsBpf(t)) return;
  const { code, stdout, stderr } = await runToolToEnd('syscount', ['--syscall', 'getppid', '--exec', workload('syscall-mix'), 'getppid=777'], { timeoutMs: 30_000 });
  assert.equal(code, 0, stderr);
  assert.deepEqual(counts(tables(stdout)[0]), { getppid: 777 });
  assert.equal(stdout.trimEnd().split('\n').pop(), 'Detaching...');
});

test('--exec exits with the command\'s status: `--exec false` 1, `--exec sh -c "exit 7"` 7', async (t) => {
  if (!needsBpf(t)) return;
  const [falsy, seven] = await Promise.all([
    runToolToEnd('syscount', ['--exec', 'false'], { timeoutMs: 30_000 }),
    runToolToEnd('syscount', ['-T', '3', '--exec', 'sh', '-c', 'exit 7'], { timeoutMs: 30_000 }),
  ]);
  assert.equal(falsy.code, 1, falsy.stderr);
  assert.equal(seven.code, 7, seven.stderr);
  // The report is printed as on any other end.
  for (const run of [falsy, seven]) assert.equal(run.stdout.trimEnd().split('\n').pop(), 'Detaching...');
});

test('--exec with -d: the end of the trace ends the command (SIGTERM), and its status is the run\'s (143)', async (t) => {
  if (!needsBpf(t)) return;
  const { code, stdout, stderr } = await runToolToEnd('syscount', ['-d', '1', '--exec', 'sleep', '77'], { timeoutMs: 30_000 });
  assert.equal(code, 143, stderr);
  assert.equal(tables(stdout).length, 1);
  assert.equal(stdout.trimEnd().split('\n').pop(), 'Detaching...');
});

/** The PIDs of `parent`'s children, from /proc/<pid>/stat (its fourth field is the parent). */
function childrenOf(parent: number): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) found.push(Number(entry));
    } catch { /* gone meanwhile */ }
  }
  return found;
}

for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15]] as const) {
  test(`--exec sleep 77: ${signal} to syscount ends the command too, waits for it, and exits with its status (${128 + number})`, async (t) => {
    if (!needsBpf(t)) return;
    const run = startTool('syscount', ['--exec', 'sleep', '77']);
    await run.ready;
    // Released after "ready": the held shell becomes sleep (same PID) with its exec.
    let sleeper: number | undefined;
    for (let i = 0; i < 500 && sleeper === undefined; i++) {
      sleeper = childrenOf(run.child.pid!).find((pid) => {
        try { return fs.readFileSync(`/proc/${pid}/comm`, 'utf8') === 'sleep\n'; } catch { return false; }
      });
      if (sleeper === undefined) await sleep(10);
    }
    assert.ok(sleeper !== undefined, `no sleep under syscount (PID ${run.child.pid})`);
    const code = await run.stop(signal);
    assert.equal(fs.existsSync(`/proc/${sleeper}`), false, `sleep (PID ${sleeper}) is still there after syscount ended with ${code}`);
    // The command is out of the terminal's reach (a session of its own): syscount passed the signal on.
    assert.equal(code, 128 + number, run.stderr);
    assert.equal(run.stdout.trimEnd().split('\n').pop(), 'Detaching...', run.stderr);
  });
}

test('--cgroup counts only tasks in that cgroup v2', async (t) => {
  if (!needsBpf(t)) return;
  const root = cgroupV2Mount();
  if (!root) {
    if (process.env.CI === 'true') throw new Error('no cgroup v2 hierarchy mounted, and CI must not skip');
    t.skip('no cgroup v2 hierarchy mounted');
    return;
  }
  const dir = path.join(root, `bpfkit-syscount-test-${process.pid}`);
  fs.mkdirSync(dir);
  try {
    const mix = await heldMix(['getppid=222', 'write=3']);
    fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(mix.pid));
    const run = startTool('syscount', ['--cgroup', dir]);
    await run.ready;
    mix.go();
    await mix.done;
    assert.equal(await run.stop('SIGINT'), 0, run.stderr);
    assert.deepEqual(counts(tables(run.stdout)[0]), { getppid: 222, write: 3, exit_group: 1 });
  } finally {
    fs.rmdirSync(dir);
  }
});

test('-l lists a name for every syscall tracepoint of the running kernel', async (t) => {
  if (!needsBpf(t)) return;
  const { code, stdout } = await runToolToEnd('syscount', ['-l']);
  assert.equal(code, 0);
  const listed = new Set(stdout.split(/\s+/).filter(Boolean));
  assert.equal(listed.size, syscalls().length);
  const events = fs.readdirSync(path.join(tracefsPath()!, 'events/syscalls')).filter((e) => e.startsWith('sys_enter_'));
  assert.ok(events.length > 300);
  for (const event of events) {
    const entry = event.slice('sys_enter_'.length);
    const found = syscallByName(entry);
    assert.ok(found && found.entry === entry, `no syscall in the table has the tracepoint ${event}`);
    assert.ok(listed.has(found.name), `${found.name} (${event}) not listed`);
  }
  assert.equal(stdout.split('\n')[0], ['_sysctl', 'accept', 'accept4', 'access'].map((n) => n.padEnd(22)).join('   '));
});

test('-l needs no privilege: as nobody it lists the same names as root, and exits 0', async (t) => {
  if (!needsBpf(t)) return;
  const child = spawn('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', path.join(REPO, 'tools/syscount.ts'), '-l'],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, stderr);
  assert.equal(stderr, '');
  assert.equal(stdout, (await runToolToEnd('syscount', ['-l'])).stdout);
  assert.equal(new Set(stdout.split(/\s+/).filter(Boolean)).size, syscalls().length);
});

test('the table\'s numbers are the running kernel\'s: syscalls:sys_enter_* events report the same __syscall_nr', async (t) => {
  if (!needsBpf(t)) return;
  const names = ['getppid', 'write', 'openat', 'close', 'nanosleep', 'exit_group', 'read'];
  const probes = names.map((name, i) => `
    TRACEPOINT_PROBE(syscalls, sys_enter_${syscallByName(name)!.entry}) {
      int key = ${i};
      long nr = args->__syscall_nr;
      seen.update(&key, &nr);
      return 0;
    }`).join('\n');
  const bpf = new BPF({ text: `BPF_ARRAY(seen, long, ${names.length});\n${probes}` });
  try {
    const mix = await heldMix(['getppid=1', 'write=1', 'enoent=1', 'ebadf=1', 'nanosleep=1:1000']);
    mix.go();
    await mix.done;
    const seen = bpf.table<ArrayTable<bigint>>('seen');
    for (const [i, name] of names.entries()) {
      assert.equal(Number(seen.get(i)), syscallByName(name)!.nr, name);
    }
  } finally {
    bpf.close();
  }
});

// The file is generated from this machine's headers: another kernel's differ, and need not match.
kernelIndependentTest('scripts/gen-syscalls.ts regenerates lib/kernel/syscalls.ts unchanged from the kernel headers and tracefs', async (t) => {
  if (!needsBpf(t)) return;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'scripts/gen-syscalls.ts'), '--check'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, out);
});

// The C program loaded directly, in shapes the tool would only pick on other kernels, and with its
// maps open for inspection.
function defines(overrides: Record<string, number | boolean>): Record<string, number | boolean> {
  return {
    ENTER_RAW: true, EXIT_RAW: true, THREAD_EXIT_RAW: true, LATENCY: false, BY_PROCESS: false, FILTER_FAILED: false, FILTER_ERRNO: 0,
    FILTER_PID: 0, FILTER_TID: 0, FILTER_PPID: 0, FILTER_CGROUP: false, FILTER_SYSCALL: -1, NR_SLOTS: 512,
    MAX_PROCESSES: 1024, MAX_THREADS: 1024, NR_EXIT_GROUP: syscallByName('exit_group')!.nr,
    ...overrides,
  };
}

test('-L leaves no start entry behind, however many threads came and went or were killed', async (t) => {
  if (!needsBpf(t)) return;
  const threads = 300;
  // Threads that exit themselves, then threads killed in the middle of a nanosleep() by exit_group().
  const mix = await heldMix([`threads=${threads}`, 'sleepers=50']);
  const program = buildProgram({ file: 'syscount.bpf.c', defines: defines({ LATENCY: true, FILTER_PID: mix.pid }) });
  const bpf = new BPF({ text: program.text, includeDirs: program.includeDirs });
  try {
    mix.go();
    await mix.done;
    assert.equal(bpf.table('start').entries().length, 0);
    const counts = bpf.table<PerCpuTable<number, { count: bigint }>>('counts');
    assert.equal(Number(counts.sum(syscallByName('getppid')!.nr)!.count), threads);
  } finally {
    bpf.close();
  }
});

test('the tracepoint fallbacks (raw_syscalls:*, sched:sched_process_exit) count the same as the raw tracepoints', async (t) => {
  if (!needsBpf(t)) return;
  const mix = await heldMix(['getppid=1000', 'enoent=7', 'threads=20']);
  const load = (overrides: Record<string, number | boolean>) => {
    const program = buildProgram({ file: 'syscount.bpf.c', defines: defines({ ...overrides, FILTER_PID: mix.pid }) });
    return new BPF({ text: program.text, includeDirs: program.includeDirs });
  };
  const enter = load({ ENTER_RAW: false });
  const exit = load({ EXIT_RAW: false, FILTER_FAILED: true });
  const timed = load({ ENTER_RAW: false, EXIT_RAW: false, THREAD_EXIT_RAW: false, LATENCY: true });
  try {
    const links = (bpf: BPF) => bpf.links().map((l) => `${l.kind} ${l.target}`).sort();
    assert.deepEqual(links(enter), ['tracepoint raw_syscalls:sys_enter']);
    assert.deepEqual(links(exit), ['tracepoint raw_syscalls:sys_exit']);
    assert.deepEqual(links(timed), ['tracepoint raw_syscalls:sys_enter', 'tracepoint raw_syscalls:sys_exit', 'tracepoint sched:sched_process_exit']);
    mix.go();
    await mix.done;
    const read = (bpf: BPF, name: string) => Number(bpf.table<PerCpuTable<number, { count: bigint }>>('counts').sum(syscallByName(name)!.nr)!.count);
    assert.equal(read(enter, 'getppid'), 1020);
    assert.equal(read(enter, 'openat'), 7);
    assert.equal(read(exit, 'openat'), 7);
    assert.equal(read(exit, 'getppid'), 0);
    assert.equal(read(timed, 'getppid'), 1020);
    assert.equal(timed.table('start').entries().length, 0);
  } finally {
    enter.close();
    exit.close();
    timed.close();
  }
});

test('--explain names the attach points and the programs the tool loaded', async (t) => {
  if (!needsBpf(t)) return;
  const { run } = await traceMix((pid) => ['-p', String(pid), '-L', '--explain'], ['getppid=10']);
  assert.match(run.stderr, /syscall enter: raw tracepoint sys_enter/);
  assert.match(run.stderr, /syscall exit: raw tracepoint sys_exit/);
  assert.match(run.stderr, /thread exit \(drops its -L start entry\): raw tracepoint sched_process_exit/);
  assert.match(run.stderr, /id \d+ raw_tracepoint__sys_enter: raw_tracepoint on raw_tracepoint sys_enter/);
  assert.match(run.stderr, /id \d+ start: lru_hash/);
  assert.match(run.stderr, /id \d+ counts: percpu_array/);
});

kernelIndependentTest('bad input exits 2 with one line on stderr', async () => {
  const cases: string[][] = [
    ['-e', 'EBOGUS'], ['--syscall', 'nosuchcall'], ['--syscall', '99999'], ['-T', '0'], ['-p', 'abc'],
    ['-i', '0'], ['-p', '1', '--exec', 'true'], ['-p', '1', '-t', '1'], ['--exec'], ['--exec', 'no-such-command-here'],
    ['--json', '--chart'], ['--bogus'], ['--cgroup', '/nonexistent-cgroup'],
  ];
  await Promise.all(cases.map(async (args) => {
    const { code, stdout, stderr } = await runToolToEnd('syscount', args);
    assert.equal(code, 2, `${args.join(' ')}: exit ${code}\n${stderr}`);
    assert.equal(stdout, '', args.join(' '));
    assert.equal(stderr.trimEnd().split('\n').length, 1, `${args.join(' ')}: ${stderr}`);
    assert.match(stderr, /^syscount: /);
  }));
});

test('-t with a TID no thread has says so', async () => {
  const pidMax = Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  let tid = pidMax - 1;
  while (fs.existsSync(`/proc/${tid}`)) tid--;
  const { code, stdout, stderr } = await runToolToEnd('syscount', ['-t', String(tid)]);
  assert.equal(code, 2);
  assert.equal(stdout, '');
  assert.equal(stderr, `syscount: argument -t/--tid: no thread with TID ${tid} (see syscount --help)\n`);
});

test('syscount --explain picks the attach points this kernel offers', async (t) => {
  if (!needsBpf(t)) return;
  // -L hooks all three events; each is a raw tracepoint where the kernel loads them, else a tracepoint.
  const { chosen, stderr } = await explainedRun(t, 'syscount', ['-L']);
  const hook = (purpose: string, category: string, event: string) => firstUsable(purpose, [
    [`raw tracepoint ${event}`, rawTracepointSupported],
    [`tracepoint ${category}:${event}`, () => tracepointExists(category, event)],
  ]);
  assert.deepEqual(chosen, {
    'syscall enter': hook('syscall enter', 'raw_syscalls', 'sys_enter'),
    'syscall exit': hook('syscall exit', 'raw_syscalls', 'sys_exit'),
    'thread exit (drops its -L start entry)': hook('thread exit', 'sched', 'sched_process_exit'),
  }, stderr);
});
