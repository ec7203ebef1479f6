// bitesize against the real kernel: on a loop device over a file in /dev/shm that only this test
// uses, two processes with names of our own make O_DIRECT reads and writes of known sizes (one
// block request each: no page cache, no merging), and each histogram's counts, the JSON sums and
// the metrics equal them exactly, size class by size class.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { formatLog2Sections } from 'bcc-node-bindings';
import { needsBpf } from '../helpers/kernel.ts';
import { explainedRun } from '../helpers/attach.ts';
import { expectedBlockRequests, shortChoices } from '../helpers/block.ts';
import { startTool, runToolToEnd, type ToolRun } from '../helpers/tool.ts';
import { workload } from '../helpers/workloads.ts';
import { createLoopDevice, type LoopDevice } from '../helpers/loopdev.ts';
import { freePort, scrape } from '../helpers/http.ts';

let loop: LoopDevice | undefined;
const device = () => (loop ??= createLoopDevice());
after(() => loop?.remove());

// Names of our own (at most 15 bytes, as the kernel keeps them), unique to this run.
const A = `bsza${process.pid}`;
const B = `bszb${process.pid}`;
// bcc's slots: bpf_log2l(bytes / 1024): 4 KiB → 3 ("4 -> 7"), 16 KiB → 5, 64 KiB → 7, 128 KiB → 8, 512 B → 1 ("0 -> 1").
const IO: Record<string, { specs: string[]; slots: Record<number, number>; bytes: number; count: number }> = {
  [A]: { specs: ['r4096x5', 'w16384x3', 'r131072x2'], slots: { 3: 5, 5: 3, 8: 2 }, bytes: 5 * 4096 + 3 * 16384 + 2 * 131072, count: 10 },
  [B]: { specs: ['w65536x4', 'r512x3'], slots: { 1: 3, 7: 4 }, bytes: 4 * 65536 + 3 * 512, count: 7 },
};

const slotsOf = (counts: Record<number, number>): bigint[] => {
  const slots: bigint[] = [];
  for (let i = 0; i <= Math.max(...Object.keys(counts).map(Number)); i++) slots.push(BigInt(counts[i] ?? 0));
  return slots;
};

/** The sections of the text, in order: "Process Name = X" and its rows. */
function parseText(stdout: string): Array<{ comm: string; slots: bigint[] }> {
  const sections: Array<{ comm: string; slots: bigint[] }> = [];
  for (const line of stdout.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^Process Name = (.*)$/.exec(line))) sections.push({ comm: m[1], slots: [] });
    else if ((m = /^ +(\d+) -> (\d+) +: (\d+) +\|/.exec(line))) {
      const low = Number(m[1]);
      const slot = low === 0 ? 1 : Math.log2(low) + 1;
      const s = sections[sections.length - 1];
      while (s.slots.length <= slot) s.slots.push(0n);
      s.slots[slot] = BigInt(m[3]);
    }
  }
  return sections;
}

async function io(dev: LoopDevice): Promise<void> {
  for (const comm of [A, B]) await promisify(execFile)(workload('bitesize-sizes'), [dev.path, comm, ...IO[comm].specs]);
}

interface Run { args: string[]; env?: Record<string, string> }

/** Starts each tool, waits until all are attached, makes the I/O, runs `during`, stops them (Ctrl-C). */
async function observe(list: Run[], during?: () => Promise<void>): Promise<ToolRun[]> {
  const dev = device();
  const runs = list.map((r) => startTool('bitesize', r.args, { env: r.env }));
  try {
    await Promise.all(runs.map((r) => r.ready));
    await io(dev);
    await during?.();
    const codes = await Promise.all(runs.map((r) => r.stop('SIGINT')));
    codes.forEach((code, i) => assert.equal(code, 0, `bitesize ${list[i].args.join(' ')} exited ${code}:\n${runs[i].stderr}`));
    return runs;
  } finally {
    await Promise.all(runs.map((r) => r.stop('SIGKILL')));
  }
}

// One workload observed by several runs at once.
let port = 0;
let metricsText = '';
let shared: Promise<ToolRun[]> | undefined;
const runs = () => (shared ??= (async () => {
  port = await freePort();
  const d = device().name;
  return observe([
    { args: ['-d', d] },
    { args: ['-d', d, '-c', B] },
    { args: ['-d', d, '--json'] },
    { args: ['-d', d, '-j', '-c', A] },
    { args: ['-d', d, '--explain'], env: { BPFKIT_AVOID: 'raw_tracepoint' } },
    { args: ['-d', d, '-c', A, '--metrics', `127.0.0.1:${port}`] },
  ], async () => { metricsText = await scrape(port); });
})());

test('each process\'s histogram counts exactly its I/Os per size class, in bcc\'s format', async (t) => {
  if (!needsBpf(t)) return;
  const [plain] = await runs();
  const sections = parseText(plain.stdout);
  // udev may read a new loop device too: only our two processes' sections are known exactly.
  const ours = sections.filter((s) => s.comm === A || s.comm === B);
  assert.deepEqual(ours, [{ comm: A, slots: slotsOf(IO[A].slots) }, { comm: B, slots: slotsOf(IO[B].slots) }]);
  // The tool's output path is the binding's printer (bcc's print_log2_hist), byte for byte.
  const expected = formatLog2Sections(sections.map((s) => ({ label: s.comm, slots: s.slots })), 'Kbytes', {
    sectionHeader: 'Process Name', sectionPrint: String,
  });
  assert.equal(plain.stdout, `Tracing block I/O... Hit Ctrl-C to end.\n${expected}`);
});

test('-c COMM shows that process only, exactly', async (t) => {
  if (!needsBpf(t)) return;
  const [, filtered] = await runs();
  assert.deepEqual(parseText(filtered.stdout), [{ comm: B, slots: slotsOf(IO[B].slots) }]);
});

test('--json and -j: one object per process with bcc\'s histogram keys, and exact byte sums and counts', async (t) => {
  if (!needsBpf(t)) return;
  const [, , json, jsonA] = await runs();
  const objs = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
  for (const comm of [A, B]) {
    const obj = objs.find((o) => o.comm === comm);
    assert.ok(obj, `no object for ${comm} in ${json.stdout}`);
    assert.deepEqual(Object.keys(obj), ['ts', 'val_type', 'data', 'comm', 'bytes', 'count']);
    assert.equal(obj.val_type, 'Kbytes');
    assert.deepEqual([obj.bytes, obj.count], [IO[comm].bytes, IO[comm].count]);
    const counts = obj.data.map((b: { count: number }) => b.count);
    assert.deepEqual(counts, slotsOf(IO[comm].slots).slice(1).map(Number));
  }
  const onlyA = jsonA.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(onlyA.map((o) => [o.comm, o.bytes, o.count]), [[A, IO[A].bytes, IO[A].count]]);
});

test('where raw tracepoints are avoided, the classic tracepoints (by dev and sector) count the same I/Os for the same processes', async (t) => {
  if (!needsBpf(t)) return;
  const [, , , , classic] = await runs();
  assert.match(classic.stderr, /^ {2}I\/O completion: tracepoint block:block_rq_complete\n/m);
  assert.match(classic.stderr, /^ {2}I\/O creation \(its process\): tracepoint block:block_(io_start|rq_insert)\n/m);
  const ours = parseText(classic.stdout).filter((s) => s.comm === A || s.comm === B);
  assert.deepEqual(ours, [{ comm: A, slots: slotsOf(IO[A].slots) }, { comm: B, slots: slotsOf(IO[B].slots) }]);
});

test('--metrics: a size histogram per disk and op with exact le bounds, sums and counts', async (t) => {
  if (!needsBpf(t)) return;
  const [, , , , , metrics] = await runs();
  assert.equal(metrics.stdout, '', 'nothing printed with --metrics alone');
  const disk = device().name;
  const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}+]/g, '\\$&')} (\\S+)$`, 'm').exec(metricsText)?.[1]);
  const at = (op: string, le: string) => value(`bpfkit_block_io_size_bytes_bucket{disk="${disk}",op="${op}",le="${le}"}`);
  // A's reads: 5 × 4096 and 2 × 131072 bytes; its writes: 3 × 16384.
  assert.deepEqual(['2048', '4096', '8192', '65536', '131072', '+Inf'].map((le) => at('read', le)), [0, 5, 5, 5, 7, 7]);
  assert.deepEqual(['8192', '16384', '+Inf'].map((le) => at('write', le)), [0, 3, 3]);
  assert.equal(value(`bpfkit_block_io_size_bytes_sum{disk="${disk}",op="read"}`), 5 * 4096 + 2 * 131072);
  assert.equal(value(`bpfkit_block_io_size_bytes_count{disk="${disk}",op="read"}`), 7);
  assert.equal(value(`bpfkit_block_io_size_bytes_sum{disk="${disk}",op="write"}`), 3 * 16384);
  assert.equal(value('bpfkit_lost_events_total{tool="bitesize"}'), 0);
  assert.doesNotMatch(metricsText, new RegExp(`op="(?!read"|write")`), 'only reads and writes were made');
});

test('"-T 1 2" prints two intervals with the time and exits by itself; bad input exits 2 with one line', async (t) => {
  if (!needsBpf(t)) return;
  const run = startTool('bitesize', ['-T', '-d', device().name, '1', '2']);
  try {
    await run.ready;
    assert.equal(await run.exited, 0, run.stderr);
    // libbpf-tools' layout: per interval a blank line, then the time ("%-8s"), then the sections.
    assert.equal(run.stdout.match(/(?<=\n\n)\d\d:\d\d:\d\d\n/g)?.length, 2, run.stdout);
  } finally {
    await run.stop('SIGKILL');
  }
  for (const [args, message] of [
    [['-d', 'nosuchdisk'], /argument -d\/--disk: no disk named "nosuchdisk"/],
    [['-c'], /argument -c\/--comm needs a value/],
    [['0'], /interval/],
  ] as const) {
    const { code, stderr } = await runToolToEnd('bitesize', [...args]);
    assert.equal(code, 2, stderr);
    assert.match(stderr, message);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
  }
});

test('bitesize --explain picks the attach points this kernel offers', async (t) => {
  if (!needsBpf(t)) return;
  const { chosen, stderr } = await explainedRun(t, 'bitesize', [], { env: { BPFKIT_AVOID: '' } });
  assert.deepEqual(shortChoices(chosen), expectedBlockRequests(), stderr);
});
