// mountsnoop against the real kernel: a program in a new mount namespace makes known mount calls
// (classic and new API, successes and errors, from two threads) and every one is reported once,
// exactly as C, with its PID, TID and mount namespace; util-linux's mount and umount in an
// `unshare -m` namespace likewise; --mntnsmap shows one namespace's calls and nothing else.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BPF, PROG_TYPE, tracepointExists, type PerfEventArray } from 'bcc-node-bindings';
import { needsBpf, sleep } from '../helpers/kernel.ts';
import { expectedEventRecords, expectedSyscallHook, explainedRun } from '../helpers/attach.ts';
import { type ToolRun, startInTest, stopAll } from '../helpers/tool.ts';
import { buildProgram } from '../../lib/run/program.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { MNTNS_MAP } from '../../lib/kernel/pinned-maps.ts';
import { COMM_LEN, MOUNT_EVENT_OFFSETS, RECORD_HEADER_SIZE, callText, decodeMountRecord } from '../../tools/mountsnoop/events.ts';
import { configureMountsnoop } from '../../tools/mountsnoop/program.ts';
import { ADDED_IN, MOUNT_CALLS } from '../../tools/mountsnoop/calls.ts';
import { createPinnedHashMap, ensureBpffs, u64, updatePinnedMap } from '../helpers/bpffs.ts';
import { structFields } from '../helpers/bpf.ts';

const MY_COMM = fs.readFileSync('/proc/self/comm', 'utf8').trim();

/** The workload: its calls are listed in expectedCalls(), in order. */
const MOUNT_CALLS_C = String.raw`#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* <sys/mount.h> of older and newer glibc disagree: the kernel's values, and syscall() for all. */
#define MS_RDONLY 1
#define MS_NOSUID 2
#define MS_NODEV 4
#define MS_REC 16384
#define MS_PRIVATE (1 << 18)
#define MS_MGC_VAL 0xc0ed0000
#define MNT_DETACH 2
#define FSOPEN_CLOEXEC 1
#define FSCONFIG_SET_FLAG 0
#define FSCONFIG_SET_STRING 1
#define FSCONFIG_CMD_CREATE 6
#define FSMOUNT_CLOEXEC 1
#define MOUNT_ATTR_RDONLY 0x1
#define MOUNT_ATTR_NOSUID 0x2
#define MOUNT_ATTR_NODEV 0x4
#define MOUNT_ATTR_NOATIME 0x10
#define MOVE_MOUNT_F_EMPTY_PATH 0x4
#define OPEN_TREE_CLONE 1
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#define FSPICK_CLOEXEC 1
#define NR_fsopen 430
#define NR_fsconfig 431
#define NR_fsmount 432
#define NR_move_mount 429
#define NR_open_tree 428
#define NR_fspick 433
#define NR_mount_setattr 442
#define NR_open_tree_attr 467

struct attr { uint64_t attr_set, attr_clr, propagation, userns_fd; };

static long thread_tid;
static void *in_thread(void *arg)
{
    thread_tid = syscall(SYS_gettid);
    syscall(SYS_umount2, (const char *)arg, 0);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const char *dir = argv[1], *missing = argv[2];
    if (unshare(CLONE_NEWNS) != 0) { perror("unshare"); return 1; }
    struct stat ns;
    stat("/proc/self/ns/mnt", &ns);
    syscall(SYS_mount, "none", "/", NULL, MS_REC | MS_PRIVATE, NULL);
    syscall(SYS_mount, "tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0700");
    syscall(SYS_umount2, dir, 0);
    syscall(SYS_umount2, dir, MNT_DETACH);
    syscall(SYS_mount, "src\"\n\xc3\xa9", dir, "nosuchfs", MS_MGC_VAL | MS_RDONLY, NULL);
    syscall(SYS_mount, (const char *)1, dir, "tmpfs", 0, NULL);
    char *longpath = malloc(5001);
    memset(longpath, 'a', 5000);
    longpath[0] = '/';
    longpath[5000] = 0;
    syscall(SYS_umount2, longpath, 0);
    long fsfd = syscall(NR_fsopen, "tmpfs", FSOPEN_CLOEXEC);
    syscall(NR_fsconfig, fsfd, FSCONFIG_SET_STRING, "size", "2m", 0);
    syscall(NR_fsconfig, fsfd, FSCONFIG_SET_FLAG, "ro", NULL, 0);
    syscall(NR_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
    long mfd = syscall(NR_fsmount, fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV | MOUNT_ATTR_NOATIME);
    syscall(NR_move_mount, mfd, "", AT_FDCWD, dir, MOVE_MOUNT_F_EMPTY_PATH);
    long tree = syscall(NR_open_tree, AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    struct attr attr = { .attr_set = MOUNT_ATTR_NOSUID, .propagation = MS_PRIVATE };
    syscall(NR_mount_setattr, AT_FDCWD, dir, AT_RECURSIVE, &attr, sizeof attr);
    long pick = syscall(NR_fspick, AT_FDCWD, dir, FSPICK_CLOEXEC);
    struct attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
    long treeattr = syscall(NR_open_tree_attr, AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC, &ro, sizeof ro);
    syscall(SYS_umount2, dir, MNT_DETACH);
    pthread_t t;
    pthread_create(&t, NULL, in_thread, (void *)missing);
    pthread_join(t, NULL);
    printf("mntns=%lu fsfd=%ld mfd=%ld tree=%ld pick=%ld treeattr=%ld thread=%ld\n",
           (unsigned long)ns.st_ino, fsfd, mfd, tree, pick, treeattr, thread_tid);
    return 0;
}
`;

let built: string | undefined;
/** Compiles the workload once into a temporary directory. */
function mountCalls(): string {
  if (built) return built;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpfkit-mountsnoop-'));
  fs.writeFileSync(path.join(dir, 'mount_calls.c'), MOUNT_CALLS_C);
  execFileSync('gcc', ['-O2', '-Wall', '-pthread', '-o', path.join(dir, 'mount_calls'), path.join(dir, 'mount_calls.c')]);
  built = path.join(dir, 'mount_calls');
  return built;
}

interface Ran { pid: number; mntns: number; fsfd: number; mfd: number; tree: number; pick: number; treeattr: number; thread: number }

/** Runs the workload on a fresh directory; resolves with what it printed (fds, namespace, thread id). */
async function runMountCalls(t: TestContext): Promise<Ran & { dir: string; missing: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpfkit-mnt-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const missing = `/nonexistent-${process.pid}`;
  const child = spawn(mountCalls(), [dir, missing], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const [code] = await once(child, 'close');
  assert.equal(code, 0);
  const values = Object.fromEntries([...out.matchAll(/(\w+)=(-?\d+)/g)].map((m) => [m[1], Number(m[2])]));
  return { pid: child.pid!, dir, missing, ...values } as Ran & { dir: string; missing: string };
}

/** The CALL column for each call the workload made, in order, and the thread that made it. */
function expectedCalls(r: Ran & { dir: string; missing: string }, openTreeAttr: boolean): Array<[tid: number, call: string]> {
  const d = JSON.stringify(r.dir);
  const main = (call: string): [number, string] => [r.pid, call];
  return [
    main('mount("none", "/", "", MS_REC|MS_PRIVATE, "") = 0'),
    main(`mount("tmpfs", ${d}, "tmpfs", MS_NOSUID|MS_NODEV, "size=1m,mode=0700") = 0`),
    main(`umount(${d}, 0x0) = 0`),
    main(`umount(${d}, MNT_DETACH) = -EINVAL`),
    main(`mount("src\\"\\n\\xc3\\xa9", ${d}, "nosuchfs", MS_MGC_VAL|MS_RDONLY, "") = -ENODEV`),
    main(`mount(0x1, ${d}, "tmpfs", 0x0, "") = -EFAULT`),
    // 5,000 bytes: the first 4,096 are shown, then "...".
    main(`umount("/${'a'.repeat(4095)}"..., 0x0) = -ENAMETOOLONG`),
    main(`fsopen("tmpfs", FSOPEN_CLOEXEC) = ${r.fsfd}`),
    main(`fsconfig(${r.fsfd}, FSCONFIG_SET_STRING, "size", "2m", 0) = 0`),
    main(`fsconfig(${r.fsfd}, FSCONFIG_SET_FLAG, "ro", "", 0) = 0`),
    main(`fsconfig(${r.fsfd}, FSCONFIG_CMD_CREATE, "", "", 0) = 0`),
    main(`fsmount(${r.fsfd}, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV|MOUNT_ATTR_NOATIME) = ${r.mfd}`),
    main(`move_mount(${r.mfd}, "", AT_FDCWD, ${d}, MOVE_MOUNT_F_EMPTY_PATH) = 0`),
    main(`open_tree(AT_FDCWD, ${d}, OPEN_TREE_CLONE|AT_RECURSIVE|OPEN_TREE_CLOEXEC) = ${r.tree}`),
    main(`mount_setattr(AT_FDCWD, ${d}, AT_RECURSIVE, {attr_set=MOUNT_ATTR_NOSUID, attr_clr=0x0, propagation=MS_PRIVATE, userns_fd=0}, 32) = 0`),
    main(`fspick(AT_FDCWD, ${d}, FSPICK_CLOEXEC) = ${r.pick}`),
    ...(openTreeAttr
      ? [main(`open_tree_attr(AT_FDCWD, ${d}, OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC, {attr_set=MOUNT_ATTR_RDONLY, attr_clr=0x0, propagation=0x0, userns_fd=0}, 32) = ${r.treeattr}`)]
      : []),
    main(`umount(${d}, MNT_DETACH) = 0`),
    [r.thread, `umount(${JSON.stringify(r.missing)}, 0x0) = -ENOENT`],
  ];
}

/** Starts the tool; a failing test kills it rather than waiting for it for ever. */
const start = (t: TestContext, args: string[]): ToolRun => startInTest(t, 'mountsnoop', args);

const stop = stopAll;

type Row = Record<string, string>;

/** Text output as rows keyed by bcc's header labels; CALL is the rest of the line. */
function rows(stdout: string): Row[] {
  const [header, ...lines] = stdout.split('\n').filter(Boolean);
  const labels = [...header.matchAll(/\S+/g)].map((m) => ({ label: m[0], start: m.index! }));
  return lines.map((line) => Object.fromEntries(labels.map(({ label, start }, i) =>
    [label, label === 'CALL' ? line.slice(start) : line.slice(start, labels[i + 1].start).trim()])));
}

const openTreeAttr = tracepointExists('syscalls', 'sys_enter_open_tree_attr');

test('every call of a program in a new mount namespace is one row: exact C, PID, TID, MNT_NS; -P and --json agree', async (t) => {
  if (!needsBpf(t)) return;
  const text = start(t, []);
  const parent = start(t, ['-P']);
  const json = start(t, ['--json']);
  await Promise.all([text.ready, parent.ready, json.ready]);
  const r = await runMountCalls(t);
  await stop(text, parent, json);

  assert.notEqual(r.mntns, fs.statSync('/proc/self/ns/mnt').ino, 'the workload ran in a namespace of its own');
  const expected = expectedCalls(r, openTreeAttr);
  const mine = rows(text.stdout).filter((row) => row.PID === String(r.pid));
  assert.deepEqual(mine.map((row) => [Number(row.TID), row.CALL]), expected);
  for (const row of mine) assert.deepEqual([row.COMM, row.MNT_NS], ['mount_calls', String(r.mntns)]);
  assert.equal(rows(text.stdout)[0] === undefined || text.stdout.startsWith('COMM             PID     TID     MNT_NS      CALL\n'), true);

  const withParent = rows(parent.stdout).filter((row) => row.PID === String(r.pid));
  assert.deepEqual(withParent.map((row) => [Number(row.TID), row.CALL]), expected);
  for (const row of withParent) assert.deepEqual([row.PCOMM, row.PPID, row.MNT_NS], [MY_COMM, String(process.pid), String(r.mntns)]);

  const events = json.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.pid === r.pid);
  assert.deepEqual(events.map((e) => [e.tid, e.text]), expected);
  assert.deepEqual(events[1], {
    comm: 'mount_calls', pid: r.pid, tid: r.pid, pcomm: MY_COMM, ppid: process.pid, mnt_ns: r.mntns, call: 'mount',
    args: { source: 'tmpfs', target: r.dir, filesystemtype: 'tmpfs', mountflags: 6, data: 'size=1m,mode=0700' },
    ret: 0, error: null, text: expected[1][1],
  });
  assert.deepEqual([events[3].ret, events[3].error], [-22, 'EINVAL']);
  assert.deepEqual(events[5].args.source, null); // unreadable memory
  assert.deepEqual(events[10].args, { fd: r.fsfd, cmd: 6, key: null, value: null, aux: 0 });
  const setattr = events.find((e) => e.call === 'mount_setattr');
  assert.deepEqual(setattr.args, { dirfd: -100, path: r.dir, flags: 0x8000, attr: { attr_set: 2, attr_clr: 0, propagation: 1 << 18, userns_fd: 0 }, size: 32 });
});

/** A shell in a new mount namespace (util-linux's unshare -m) that waits for a line before its script. */
async function heldNamespace(t: TestContext, script: string) {
  const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `read go; ${script}`], { stdio: ['pipe', 'ignore', 'inherit'] });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  // unshare execs the shell in the new namespace (same PID): wait until it has.
  for (let i = 0; i < 200 && !fs.readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').startsWith('sh\0'); i++) await sleep(10);
  return {
    mntns: fs.statSync(`/proc/${child.pid}/ns/mnt`).ino,
    go: async () => { child.stdin!.end('go\n'); const [code] = await once(child, 'exit'); assert.equal(code, 0); },
  };
}

test('util-linux mount -t tmpfs and umount under unshare -m: exactly their rows in that namespace; --mntnsmap shows that namespace alone', async (t) => {
  if (!needsBpf(t)) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpfkit-mnt-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const mounted = ensureBpffs();
  const pin = `/sys/fs/bpf/bpfkit-mountsnoop-${process.pid}-mntns`;
  t.after(() => {
    fs.rmSync(pin, { force: true });
    if (mounted) execFileSync('umount', ['/sys/fs/bpf']);
  });

  const all = start(t, []);
  await all.ready;
  // unshare's own mount (making / private) is made while `all` runs, before the shell waits.
  const held = await heldNamespace(t, `mount -t tmpfs -o nosuid tmpfs ${dir} && umount ${dir}`);
  const fd = createPinnedHashMap(pin, MNTNS_MAP, 16);
  updatePinnedMap(fd, u64(held.mntns), Buffer.alloc(4, 1));
  fs.closeSync(fd);
  const filtered = start(t, ['--mntnsmap', pin]);
  await filtered.ready;
  // In a namespace of its own, made while the held one lives: inode numbers of namespaces are
  // reused once a namespace is gone, so the two must exist at the same time to differ.
  const control = await runMountCalls(t);
  await held.go();
  await stop(all, filtered);
  assert.notEqual(control.mntns, held.mntns);

  const inNs = (run: ToolRun) => rows(run.stdout).filter((row) => row.MNT_NS === String(held.mntns)).map((row) => [row.COMM, row.CALL]);
  const d = JSON.stringify(dir);
  assert.deepEqual(inNs(all), [
    ['unshare', 'mount("none", "/", "", MS_REC|MS_PRIVATE, "") = 0'],
    ['mount', `mount("tmpfs", ${d}, "tmpfs", MS_NOSUID, "") = 0`],
    ['umount', `umount(${d}, 0x0) = 0`],
  ]);
  assert.equal(rows(all.stdout).filter((row) => row.PID === String(control.pid)).length, expectedCalls(control, openTreeAttr).length);
  // Filtered: the mount and umount (unshare's came before this run), and nothing from elsewhere.
  assert.deepEqual(rows(filtered.stdout).map((row) => [row.COMM, row.MNT_NS, row.CALL]), [
    ['mount', String(held.mntns), `mount("tmpfs", ${d}, "tmpfs", MS_NOSUID, "") = 0`],
    ['umount', String(held.mntns), `umount(${d}, 0x0) = 0`],
  ]);
});

// --- the fallbacks, which this kernel does not need: configured for a kernel without what they
// replace (a KernelView that hides it), then built and run (or verified) directly ---

test('without a ring buffer, records come through a perf buffer and read the same', async (t) => {
  if (!needsBpf(t)) return;
  const program = configureMountsnoop({}, { ...liveKernel(), ringBuffer: () => false });
  assert.equal(program.defines!.USE_RINGBUF, false);
  const p = buildProgram(program);
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    const records: Buffer[] = [];
    const events = bpf.table<PerfEventArray<Buffer>>('events').open((rec) => records.push(rec), { raw: true });
    program.attach(bpf);
    const r = await runMountCalls(t);
    events.flush();
    // A perf buffer has a ring per CPU: the other thread's record may be read first.
    const mine = records.map(decodeMountRecord).filter((e) => e.pid === r.pid).sort((a, b) => (a.ts < b.ts ? -1 : 1));
    assert.deepEqual(mine.map((e) => [e.tid, callText(e)]), expectedCalls(r, openTreeAttr));
    assert.ok(mine.every((e) => e.mntNs === r.mntns && e.comm === 'mount_calls'));
  } finally {
    bpf.close();
  }
});

test('the kprobe fallback (kernels without syscall tracepoints) passes the verifier', async (t) => {
  if (!needsBpf(t)) return;
  const view: KernelView = {
    ...liveKernel(),
    tracepoint: (category, event) => category !== 'syscalls' && tracepointExists(category, event),
    kprobes: () => true,
    syscallFunction: (name) => `__x64_sys_${name}`,
    ringBuffer: () => false,
  };
  const program = configureMountsnoop({}, view);
  assert.deepEqual(Object.values(program.hooks).map((h) => h.kind), Array(10).fill('kprobe'));
  const p = buildProgram(program);
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    const names = bpf.functionNames().sort();
    assert.equal(names.length, 11);
    for (const name of names) assert.ok(bpf.loadFunc(name, PROG_TYPE.KPROBE).fd >= 0, name);
  } finally {
    bpf.close();
  }
});

// --- the record contract: struct mount_event in C is the truth ---

test('events.ts reads struct mount_event at the offsets libbcc lays the C struct out with', async (t) => {
  if (!needsBpf(t)) return;
  const p = buildProgram(configureMountsnoop({}));
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    const fields = structFields(bpf, 'scratch');
    assert.deepEqual(Object.fromEntries(fields.map((f) => [f.name, f.offset])), MOUNT_EVENT_OFFSETS);
    const length = (name: string) => { const f = fields.find((x) => x.name === name)!.layout; return f.kind === 'chararray' ? f.length : -1; };
    assert.deepEqual([length('comm'), length('pcomm')], [COMM_LEN, COMM_LEN]);
    assert.equal(RECORD_HEADER_SIZE, MOUNT_EVENT_OFFSETS.data);
  } finally {
    bpf.close();
  }
});

test('mountsnoop --explain picks the attach points this kernel offers', async (t) => {
  if (!needsBpf(t)) return;
  const { chosen, stderr } = await explainedRun(t, 'mountsnoop', []);
  // A call newer than the kernel (open_tree_attr is 6.15's) has nothing to hook: it is left out.
  const hooks = MOUNT_CALLS.map((call) => [`${call}()`, expectedSyscallHook(call, ADDED_IN[call] && `nothing (no ${call} hook on this kernel)`)]);
  assert.deepEqual(chosen, { ...Object.fromEntries(hooks), 'event records': expectedEventRecords() }, stderr);
});
