// oomkill against the real kernel: a child in a 64 MiB memory cgroup allocates until the kernel's
// OOM killer kills it, and the tool reports exactly that kill, naming the child as trigger and
// victim; a second child that only holds memory is killed when a third one's allocation hits the
// limit, and the row names the third as trigger and the second as victim. Rows are matched by the
// children's PIDs: other tests may run beside these.
//
// The cgroup is made in the cgroup v2 hierarchy (memory.max, memory.swap.max 0) where the memory
// controller is there; on hosts that keep it in cgroup v1 (this VM: v2 mounted at
// /sys/fs/cgroup/unified holds no controller) in the v1 memory hierarchy (memory.limit_in_bytes,
// memory.memsw.limit_in_bytes): the kernel's memcg OOM path, and so the tool's view, is the same.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BPF, ensureTracefs, kprobesAvailable, tracefsPath } from 'bcc-node-bindings';
import { needsBpf, sleep } from '../helpers/kernel.ts';
import { expectedEventRecords, explainedRun, firstUsable } from '../helpers/attach.ts';
import { type ToolRun, runToolToEnd, startInTest, stopAll } from '../helpers/tool.ts';
import { buildProgram } from '../../lib/run/program.ts';
import { openEvents } from '../../lib/run/event-channel.ts';
import { cgroupV2Mount } from '../../lib/kernel/cgroups.ts';
import { kernelFunctionExists } from '../../lib/kernel/kallsyms.ts';
import { COMM_LEN, OOM_EVENT_OFFSETS, decodeOomRecord, pageSizeKb, type OomEvent } from '../../tools/oomkill/events.ts';
import { MARK_VICTIM_FIELDS, configureOomkill } from '../../tools/oomkill/program.ts';
import { liveKernel } from '../../lib/kernel/view.ts';
import { freePort, scrape } from '../helpers/http.ts';
import { structFields } from '../helpers/bpf.ts';
import { TIME_SCALE } from '../helpers/guest.ts';

const LIMIT = 64 << 20;
const LIMIT_PAGES = LIMIT / 1024 / pageSizeKb();
/** Whatever happens, a child is killed after this long: the test ends, and fails. */
const CHILD_DEADLINE_MS = 60_000 * TIME_SCALE;

// The workload: `oommem hog` allocates (and touches) 1 MiB at a time until it is killed, giving
// up at 1 GiB; `oommem hold MB` touches MB and waits; `oommem grow MB` touches MB, 1 MiB at a
// time, and exits 0. Each names itself after its mode, which is the comm the rows must show.
const WORKLOAD_C = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
static void touch(long mb) {
    for (long i = 0; i < mb; i++) {
        char *p = malloc(1 << 20);
        if (!p) exit(2);
        memset(p, 1, 1 << 20);
    }
}
int main(int argc, char **argv) {
    if (argc < 2) return 2;
    if (strcmp(argv[1], "hog") == 0) { prctl(PR_SET_NAME, "oomhog"); touch(1024); return 3; }
    long mb = argc > 2 ? atol(argv[2]) : 0;
    if (strcmp(argv[1], "hold") == 0) {
        prctl(PR_SET_NAME, "oomhold");
        touch(mb);
        printf("held\n");
        fflush(stdout);
        pause();
        return 0;
    }
    if (strcmp(argv[1], "grow") == 0) { prctl(PR_SET_NAME, "oomgrow"); touch(mb); return 0; }
    return 2;
}
`;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bpfkit-oomkill-test-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
let workloadBin: string | undefined;
function workload(): string {
  if (!workloadBin) {
    fs.writeFileSync(path.join(tmp, 'oommem.c'), WORKLOAD_C);
    execFileSync('gcc', ['-O2', '-o', path.join(tmp, 'oommem'), path.join(tmp, 'oommem.c')]);
    workloadBin = path.join(tmp, 'oommem');
  }
  return workloadBin;
}

// --- a memory-limited cgroup, made and removed by each test ---

interface MemoryCgroup {
  dir: string;
  version: 1 | 2;
  /** OOM kills in this cgroup as the kernel counts them. */
  oomKills(): number;
}

function v1MemoryMount(): string | null {
  for (const line of fs.readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const [, mountPoint, type, options] = line.split(' ');
    if (type === 'cgroup' && options.split(',').includes('memory')) return mountPoint;
  }
  return null;
}

function memoryCgroup(t: TestContext, name: string): MemoryCgroup {
  const v2 = cgroupV2Mount();
  let cg: MemoryCgroup;
  if (v2 && fs.readFileSync(path.join(v2, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('memory')) {
    if (!fs.readFileSync(path.join(v2, 'cgroup.subtree_control'), 'utf8').split(/\s+/).includes('memory')) {
      fs.writeFileSync(path.join(v2, 'cgroup.subtree_control'), '+memory');
    }
    const dir = path.join(v2, name);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'memory.max'), String(LIMIT));
    if (fs.existsSync(path.join(dir, 'memory.swap.max'))) fs.writeFileSync(path.join(dir, 'memory.swap.max'), '0');
    cg = { dir, version: 2, oomKills: () => Number(/^oom_kill (\d+)$/m.exec(fs.readFileSync(path.join(dir, 'memory.events'), 'utf8'))?.[1]) };
  } else {
    const v1 = v1MemoryMount();
    if (!v1) throw new Error('no memory cgroup controller on this machine (neither cgroup v2 nor v1)');
    const dir = path.join(v1, name);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'memory.limit_in_bytes'), String(LIMIT));
    // No swap either (the memory+swap limit may not be below the memory limit, so it is set after).
    if (fs.existsSync(path.join(dir, 'memory.memsw.limit_in_bytes'))) fs.writeFileSync(path.join(dir, 'memory.memsw.limit_in_bytes'), String(LIMIT));
    cg = { dir, version: 1, oomKills: () => Number(/^oom_kill (\d+)$/m.exec(fs.readFileSync(path.join(dir, 'memory.oom_control'), 'utf8'))?.[1]) };
  }
  t.after(async () => {
    // A killed task leaves the cgroup only once it has exited: rmdir is EBUSY until then.
    for (let i = 0; ; i++) {
      try {
        fs.rmdirSync(cg.dir);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || i >= 100) throw err;
        await sleep(50);
      }
    }
  });
  return cg;
}

interface Child {
  proc: ChildProcess;
  pid: number;
  /** Its end: [exit code, signal]. */
  exited: Promise<[number | null, NodeJS.Signals | null]>;
  stdout: string;
}

/** Starts the workload inside the cgroup: sh moves itself there, then execs it (the PID stays). */
function inCgroup(t: TestContext, cg: MemoryCgroup, args: string[]): Child {
  const proc = spawn('/bin/sh', ['-c', 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"', 'sh', cg.dir, workload(), ...args],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const child: Child = { proc, pid: proc.pid!, exited: once(proc, 'exit') as Promise<[number | null, NodeJS.Signals | null]>, stdout: '' };
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => { child.stdout += d; });
  const deadline = setTimeout(() => proc.kill('SIGKILL'), CHILD_DEADLINE_MS);
  void child.exited.then(() => clearTimeout(deadline));
  t.after(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); });
  return child;
}

const start = (t: TestContext, args: string[]): ToolRun => startInTest(t, 'oomkill', args);

const stop = stopAll;

const LINE = /^(\d\d:\d\d:\d\d) Triggered by PID (\d+) \("(.*)"\), OOM kill of PID (\d+) \("(.*)"\), (\d+) pages, loadavg: (.*)$/;
const LOADAVG = /^\d+\.\d\d \d+\.\d\d \d+\.\d\d \d+\/\d+ \d+$/;

interface Row { time: string; triggerPid: number; triggerComm: string; victimPid: number; victimComm: string; pages: number; loadavg: string }

function rows(stdout: string): Row[] {
  const [header, ...lines] = stdout.split('\n').filter(Boolean);
  assert.equal(header, 'Tracing OOM kills... Ctrl-C to stop.');
  return lines.map((line) => {
    const m = LINE.exec(line);
    assert.ok(m, `not bcc's line: ${line}`);
    return { time: m[1], triggerPid: Number(m[2]), triggerComm: m[3], victimPid: Number(m[4]), victimComm: m[5], pages: Number(m[6]), loadavg: m[7] };
  });
}

const jsonRows = (stdout: string): Array<Record<string, any>> => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
const involving = <T extends { victimPid?: number; triggerPid?: number; victim_pid?: number; trigger_pid?: number }>(items: T[], pids: number[]) =>
  items.filter((r) => pids.includes((r.victimPid ?? r.victim_pid)!) || pids.includes((r.triggerPid ?? r.trigger_pid)!));

test('a child that outgrows its 64 MiB cgroup is killed, and is the one row: trigger and victim, PID and comm, its pages; --json and --metrics agree', async (t) => {
  if (!needsBpf(t)) return;
  const port = await freePort();
  const text = start(t, []);
  const json = start(t, ['--json']);
  const metrics = start(t, ['--metrics', `127.0.0.1:${port}`]);
  await Promise.all([text.ready, json.ready, metrics.ready]);

  const cg = memoryCgroup(t, `bpfkit-oomkill-${process.pid}-hog`);
  const hog = inCgroup(t, cg, ['hog']);
  const [code, signal] = await hog.exited;
  assert.deepEqual([code, signal], [null, 'SIGKILL'], 'the OOM killer ends the child with SIGKILL');
  assert.equal(cg.oomKills(), 1, `the kernel counts one OOM kill in the cgroup (v${cg.version})`);
  // The records are drained 50 ms after the first one arrives.
  assert.ok(await text.waitForOutput(new RegExp(`OOM kill of PID ${hog.pid} `)), `no row for ${hog.pid}:\n${text.stdout}`);
  assert.ok(await json.waitForOutput(new RegExp(`"victim_pid":${hog.pid},`)), json.stdout);
  const scraped = await scrape(port);
  await stop(text, json, metrics);

  const found = involving(rows(text.stdout), [hog.pid]);
  assert.equal(found.length, 1, text.stdout);
  const row = found[0];
  assert.deepEqual([row.triggerPid, row.triggerComm, row.victimPid, row.victimComm], [hog.pid, 'oomhog', hog.pid, 'oomhog']);
  // What it had when killed: near the limit (libc's file pages are mapped, not charged to the cgroup).
  assert.ok(row.pages > LIMIT_PAGES * 0.75 && row.pages < LIMIT_PAGES * 1.25, `pages ${row.pages}`);
  assert.match(row.loadavg, LOADAVG);
  assert.match(row.time, /^\d\d:\d\d:\d\d$/);

  const events = involving(jsonRows(json.stdout), [hog.pid]);
  assert.equal(events.length, 1, json.stdout);
  const ev = events[0];
  assert.deepEqual([ev.trigger_pid, ev.trigger_comm, ev.victim_pid, ev.victim_comm, ev.victim_uid, ev.oom_score_adj, ev.total_pages],
    [hog.pid, 'oomhog', hog.pid, 'oomhog', 0, 0, null]);
  // The anonymous memory is what the cgroup charged: at most the limit, and most of it.
  assert.ok(ev.anon_rss_kb <= LIMIT / 1024 && ev.anon_rss_kb > LIMIT / 1024 * 0.75, `anon_rss_kb ${ev.anon_rss_kb}`);
  assert.ok(ev.total_vm_kb >= ev.anon_rss_kb);
  assert.equal(ev.pages, ev.rss_pages);
  assert.equal(ev.rss_pages, Math.floor((ev.anon_rss_kb + ev.file_rss_kb + ev.shmem_rss_kb) / pageSizeKb()));
  assert.match(ev.loadavg, LOADAVG);

  // Other tests' kills may be counted too (by their own names): this one is "oomhog" alone.
  assert.match(scraped, /^bpfkit_oom_kills_total\{comm="oomhog"\} 1$/m, scraped);
});

test('the task whose allocation hits the limit is the trigger; the larger task it makes the kernel kill is the victim', async (t) => {
  if (!needsBpf(t)) return;
  const text = start(t, []);
  await text.ready;
  const cg = memoryCgroup(t, `bpfkit-oomkill-${process.pid}-pair`);
  const holder = inCgroup(t, cg, ['hold', '40']);
  for (let i = 0; i < 1000 && !holder.stdout.includes('held'); i++) await sleep(20);
  assert.equal(holder.stdout, 'held\n');
  // 40 + 30 MiB do not fit in 64: the grower's allocation makes the kernel choose the holder (the
  // larger), after which the grower has room to finish.
  const grower = inCgroup(t, cg, ['grow', '30']);
  assert.deepEqual(await grower.exited, [0, null]);
  assert.deepEqual(await holder.exited, [null, 'SIGKILL']);
  assert.equal(cg.oomKills(), 1);
  assert.ok(await text.waitForOutput(new RegExp(`OOM kill of PID ${holder.pid} `)), text.stdout);
  await stop(text);

  const found = involving(rows(text.stdout), [holder.pid, grower.pid]);
  assert.equal(found.length, 1, text.stdout);
  assert.deepEqual([found[0].triggerPid, found[0].triggerComm, found[0].victimPid, found[0].victimComm],
    [grower.pid, 'oomgrow', holder.pid, 'oomhold']);
});

test('the kprobe rung (tracepoints avoided) reports the same kill, victim and trigger, or, without kprobes, oomkill says why in one line', async (t) => {
  if (!needsBpf(t)) return;
  // Kernels whose tracepoint has the victim's fields never reach it on their own.
  const env = { BPFKIT_AVOID: 'tracepoint' };
  if (!kprobesAvailable()) {
    const refused = await runToolToEnd('oomkill', [], { env });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /^oomkill: no way to trace OOM kills on this kernel: .*kprobe on oom_kill_process \(bcc's\): this kernel has no kprobes.*\n$/);
    return;
  }
  const text = startInTest(t, 'oomkill', ['--explain'], { env });
  await text.ready;
  assert.match(text.stderr, /^ {2}OOM kills: kprobe on oom_kill_process \(bcc's\)$/m);
  const cg = memoryCgroup(t, `bpfkit-oomkill-${process.pid}-kprobe`);
  const hog = inCgroup(t, cg, ['hog']);
  assert.deepEqual(await hog.exited, [null, 'SIGKILL']);
  assert.ok(await text.waitForOutput(new RegExp(`OOM kill of PID ${hog.pid} `)), text.stdout);
  await stop(text);
  const found = involving(rows(text.stdout), [hog.pid]);
  assert.equal(found.length, 1, text.stdout);
  assert.deepEqual([found[0].triggerPid, found[0].triggerComm, found[0].victimPid, found[0].victimComm], [hog.pid, 'oomhog', hog.pid, 'oomhog']);
  assert.ok(found[0].pages > LIMIT_PAGES * 0.75 && found[0].pages < LIMIT_PAGES * 1.25, `pages ${found[0].pages}`);
});

// --- the other variants, and the record contract ---

test('the pre-6.9 tracepoint variant (victim PID only) and the perf buffer report the same kill; the kprobe variant compiles', async (t) => {
  if (!needsBpf(t)) return;
  // A kernel before 6.9 without kprobes (with them, bcc's kprobe comes before the PID-only tracepoint).
  const old = { ...liveKernel(), tracepointFields: () => ['pid'], kprobes: () => false, ringBuffer: () => false };
  const program = configureOomkill(old);
  assert.deepEqual(program.attachments.map((a) => a.chosen), ['tracepoint oom:mark_victim (victim\'s PID only)', 'perf buffer']);
  const p = buildProgram(program);
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  const seen: OomEvent[] = [];
  try {
    const events = openEvents(bpf, program.ringBuffer, (r) => seen.push(decodeOomRecord(r)));
    program.attach(bpf);
    const cg = memoryCgroup(t, `bpfkit-oomkill-${process.pid}-old`);
    const hog = inCgroup(t, cg, ['hog']);
    assert.deepEqual(await hog.exited, [null, 'SIGKILL']);
    for (let i = 0; i < 100 && !seen.some((e) => e.victimPid === hog.pid); i++) {
      events.flush();
      await sleep(20);
    }
    const mine = involving(seen, [hog.pid]);
    assert.equal(mine.length, 1);
    // The victim is the task that ran out of memory: its name is known without the new fields.
    assert.deepEqual([mine[0].triggerPid, mine[0].triggerComm, mine[0].victimPid, mine[0].victimComm, mine[0].memory, mine[0].totalPages],
      [hog.pid, 'oomhog', hog.pid, 'oomhog', null, null]);
  } finally {
    bpf.close();
  }

  // The kprobe variant compiled with BTF's offsets (kernels with kprobes run it in the test above).
  const kprobe = configureOomkill({ ...liveKernel(), tracepointFields: () => null, kprobes: () => true, kernelFunction: () => true });
  assert.equal(kprobe.hook, 'kprobe');
  const kp = buildProgram(kprobe);
  const kbpf = new BPF({ text: kp.text, includeDirs: kp.includeDirs, autoAttach: false });
  try {
    assert.deepEqual(kbpf.functionNames(), ['oom_kill_entry']);
  } finally {
    kbpf.close();
  }
});

test('events.ts reads struct oom_event at the offsets libbcc lays the C struct out with', async (t) => {
  if (!needsBpf(t)) return;
  // With a perf buffer, each CPU builds its record in bpfkit_event_scratch: its value type is the record.
  const p = buildProgram(configureOomkill({ ...liveKernel(), ringBuffer: () => false }));
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    const fields = structFields(bpf, 'bpfkit_event_scratch');
    assert.deepEqual(Object.fromEntries(fields.map((f) => [f.name, f.offset])), OOM_EVENT_OFFSETS);
    const length = (name: string) => { const f = fields.find((x) => x.name === name)!.layout; return f.kind === 'chararray' ? f.length : -1; };
    assert.deepEqual([length('trigger_comm'), length('victim_comm')], [COMM_LEN, COMM_LEN]);
  } finally {
    bpf.close();
  }
});

/** oom:mark_victim's fields, from tracefs' format file itself; null without the tracepoint. */
function markVictimFields(): string[] | null {
  const file = `${tracefsPath() ?? ensureTracefs('reading oom:mark_victim')}/events/oom/mark_victim/format`;
  if (!fs.existsSync(file)) return null;
  // "field:unsigned long total_vm;", "field:__data_loc char[] comm;": the name is the word before ";" (or "[N];").
  return [...fs.readFileSync(file, 'utf8').matchAll(/field:[^;]*?(\w+)(?:\[\d*\])?;/g)].map((m) => m[1]);
}

test('oomkill --explain picks the attach points this kernel offers', async (t) => {
  if (!needsBpf(t)) return;
  const { chosen, stderr } = await explainedRun(t, 'oomkill', []);
  const fields = markVictimFields();
  assert.deepEqual(chosen, {
    // Before 6.9 the tracepoint names only the victim's PID: bcc's kprobe tells more, where there are kprobes.
    'OOM kills': firstUsable('OOM kills', [
      ['tracepoint oom:mark_victim (victim\'s name and memory)', () => fields !== null && MARK_VICTIM_FIELDS.every((f) => fields.includes(f))],
      ['kprobe on oom_kill_process (bcc\'s)', () => kprobesAvailable() && kernelFunctionExists('oom_kill_process')],
      ['tracepoint oom:mark_victim (victim\'s PID only)', () => fields?.includes('pid') === true],
    ]),
    'event records': expectedEventRecords(),
  }, stderr);
});
