// biolatency against the real kernel: a loop device over a file in /dev/shm that nothing else
// touches, exactly N O_DIRECT reads and M writes on it, and the tool's histograms compared with
// the device's own completed-I/O counters (/sys/block/loopX/stat) over the same period.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BPF, formatLog2Sections, kprobesAvailable, rawTracepointSupported, tracepointExists } from 'bcc-node-bindings';
import { needsBpf } from '../helpers/kernel.ts';
import { explainedRun, firstUsable } from '../helpers/attach.ts';
import { startTool, runToolToEnd, type ToolRun } from '../helpers/tool.ts';
import { workload } from '../helpers/workloads.ts';
import { completed, createLoopDevice, statDelta, type BlockStat, type LoopDevice } from '../helpers/loopdev.ts';
import { buildProgram } from '../../lib/run/program.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { kernelFunctionExists } from '../../lib/kernel/kallsyms.ts';
import { configureBiolatency, type BiolatencyConfig } from '../../tools/biolatency/program.ts';
import { requestFlagLayout } from '../../lib/block/flags.ts';
import { log2SumBounds } from '../../lib/output/log2-stats.ts';
import { TIME_SCALE } from '../helpers/guest.ts';

const READS = 60;
const WRITES = 40;

let loop: LoopDevice | undefined;
const device = () => (loop ??= createLoopDevice());
after(() => loop?.remove());

// --- reading what the tool printed ---

interface Section { label: string; unit: string; slots: bigint[] }

const sum = (slots: bigint[]) => Number(slots.reduce((a, b) => a + b, 0n));

/** Every histogram in the output (sections of all intervals), plus the -e lines. */
function parseText(stdout: string): { sections: Section[]; ext: Array<{ avg: number; total: number; count: number; unit: string }> } {
  const sections: Section[] = [];
  const ext = [];
  let label = '';
  for (const line of stdout.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^(?:disk|flags) = (.*)$/.exec(line))) label = m[1];
    else if ((m = /^ +(usecs|msecs) +: count +distribution$/.exec(line))) sections.push({ label, unit: m[1], slots: [] });
    else if ((m = /^ +(\d+) -> (\d+) +: (\d+) +\|/.exec(line))) {
      const low = Number(m[1]);
      const slot = low === 0 ? 1 : Math.log2(low) + 1;
      const s = sections[sections.length - 1];
      while (s.slots.length <= slot) s.slots.push(0n);
      s.slots[slot] = BigInt(m[3]);
    } else if ((m = /^avg = (\d+) (\w+), total: (\d+) \w+, count: (\d+)$/.exec(line))) {
      ext.push({ avg: Number(m[1]), unit: m[2], total: Number(m[3]), count: Number(m[4]) });
    }
  }
  return { sections, ext };
}

const byLabel = (sections: Section[]) => {
  const totals: Record<string, number> = {};
  for (const s of sections) totals[s.label] = (totals[s.label] ?? 0) + sum(s.slots);
  return totals;
};

// --- running tools around a workload ---

async function dio(dev: LoopDevice, reads: number, writes: number, batch = 1): Promise<void> {
  await promisify(execFile)(workload('dio'), [dev.path, String(reads), String(writes), '4096', String(batch)]);
}

/** Starts each tool, waits until all are attached, makes the I/O, stops them (Ctrl-C). */
async function observe(argsList: string[][], io: { reads: number; writes: number; batch?: number }, env?: Record<string, string>) {
  const dev = device();
  const runs: ToolRun[] = argsList.map((args) => startTool('biolatency', args, { env }));
  try {
    await Promise.all(runs.map((r) => r.ready));
    const before = dev.stat();
    await dio(dev, io.reads, io.writes, io.batch);
    const delta: BlockStat = statDelta(before, dev.stat());
    const codes = await Promise.all(runs.map((r) => r.stop('SIGINT')));
    codes.forEach((code, i) => assert.equal(code, 0, `biolatency ${argsList[i].join(' ')} exited ${code}:\n${runs[i].stderr}`));
    return { runs, delta };
  } finally {
    await Promise.all(runs.map((r) => r.stop('SIGKILL')));
  }
}

test('-D -d LOOP counts exactly the I/Os the device completed, under the disk\'s name, in bcc\'s format', async (t) => {
  if (!needsBpf(t)) return;
  const dev = device();
  const { runs: [run], delta } = await observe([['-D', '-d', dev.name, '--explain']], { reads: READS, writes: WRITES });
  assert.equal(completed(delta), READS + WRITES, 'the device saw exactly the workload');
  const { sections } = parseText(run.stdout);
  assert.deepEqual(byLabel(sections), { [dev.name]: completed(delta) });
  // The tool's own output path is the binding's printer (bcc's print_log2_hist), byte for byte.
  const expected = formatLog2Sections([{ label: dev.name, slots: sections[0].slots }], 'usecs', { sectionHeader: 'disk', sectionPrint: String });
  assert.equal(run.stdout, `Tracing block device I/O... Hit Ctrl-C to end.\n\n${expected}`);
  assert.match(run.stderr, /I\/O completion: raw tracepoint block_rq_complete\n/);
  assert.match(run.stderr, /I\/O issue: raw tracepoint block_rq_issue\n/);
});

test('-F splits the same I/O into a read and a write histogram of exactly N and M', async (t) => {
  if (!needsBpf(t)) return;
  const { runs: [run] } = await observe([['-F', '-d', device().name]], { reads: READS, writes: WRITES });
  const totals = byLabel(parseText(run.stdout).sections);
  const reads = Object.keys(totals).filter((l) => /(^|-)Read$/.test(l));
  const writes = Object.keys(totals).filter((l) => /(^|-)Write$/.test(l));
  assert.equal(reads.length + writes.length, Object.keys(totals).length, `only reads and writes: ${Object.keys(totals)}`);
  assert.equal(reads.reduce((n, l) => n + totals[l], 0), READS);
  assert.equal(writes.reduce((n, l) => n + totals[l], 0), WRITES);
  // O_DIRECT writes are synchronous (REQ_SYNC), which bcc prints as a "Sync-" prefix.
  assert.ok(writes.every((l) => l.includes('Sync-')), `write flags: ${writes}`);
});

// One run observed by three tools at once: plain, -m and -Q, all with -e.
let unitsRun: ReturnType<typeof observe> | undefined;
const units = () => (unitsRun ??= observe([
  ['-e', '-d', device().name], ['-m', '-e', '-d', device().name], ['-Q', '-e', '-d', device().name],
], { reads: READS, writes: WRITES }));

test('-e prints the average and total of exactly the I/Os in the histogram', async (t) => {
  if (!needsBpf(t)) return;
  const { runs } = await units();
  for (const run of runs) {
    const { sections, ext } = parseText(run.stdout);
    assert.equal(sections.length, 1);
    assert.equal(ext.length, 1);
    const { avg, total, count, unit } = ext[0];
    assert.equal(unit, sections[0].unit);
    assert.equal(count, sum(sections[0].slots));
    assert.equal(avg, Math.floor(total / count));
    const bounds = log2SumBounds(sections[0].slots);
    assert.ok(total >= bounds.low && total <= bounds.high, `total ${total} outside what the buckets allow (${bounds.low}..${bounds.high})`);
  }
});

test('-m counts the same I/Os in msecs, and -Q adds OS queue time to each of them', async (t) => {
  if (!needsBpf(t)) return;
  const { runs: [plain, ms, queued] } = await units();
  const [p, m, q] = [plain, ms, queued].map((r) => parseText(r.stdout));
  assert.deepEqual([p, m, q].map((x) => [x.sections[0].unit, sum(x.sections[0].slots), x.ext[0].count]), [
    ['usecs', READS + WRITES, READS + WRITES], ['msecs', READS + WRITES, READS + WRITES], ['usecs', READS + WRITES, READS + WRITES],
  ]);
  // Every I/O under 1024 µs is under 2 ms: the msecs histogram's "0 -> 1" bucket holds at least those.
  const underMs = p.sections[0].slots.slice(0, 11).reduce((a, b) => a + b, 0n);
  assert.ok((m.sections[0].slots[1] ?? 0n) >= underMs, 'msecs histogram lost fast I/Os');
  assert.ok(m.ext[0].total * 1000 <= p.ext[0].total + 1000 * (READS + WRITES), 'msecs total larger than the usecs total allows');
  // Queued time starts before issue: per I/O at least as long, give or take the 1 µs truncation.
  assert.ok(q.ext[0].total >= p.ext[0].total - (READS + WRITES), `-Q total ${q.ext[0].total} < device total ${p.ext[0].total}`);
});

test('merged I/O is counted once per request the device completes, with and without -Q', async (t) => {
  if (!needsBpf(t)) return;
  const dev = device();
  // 256 adjacent 4 KiB writes, 32 per io_submit(): the block layer merges them into larger requests.
  const { runs, delta } = await observe([['-D', '-d', dev.name], ['-Q', '-D', '-d', dev.name]], { reads: 0, writes: 256, batch: 32 });
  assert.ok(completed(delta) < 256 && delta.writeMerges > 0, `expected merged writes, the device completed ${completed(delta)} requests`);
  for (const run of runs) assert.deepEqual(byLabel(parseText(run.stdout).sections), { [dev.name]: completed(delta) });
});

test('"1 3" prints three intervals, one second apart, and exits by itself', async (t) => {
  if (!needsBpf(t)) return;
  const dev = device();
  const run = startTool('biolatency', ['-T', '-d', dev.name, '1', '3']);
  try {
    await run.ready;
    const before = dev.stat();
    await dio(dev, READS, WRITES);
    const delta = statDelta(before, dev.stat());
    const timer = setTimeout(() => run.child.kill('SIGKILL'), 20_000 * TIME_SCALE);
    const code = await run.exited;
    clearTimeout(timer);
    assert.equal(code, 0, run.stderr);
    // bcc's layout: per interval a blank line, then the time ("%-8s"), then the histogram.
    assert.equal(run.stdout.match(/(?<=\n\n)\d\d:\d\d:\d\d\n/g)?.length, 3, run.stdout);
    assert.equal(byLabel(parseText(run.stdout).sections)[''], completed(delta));
  } finally {
    await run.stop('SIGKILL');
  }
});

test('-j and --json print one JSON object per disk with bcc\'s keys and every bucket', async (t) => {
  if (!needsBpf(t)) return;
  const dev = device();
  const { runs } = await observe([['-j', '-D', '-e', '-d', dev.name], ['--json', '-D', '-d', dev.name]], { reads: READS, writes: WRITES });
  for (const [i, run] of runs.entries()) {
    const lines = run.stdout.trim().split('\n');
    assert.equal(lines.length, 1, 'one disk, one interval: one line, no banner');
    const obj = JSON.parse(lines[0]);
    assert.deepEqual(Object.keys(obj), i === 0 ? ['ts', 'val_type', 'data', 'disk', 'avg', 'total', 'count'] : ['ts', 'val_type', 'data', 'disk']);
    assert.match(obj.ts, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.equal(obj.val_type, 'usecs');
    assert.equal(obj.disk, dev.name);
    // bcc's layout: "0 -> 1", "2 -> 3", "4 -> 7", … up to the last non-empty bucket.
    obj.data.forEach((b: Record<string, number>, j: number) => {
      assert.deepEqual([b['interval-start'], b['interval-end']], j === 0 ? [0, 1] : [2 ** j, 2 ** (j + 1) - 1]);
    });
    assert.ok(obj.data.at(-1).count > 0);
    const count = obj.data.reduce((n: number, b: { count: number }) => n + b.count, 0);
    assert.equal(count, READS + WRITES);
    if (i === 0) assert.equal(obj.count, count);
  }
});

test('where raw tracepoints are missing, classic tracepoints count the same I/O by (dev, sector)', async (t) => {
  if (!needsBpf(t)) return;
  const dev = device();
  const { runs: [flags, disks], delta } = await observe([['-F', '-d', dev.name, '--explain'], ['-Q', '-D', '-d', dev.name]],
    { reads: READS, writes: WRITES }, { BPFKIT_BIOLATENCY_AVOID: 'raw_tracepoint' });
  assert.match(flags.stderr, /I\/O completion: tracepoint block:block_rq_complete\n {4}not raw tracepoint block_rq_complete: excluded/);
  // rwbs shows the operation and Sync, not the flags only cmd_flags has (Idle, NoMerge, …).
  assert.deepEqual(byLabel(parseText(flags.stdout).sections), { 'Sync-Read': READS, 'Sync-Write': WRITES });
  assert.deepEqual(byLabel(parseText(disks.stdout).sections), { [dev.name]: completed(delta) });
});

test('where kprobes can reach the completion, the kprobe rung (every tracepoint avoided) counts the same I/O, else biolatency says why not', async (t) => {
  if (!needsBpf(t)) return;
  const env = { BPFKIT_BIOLATENCY_AVOID: 'raw_tracepoint,tracepoint' };
  // Since 5.19 or so the accounting functions are inlined: Debian 12's 6.1 keeps a local copy of
  // blk_account_io_done in kallsyms that kprobes refuse (EINVAL), and tracing does not list.
  const completionFunction = ['__blk_account_io_done', 'blk_account_io_done'].some(kernelFunctionExists);
  if (!kprobesAvailable() || !completionFunction) {
    const { code, stderr } = await runToolToEnd('biolatency', [], { env });
    assert.equal(code, 1);
    const why = kprobesAvailable() ? 'no such kernel function here \\(renamed or inlined\\)' : 'this kernel has no kprobes';
    assert.match(stderr, new RegExp(`^biolatency: no way to trace I/O completion on this kernel: .*kprobe blk_account_io_done: ${why}`, 'm'));
    return;
  }
  const dev = device();
  const { runs: [disks], delta } = await observe([['-D', '-d', dev.name, '--explain']], { reads: READS, writes: WRITES }, env);
  assert.match(disks.stderr, /^ {2}I\/O completion: kprobe /m);
  assert.deepEqual(byLabel(parseText(disks.stdout).sections), { [dev.name]: completed(delta) });
});

test('with no usable completion probe it fails and says why, instead of printing empty histograms', async (t) => {
  if (!needsBpf(t)) return;
  const { code, stdout, stderr } = await runToolToEnd('biolatency', [], { env: { BPFKIT_BIOLATENCY_AVOID: 'raw_tracepoint,tracepoint,kprobe' } });
  assert.equal(code, 1);
  assert.equal(stdout, '');
  assert.match(stderr, /^biolatency: no way to trace I\/O completion on this kernel: raw tracepoint block_rq_complete: excluded.*kprobe blk_account_io_done: excluded/m);
});

test('the kprobe fallbacks of the C program compile (-Q with -D -e, and -F)', async (t) => {
  if (!needsBpf(t)) return;
  // This kernel has no kprobes: a view of it that has them, and no block tracepoints, picks them.
  const kprobesOnly: KernelView = { ...liveKernel(), rawTracepoints: () => false, tracepoint: () => false, kprobes: () => true, kernelFunction: () => true };
  const common = { nsPerUnit: 1000, avoid: [] };
  const variants: BiolatencyConfig[] = [
    { ...common, queued: true, grouping: 'disk', extension: true },
    { ...common, queued: false, grouping: 'flags', extension: false, flagLayout: requestFlagLayout() },
  ];
  for (const config of variants) {
    const configured = configureBiolatency(config, kprobesOnly);
    assert.deepEqual(configured.probes.map((p) => p.kind), config.queued ? ['kprobe', 'kprobe', 'kprobe'] : ['kprobe', 'kprobe']);
    const program = buildProgram(configured);
    const bpf = new BPF({ text: program.text, includeDirs: program.includeDirs, autoAttach: false });
    try {
      const names = bpf.functionNames();
      for (const fn of ['on_issue', 'on_done', ...(config.queued ? ['on_queued'] : [])]) assert.ok(names.includes(fn), `${fn} in ${names}`);
    } finally {
      bpf.close();
    }
  }
});

test('--chart draws p50/p90/p99 per interval; usage errors exit 2 with one line', async (t) => {
  if (!needsBpf(t)) return;
  const dev = device();
  const run = startTool('biolatency', ['--chart', '-d', dev.name, '1', '2']);
  try {
    await run.ready;
    await dio(dev, READS, WRITES);
    assert.equal(await run.exited, 0, run.stderr);
    assert.equal(run.stdout.match(/^\[1\] p50 {2}\[2\] p90 {2}\[3\] p99$/gm)?.length, 2, run.stdout);
  } finally {
    await run.stop('SIGKILL');
  }
  for (const [args, message] of [
    [['-D', '-F'], /can only use -D or -F/],
    [['-d', 'nosuchdisk'], /argument -d\/--disk: no disk named "nosuchdisk"/],
    [['-j', '--chart'], /--json and --chart exclude each other/],
  ] as const) {
    const { code, stderr } = await runToolToEnd('biolatency', [...args]);
    assert.equal(code, 2, stderr);
    assert.match(stderr, message);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
  }
});

type Rung = [label: string, usable: () => boolean];

/** biolatency's ladders (tools/biolatency/program.ts) as this kernel's features answer them. */
function expectedBiolatency(queued: boolean): Record<string, string> {
  const raw = (event: string): Rung => [`raw tracepoint ${event}`, () => rawTracepointSupported() && tracepointExists('block', event)];
  const tp = (event: string): Rung => [`tracepoint block:${event}`, () => tracepointExists('block', event)];
  const kprobe = (fn: string): Rung => [`kprobe ${fn}`, () => kprobesAvailable() && kernelFunctionExists(fn)];
  const done = firstUsable('I/O completion', [raw('block_rq_complete'), tp('block_rq_complete'), kprobe('__blk_account_io_done'), kprobe('blk_account_io_done')]);
  // The other probes must key requests as the completion's does: by address, or by (dev, sector) for tracepoints.
  const byDevSector = done.startsWith('tracepoint ');
  const same = (purpose: string, rungs: Rung[]) => firstUsable(purpose, rungs.filter(([label]) => label.startsWith('tracepoint ') === byDevSector));
  const optional = (purpose: string, rungs: Rung[]) => { try { return same(purpose, rungs); } catch { return 'none'; } };
  return {
    'I/O completion': done,
    'I/O issue': same('I/O issue', [raw('block_rq_issue'), tp('block_rq_issue'), kprobe('blk_mq_start_request')]),
    ...(queued ? {
      'I/O queued (-Q)': same('I/O queued', [raw('block_io_start'), raw('block_rq_insert'), tp('block_io_start'), tp('block_rq_insert'),
        kprobe('__blk_account_io_start'), kprobe('blk_account_io_start')]),
    } : {}),
    requeue: optional('requeue', [raw('block_rq_requeue'), tp('block_rq_requeue')]),
    ...(queued ? { 'merge (-Q)': optional('merge', [raw('block_rq_merge'), tp('block_rq_merge')]) } : {}),
  };
}

for (const args of [[], ['-Q']]) {
  test(`biolatency ${[...args, '--explain'].join(' ')} picks the attach points this kernel offers`, async (t) => {
    if (!needsBpf(t)) return;
    const { chosen, stderr } = await explainedRun(t, 'biolatency', args, { env: { BPFKIT_BIOLATENCY_AVOID: '' } });
    // An optional probe with no candidate here reads "none (<every reason>)".
    const got = Object.fromEntries(Object.entries(chosen).map(([purpose, label]) => [purpose, label.replace(/^none \(.*\)$/, 'none')]));
    assert.deepEqual(got, expectedBiolatency(args.includes('-Q')), stderr);
  });
}
