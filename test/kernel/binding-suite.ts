// The binding against the real kernel: each test loads a program, makes a known workload, and
// checks the exact numbers the program reports. binding-fresh.test.ts runs it with every program
// compiled anew, binding-cached.test.ts with every program loaded from the compile cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BpfError, HashTable, PerCpuTable, ArrayTable, PerfEventArray, RingBufTable, kprobesAvailable, possibleCpus,
  loadedProgramIds, programExists, kernelBtf, programInfo,
} from 'bcc-node-bindings';
import { workload } from '../helpers/workloads.ts';
import { needsBpf, sleep } from '../helpers/kernel.ts';
import { newBpf } from '../helpers/bpf.ts';

async function run(cmd: string, args: string[]): Promise<number> {
  const child = spawn(cmd, args, { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}

const GETPPID = 110; // x86_64
const syscallId = process.arch === 'arm64' ? 173 : GETPPID;

test('a raw tracepoint on sys_enter counts exactly the N getppid() calls of a child', async (t) => {
  if (!needsBpf(t)) return;
  const bpf = newBpf({
    text: `
      BPF_HASH(calls, u32, u64);
      RAW_TRACEPOINT_PROBE(sys_enter) {
        if (ctx->args[1] != ${syscallId}) return 0;
        u32 pid = bpf_get_current_pid_tgid() >> 32;
        calls.increment(pid);
        return 0;
      }`,
  });
  try {
    const n = 12345;
    const pid = await run(workload('getppid'), [String(n)]);
    const calls = bpf.table<HashTable<number, bigint>>('calls');
    assert.equal(calls.get(pid), BigInt(n));
    assert.deepEqual(bpf.links().map((l) => [l.kind, l.target]), [['raw_tracepoint', 'sys_enter']]);
  } finally {
    bpf.close();
  }
});

test('a tracepoint probe with a per-CPU array counts the same calls, summed across CPUs', async (t) => {
  if (!needsBpf(t)) return;
  const bpf = newBpf({
    text: `
      BPF_PERCPU_ARRAY(calls, u64, 1);
      BPF_ARRAY(target, u32, 1);
      TRACEPOINT_PROBE(raw_syscalls, sys_enter) {
        int zero = 0;
        u32 *want = target.lookup(&zero);
        if (!want || *want != (bpf_get_current_pid_tgid() >> 32) || args->id != ${syscallId}) return 0;
        calls.increment(zero);
        return 0;
      }`,
  });
  try {
    // Filter on the child's pid: it waits for a line on stdin, so the filter is set before it runs.
    const child = spawn(workload('getppid'), ['5000', 'wait'], { stdio: ['pipe', 'ignore', 'ignore'] });
    bpf.table<ArrayTable<number>>('target').set(0, child.pid!);
    child.stdin!.end('go\n');
    await once(child, 'exit');
    const calls = bpf.table<PerCpuTable<number, bigint>>('calls');
    assert.equal(calls.sum(0), 5000n);
    assert.equal(calls.get(0)!.length, possibleCpus().length);
  } finally {
    bpf.close();
  }
});

const EXEC_PROGRAM = (output: 'perf' | 'ring') => `
  struct exec_event { u32 pid; u32 ppid; char comm[16]; };
  ${output === 'perf' ? 'BPF_PERF_OUTPUT(events);' : 'BPF_RINGBUF_OUTPUT(events, 64);'}
  TRACEPOINT_PROBE(sched, sched_process_exec) {
    struct exec_event e = {};
    e.pid = bpf_get_current_pid_tgid() >> 32;
    bpf_get_current_comm(&e.comm, sizeof(e.comm));
    ${output === 'perf' ? 'events.perf_submit(args, &e, sizeof(e));' : 'events.ringbuf_output(&e, sizeof(e), 0);'}
    return 0;
  }`;

function markerBinary(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpfkit-exec-'));
  const bin = path.join(dir, 'bpfkit_marker');
  fs.copyFileSync('/bin/true', bin);
  fs.chmodSync(bin, 0o755);
  return bin;
}

for (const output of ['perf', 'ring'] as const) {
  test(`sched_process_exec events stream through the ${output} buffer: exactly N, with pid and comm`, async (t) => {
    if (!needsBpf(t)) return;
    const bpf = newBpf({ text: EXEC_PROGRAM(output) });
    try {
      const seen: Array<{ pid: number; comm: string }> = [];
      const table = bpf.table<PerfEventArray<{ pid: number; comm: string }> | RingBufTable<{ pid: number; comm: string }>>('events');
      table.open((e) => { if (e.comm === 'bpfkit_marker') seen.push(e); });
      const bin = markerBinary();
      const n = 200;
      const pids: number[] = [];
      for (let i = 0; i < n; i++) pids.push(await run(bin, []));
      for (let i = 0; i < 50 && seen.length < n; i++) await sleep(20);
      assert.equal(seen.length, n);
      assert.deepEqual(seen.map((e) => e.pid).sort((a, b) => a - b), pids.sort((a, b) => a - b));
      if (table instanceof PerfEventArray) assert.equal(table.lost, 0);
    } finally {
      bpf.close();
    }
  });
}

test('an exception in an event handler loses no other event', async (t) => {
  if (!needsBpf(t)) return;
  const bpf = newBpf({ text: EXEC_PROGRAM('ring') });
  try {
    const errors: unknown[] = [];
    let seen = 0;
    bpf.table<RingBufTable<{ comm: string }>>('events').open((e) => {
      if (e.comm !== 'bpfkit_marker') return;
      seen++;
      if (seen % 2 === 0) throw new Error('handler bug');
    }, { onError: (err) => errors.push(err), coalesceMs: 20 });
    const bin = markerBinary();
    for (let i = 0; i < 10; i++) await run(bin, []);
    for (let i = 0; i < 50 && seen < 10; i++) await sleep(20);
    assert.equal(seen, 10);
    assert.equal(errors.length, 5);
  } finally {
    bpf.close();
  }
});

test('a struct-keyed hash with struct values round-trips through the kernel map', (t) => {
  if (!needsBpf(t)) return;
  const bpf = newBpf({
    text: `
      struct key_t { u32 pid; char comm[16]; u8 proto; };
      struct val_t { u64 bytes; s32 err; struct { u16 a; u16 b[2]; } inner; };
      BPF_HASH(flows, struct key_t, struct val_t, 128);
      int unused(void *ctx) { return 0; }`,
  });
  try {
    type Key = { pid: number; comm: string; proto: number };
    type Val = { bytes: bigint; err: number; inner: { a: number; b: number[] } };
    const flows = bpf.table<HashTable<Key, Val>>('flows');
    const entries: Array<[Key, Val]> = Array.from({ length: 100 }, (_, i) => [
      { pid: 1000 + i, comm: `proc-${i}`, proto: i % 3 },
      { bytes: 2n ** 40n + BigInt(i), err: 0 - i, inner: { a: i, b: [i * 2, 65535] } },
    ]);
    for (const [k, v] of entries) flows.set(k, v);
    assert.deepEqual(flows.get(entries[7][0]), entries[7][1]);
    const read = flows.entries().sort((a, b) => a[0].pid - b[0].pid);
    assert.deepEqual(read, entries);
    assert.equal(flows.delete(entries[0][0]), true);
    assert.equal(flows.delete(entries[0][0]), false);
    assert.equal(flows.get(entries[0][0]), undefined);
    assert.equal(flows.drain().length, 99);
    assert.equal(flows.entries().length, 0);
  } finally {
    bpf.close();
  }
});

test('a compile error is a COMPILE BpfError naming the line, with clang\'s diagnostic', (t) => {
  if (!needsBpf(t)) return;
  assert.throws(() => newBpf({ text: 'int f(void *ctx) {\n  return undefined_thing;\n}' }), (err: unknown) => {
    assert.ok(err instanceof BpfError);
    assert.equal(err.code, 'COMPILE');
    assert.match(err.message, /line 2: use of undeclared identifier 'undefined_thing'/);
    assert.match(err.log ?? '', /return undefined_thing;/);
    return true;
  });
});

test('a verifier rejection is a VERIFIER BpfError with the tail of the verifier log', (t) => {
  if (!needsBpf(t)) return;
  const before = loadedProgramIds().length;
  assert.throws(() => newBpf({
    text: `
      BPF_HASH(h, u32, u64);
      TRACEPOINT_PROBE(raw_syscalls, sys_enter) {
        u32 k = 1;
        u64 *v = h.lookup(&k);
        return *v;   /* no NULL check: the verifier must refuse */
      }`,
  }), (err: unknown) => {
    assert.ok(err instanceof BpfError);
    assert.equal(err.code, 'VERIFIER');
    assert.match(err.log ?? '', /invalid mem access 'map_value_or_null'/);
    return true;
  });
  assert.equal(loadedProgramIds().length, before);
});

test('kprobes attach where the kernel has them, and fail with NOT_SUPPORTED where it does not', (t) => {
  if (!needsBpf(t)) return;
  const bpf = newBpf({ text: 'int on_call(void *ctx) { return 0; }' });
  try {
    if (kprobesAvailable()) {
      bpf.attachKprobe({ event: 'do_nanosleep', fnName: 'on_call' });
      assert.equal(bpf.links()[0].kind, 'kprobe');
    } else {
      assert.throws(() => bpf.attachKprobe({ event: 'do_nanosleep', fnName: 'on_call' }),
        (err: unknown) => err instanceof BpfError && err.code === 'NOT_SUPPORTED');
    }
  } finally {
    bpf.close();
  }
});

test('a uprobe on a workload function counts its calls', async (t) => {
  if (!needsBpf(t)) return;
  const bpf = newBpf({
    text: `
      BPF_ARRAY(hits, u64, 1);
      int on_getppid(void *ctx) { hits.increment(0); return 0; }`,
  });
  try {
    // The uprobe goes on libc's syscall() wrapper, which the workload calls once per getppid.
    bpf.attachUprobe({ name: 'c', sym: 'syscall', fnName: 'on_getppid', pid: -1 });
    await run(workload('getppid'), ['777']);
    assert.ok((bpf.table<ArrayTable<bigint>>('hits').get(0) ?? 0n) >= 777n);
  } finally {
    bpf.close();
  }
});

test('a software perf event fires on every CPU at the sampling frequency', async (t) => {
  if (!needsBpf(t)) return;
  const bpf = newBpf({
    text: `
      BPF_ARRAY(samples, u64, 1);
      int on_sample(void *ctx) { samples.increment(0); return 0; }`,
  });
  try {
    bpf.attachPerfEvent({ evType: 1 /* SOFTWARE */, evConfig: 0 /* CPU_CLOCK */, sampleFreq: 99, fnName: 'on_sample' });
    await sleep(500);
    const samples = bpf.table<ArrayTable<bigint>>('samples').get(0)!;
    assert.ok(samples > 10n, `expected samples, got ${samples}`);
  } finally {
    bpf.close();
  }
});

test('a log2 histogram filled in the kernel prints in bcc\'s format', async (t) => {
  if (!needsBpf(t)) return;
  const bpf = newBpf({
    text: `
      BPF_HISTOGRAM(dist);
      BPF_ARRAY(target, u32, 1);
      TRACEPOINT_PROBE(raw_syscalls, sys_enter) {
        int zero = 0;
        u32 *want = target.lookup(&zero);
        if (!want || *want != (bpf_get_current_pid_tgid() >> 32) || args->id != ${syscallId}) return 0;
        dist.increment(bpf_log2l(100));
        return 0;
      }`,
  });
  try {
    const child = spawn(workload('getppid'), ['40', 'wait'], { stdio: ['pipe', 'ignore', 'ignore'] });
    bpf.table<ArrayTable<number>>('target').set(0, child.pid!);
    child.stdin!.end('go\n');
    await once(child, 'exit');
    const text = bpf.table('dist').log2HistText('usecs');
    assert.match(text, /^ {5}usecs {15}: count {5}distribution\n/);
    assert.match(text, /\n {8}64 -> 127 {8}: 40 {7}\|\*{40}\|\n$/);
    assert.deepEqual(bpf.table('dist').histogramJson('usecs')[0].data.at(-1), { 'interval-start': 64, 'interval-end': 127, count: 40 });
  } finally {
    bpf.close();
  }
});

test('close() detaches and unloads every program, and is safe to call twice', async (t) => {
  if (!needsBpf(t)) return;
  const bpf = newBpf({ text: EXEC_PROGRAM('perf') + 'RAW_TRACEPOINT_PROBE(sys_exit) { return 0; }' });
  bpf.table<PerfEventArray>('events').open(() => {});
  const ours = bpf.loadedFunctions().map((f) => programInfo(f.fd).id);
  assert.equal(ours.length, 2);
  assert.ok(ours.every((id) => loadedProgramIds().includes(id)));
  bpf.close();
  bpf.close();
  // The kernel frees a program after an RCU grace period, not at the last close().
  for (let i = 0; i < 100 && ours.some(programExists); i++) await sleep(20);
  for (const id of ours) assert.equal(programExists(id), false, `program ${id} still loaded`);
  assert.ok(!loadedProgramIds().some((id) => ours.includes(id)));
});

test('offsets from the running kernel\'s BTF read the right parent PID, whatever headers compiled the program', async (t) => {
  if (!needsBpf(t)) return;
  const btf = kernelBtf();
  const bpf = newBpf({
    includeDirs: [path.resolve(import.meta.dirname, '../../bpf/include')],
    cflags: [
      `-DTASK_REAL_PARENT_OFFSET=${btf.offsetOf('task_struct', 'real_parent')}`,
      `-DTASK_TGID_OFFSET=${btf.offsetOf('task_struct', 'tgid')}`,
    ],
    text: `
      #include "bpfkit/task.h"
      BPF_HASH(parent_of, u32, u32);
      RAW_TRACEPOINT_PROBE(sys_enter) {
        if (ctx->args[1] != ${syscallId}) return 0;
        u32 pid = bpf_get_current_pid_tgid() >> 32;
        u32 ppid = bpfkit_current_ppid();
        parent_of.update(&pid, &ppid);
        return 0;
      }`,
  });
  try {
    const pid = await run(workload('getppid'), ['1']);
    assert.equal(bpf.table<HashTable<number, number>>('parent_of').get(pid), process.pid);
  } finally {
    bpf.close();
  }
});

test('batch reads and one-by-one iteration return the same 10,000 entries', (t) => {
  if (!needsBpf(t)) return;
  const bpf = newBpf({ text: 'BPF_HASH(big, u32, u64, 10240); BPF_TABLE("lru_hash", u32, u32, lru, 64); int unused(void *ctx) { return 0; }' });
  try {
    const big = bpf.table<HashTable<number, bigint>>('big');
    for (let i = 0; i < 10_000; i++) big.set(i, BigInt(i) * 3n);
    const batched = big.entries().sort((a, b) => a[0] - b[0]);
    const iterated = (big as unknown as { iterateRead(v: boolean): { count: number } }).iterateRead(true);
    assert.equal(batched.length, 10_000);
    assert.equal(iterated.count, 10_000);
    assert.deepEqual(batched[9_999], [9_999, 29_997n]);
    big.clear();
    assert.equal(big.entries().length, 0);
    // An LRU hash evicts instead of failing when full.
    const lru = bpf.table<HashTable<number, number>>('lru');
    for (let i = 0; i < 200; i++) lru.set(i, i);
    const kept = lru.entries().length;
    assert.ok(kept > 0 && kept <= 64, `LRU kept ${kept}`);
  } finally {
    bpf.close();
  }
});

test('a stack trace table returns the user stack of a workload', async (t) => {
  if (!needsBpf(t)) return;
  const bpf = newBpf({
    text: `
      BPF_STACK_TRACE(stacks, 64);
      BPF_HASH(ids, u32, int);
      TRACEPOINT_PROBE(raw_syscalls, sys_enter) {
        if (args->id != ${syscallId}) return 0;
        u32 pid = bpf_get_current_pid_tgid() >> 32;
        int id = stacks.get_stackid(args, BPF_F_USER_STACK);
        ids.update(&pid, &id);
        return 0;
      }`,
  });
  try {
    const pid = await run(workload('getppid'), ['3']);
    const id = bpf.table<HashTable<number, number>>('ids').get(pid);
    assert.ok(id !== undefined && id >= 0, `stack id ${id}`);
    const ips = bpf.table<import('bcc-node-bindings').StackTraceTable>('stacks').walk(id);
    // glibc's syscall() has no frame pointer, so the walk may stop after the first frame.
    assert.ok(ips.length >= 1, 'expected a user stack');
    assert.ok(ips.every((ip) => ip > 0n && ip < 2n ** 47n), 'user-space addresses');
  } finally {
    bpf.close();
  }
});
