// biosnoop against the real kernel: a loop device over a file in /dev/shm that nothing else
// touches, a workload that makes known O_DIRECT reads and writes on it (test/workloads/biosnoop-dio.c:
// one request per operation, each waiting for the previous one), and the tool's rows compared
// with what it did, operation by operation; the device's own completed-I/O counters
// (/sys/block/loopX/stat) say whether anything else touched the device meanwhile.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BPF, tracepointExists } from 'bcc-node-bindings';
import { needsBpf } from '../helpers/kernel.ts';
import { expectedEventRecords, explainedRun } from '../helpers/attach.ts';
import { expectedBlockRequests, shortChoices } from '../helpers/block.ts';
import { startTool, runToolToEnd, type ToolRun } from '../helpers/tool.ts';
import { workload } from '../helpers/workloads.ts';
import { completed, createLoopDevice, statDelta, type BlockStat, type LoopDevice } from '../helpers/loopdev.ts';
import { structFields } from '../helpers/bpf.ts';
import { buildProgram } from '../../lib/run/program.ts';
import { liveKernel } from '../../lib/kernel/view.ts';
import { configureBiosnoop } from '../../tools/biosnoop/program.ts';
import { IO_EVENT_OFFSETS, IO_EVENT_SIZE } from '../../tools/biosnoop/events.ts';

let loop: LoopDevice | undefined;
const device = () => (loop ??= createLoopDevice());
after(() => loop?.remove());

interface Op { rw: 'R' | 'W'; offset: number; bytes: number }

// Reads and writes of several sizes; -P's pattern of each is known from the one before it on the
// disk: sequential when it starts where the previous request ended (bcc keeps the last sector per disk).
const OPS: Op[] = [
  { rw: 'R', offset: 0, bytes: 4096 },
  { rw: 'R', offset: 4096, bytes: 4096 },
  { rw: 'R', offset: 8192, bytes: 8192 },
  { rw: 'R', offset: 1 << 20, bytes: 65536 },
  { rw: 'W', offset: (1 << 20) + 65536, bytes: 4096 },
  { rw: 'W', offset: 0, bytes: 512 },
  { rw: 'W', offset: 1024, bytes: 1024 },
  { rw: 'W', offset: 2048, bytes: 16384 },
  { rw: 'R', offset: 4 << 20, bytes: 32768 },
  { rw: 'R', offset: 3 << 20, bytes: 4096 },
];
const READS = OPS.filter((o) => o.rw === 'R').length;
const WRITES = OPS.length - READS;
// '?' for the disk's first request, then S or R against the end of the one before.
const PATTERN = OPS.map((op, i) => (i === 0 ? '?' : OPS[i - 1].offset + OPS[i - 1].bytes === op.offset ? 'S' : 'R'));

interface Done { pid: number; comm: string; ops: Op[] }

/** Runs the workload; its first line is "pid PID TID", then one line per operation it made. */
async function dio(dev: LoopDevice, ops: Op[]): Promise<Done> {
  const args = ops.map((o) => `${o.rw.toLowerCase()}${o.offset}:${o.bytes}`);
  const { stdout } = await promisify(execFile)(workload('biosnoop-dio'), [dev.path, ...args]);
  const lines = stdout.trim().split('\n');
  const pid = Number(lines[0].split(' ')[1]);
  const done = lines.slice(1).map((l) => { const [rw, offset, bytes] = l.split(' '); return { rw: rw as 'R' | 'W', offset: Number(offset), bytes: Number(bytes) }; });
  assert.deepEqual(done, ops, 'the workload did what it was asked');
  return { pid, comm: 'biosnoop-dio', ops: done };
}

/** Starts each tool on the loop device, waits until all are attached, makes the I/O, stops them. */
async function observe(argsList: string[][], ops: Op[] = OPS, env?: Record<string, string>) {
  const dev = device();
  const runs: ToolRun[] = argsList.map((args) => startTool('biosnoop', [...args, '-d', dev.name], { env }));
  try {
    await Promise.all(runs.map((r) => r.ready));
    const before = dev.stat();
    const done = await dio(dev, ops);
    const delta: BlockStat = statDelta(before, dev.stat());
    const codes = await Promise.all(runs.map((r) => r.stop('SIGINT')));
    codes.forEach((code, i) => assert.equal(code, 0, `biosnoop ${argsList[i].join(' ')} exited ${code}:\n${runs[i].stderr}`));
    return { runs, done, delta, dev };
  } finally {
    await Promise.all(runs.map((r) => r.stop('SIGKILL')));
  }
}

interface Row { time: string; comm: string; pid: number; disk: string; t: string; sector: number; bytes: number; p?: string; que?: number; lat: number }

/** bcc's columns, split on blanks (a comm here has none). */
function parseRows(stdout: string, o: { pattern?: boolean; queue?: boolean } = {}): { header: string; rows: Row[] } {
  const [header, ...lines] = stdout.trimEnd().split('\n');
  const rows = lines.map((line) => {
    const f = line.trim().split(/\s+/);
    const row: Row = { time: f[0], comm: f[1], pid: Number(f[2]), disk: f[3], t: f[4], sector: Number(f[5]), bytes: Number(f[6]), lat: 0 };
    let i = 7;
    if (o.pattern) row.p = f[i++];
    if (o.queue) row.que = Number(f[i++]);
    row.lat = Number(f[i]);
    return row;
  });
  return { header, rows };
}

const expectedRows = (done: Done, disk: string) => done.ops.map((op) => ({
  comm: done.comm.slice(0, 14), pid: done.pid, disk, t: op.rw, sector: op.offset / 512, bytes: op.bytes,
}));

const essentials = (rows: Row[]) => rows.map(({ comm, pid, disk, t, sector, bytes }) => ({ comm, pid, disk, t, sector, bytes }));

/** The workload's rows: other tests run concurrently, but not on this device; udev may probe it once. */
const mine = (rows: Row[], done: Done) => rows.filter((r) => r.pid === done.pid);

test('-d LOOP shows exactly one row per request of the workload, with its process, direction, sector and bytes, in bcc\'s columns', async (t) => {
  if (!needsBpf(t)) return;
  const { runs: [run], done, delta, dev } = await observe([[]]);
  assert.equal(delta.reads, READS, 'the device completed exactly the reads made');
  assert.equal(delta.writes, WRITES, 'the device completed exactly the writes made');
  const { header, rows } = parseRows(run.stdout);
  assert.equal(header, 'TIME(s)     COMM           PID     DISK      T SECTOR     BYTES  LAT(ms)');
  // One row per request the device completed, and the workload's are exactly its operations, in order.
  assert.equal(rows.length, completed(delta));
  assert.deepEqual(essentials(mine(rows, done)), expectedRows(done, dev.name));
  assert.equal(rows[0].time, '0.000000', 'TIME(s) counts from the first I/O');
  for (const row of rows) {
    assert.match(row.time, /^\d+\.\d{6}$/);
    assert.ok(row.lat >= 0);
  }
  // bcc's widths: "%-11.6f %-14.14s %-7s %-9s %-1s %-10s %-7s" then "%7.2f".
  const line = run.stdout.split('\n').find((l) => l.includes(` ${done.pid} `))!;
  assert.match(line, /^\d+\.\d{6} +biosnoop-dio {3}\d+ +loop\d+ +R 0 {10}4096 +\d+\.\d\d$/);
  assert.equal(line.indexOf('R 0 '), 11 + 1 + 14 + 1 + 7 + 1 + 9 + 1);
});

test('-Q adds QUE(ms) and -P marks each request sequential or random against the previous one on the disk', async (t) => {
  if (!needsBpf(t)) return;
  const { runs: [both, pattern], done, delta, dev } = await observe([['-Q', '-P'], ['-P']]);
  const q = parseRows(both.stdout, { pattern: true, queue: true });
  const p = parseRows(pattern.stdout, { pattern: true });
  assert.equal(q.header, 'TIME(s)     COMM           PID     DISK      T SECTOR     BYTES  P QUE(ms) LAT(ms)');
  assert.equal(p.header, 'TIME(s)     COMM           PID     DISK      T SECTOR     BYTES  P LAT(ms)');
  for (const run of [q, p]) assert.deepEqual(essentials(mine(run.rows, done)), expectedRows(done, dev.name));
  for (const row of q.rows) assert.ok(Number.isFinite(row.que) && row.que! >= 0, `QUE ${row.que}`);
  // The pattern is exact only when nothing else touched the device (udev may probe a new device once).
  if (completed(delta) === OPS.length) {
    assert.deepEqual(q.rows.map((r) => r.p), PATTERN);
    assert.deepEqual(p.rows.map((r) => r.p), PATTERN);
  }
});

test('--json: one object per request with the exact sector, bytes, nanosecond latencies, device and process', async (t) => {
  if (!needsBpf(t)) return;
  const { runs: [json, jsonP], done, dev } = await observe([['--json'], ['--json', '-P']]);
  const everyCreationSeen = tracepointExists('block', 'block_io_start');
  const objs = json.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((o) => o.pid === done.pid);
  assert.equal(objs.length, OPS.length, 'no header, one line per request');
  assert.deepEqual(Object.keys(objs[0]), ['timestamp', 'time', 'comm', 'pid', 'tid', 'disk', 'major', 'minor', 'rw', 'op', 'rwbs',
    'cmd_flags', 'sector', 'bytes', 'lat_ns', 'que_ns', 'failed']);
  objs.forEach((o, i) => {
    const op = done.ops[i];
    assert.deepEqual(
      [o.comm, o.pid, o.tid, o.disk, o.major, o.minor, o.rw, o.op, o.sector, o.bytes, o.failed],
      [done.comm, done.pid, done.pid, dev.name, dev.major, dev.minor, op.rw, op.rw, op.offset / 512, op.bytes, false],
    );
    assert.ok(Number.isInteger(o.lat_ns) && o.lat_ns > 0, `lat_ns ${o.lat_ns}`);
    // block_io_start (6.5+) sees every request created: the queued time is known. Before it the
    // creation point is block_rq_insert, which a request issued straight to the driver (this
    // loop device has no scheduler) never passes: then the queued time is unknown, null.
    if (everyCreationSeen) assert.ok(Number.isInteger(o.que_ns) && o.que_ns >= 0, `que_ns ${o.que_ns}`);
    else assert.ok(o.que_ns === null || (Number.isInteger(o.que_ns) && o.que_ns >= 0), `que_ns ${o.que_ns}`);
    assert.match(o.time, /^\d\d:\d\d:\d\d\.\d{3}$/);
  });
  assert.equal(JSON.parse(json.stdout.split('\n')[0]).timestamp, 0);
  const patterns = jsonP.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((o) => o.pid === done.pid).map((o) => o.pattern);
  const names: Record<string, string | null> = { '?': null, S: 'sequential', R: 'random' };
  assert.deepEqual(patterns.slice(1), PATTERN.slice(1).map((p) => names[p]));
});

test('where raw tracepoints are avoided, the classic tracepoints give the same rows, matched by (dev, sector)', async (t) => {
  if (!needsBpf(t)) return;
  const { runs: [run], done, dev, delta } = await observe([['-Q', '-P', '--explain']], OPS, { BPFKIT_AVOID: 'raw_tracepoint' });
  assert.match(run.stderr, /I\/O completion: tracepoint block:block_rq_complete\n/);
  assert.match(run.stderr, /I\/O creation \(its process\): tracepoint block:block_(io_start|rq_insert)\n/);
  const { rows } = parseRows(run.stdout, { queue: true, pattern: true });
  assert.deepEqual(essentials(mine(rows, done)), expectedRows(done, dev.name));
  if (completed(delta) === OPS.length) assert.deepEqual(rows.map((r) => r.p), PATTERN);
});

test('-m MIN reports only requests at least that slow, -t prints wall-clock times, and a duration ends the run', async (t) => {
  if (!needsBpf(t)) return;
  const { runs: [slow, stamped], done, dev } = await observe([['-m', '60000'], ['-t']]);
  // No request of a loop device over memory takes a minute.
  assert.deepEqual(parseRows(slow.stdout).rows, []);
  const s = parseRows(stamped.stdout);
  assert.match(s.header, /^TIMESTAMP {4}COMM /);
  assert.deepEqual(essentials(mine(s.rows, done)), expectedRows(done, dev.name));
  for (const r of s.rows) assert.match(r.time, /^\d\d:\d\d:\d\d\.\d{3}$/);
  const run = startTool('biosnoop', ['-d', dev.name, '1']);
  try {
    await run.ready;
    assert.equal(await run.exited, 0, run.stderr);
  } finally {
    await run.stop('SIGKILL');
  }
});

test('bad input: one line on stderr, exit 2', async () => {
  for (const [args, message] of [
    [['-d', 'nosuchdisk'], /argument -d\/--disk: no disk named "nosuchdisk"/],
    [['-m', 'abc'], /argument -m\/--min: expected an integer from 0/],
    [['0'], /duration/],
  ] as const) {
    const { code, stderr } = await runToolToEnd('biosnoop', [...args]);
    assert.equal(code, 2, stderr);
    assert.match(stderr, message);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
  }
});

test('the record layout events.ts reads is the C struct\'s, and the perf-buffer variant loads', async (t) => {
  if (!needsBpf(t)) return;
  const program = configureBiosnoop({ pattern: true, minMs: 1, disk: 7 << 20 }, { ...liveKernel(), ringBuffer: () => false });
  const p = buildProgram(program);
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    const fields = structFields(bpf, 'bpfkit_event_scratch');
    const named = Object.fromEntries(fields.filter((f) => f.name !== '_pad').map((f) => [f.name, f.offset]));
    assert.deepEqual(named, IO_EVENT_OFFSETS);
    assert.equal(fields.at(-1)!.offset + 6, IO_EVENT_SIZE);
    for (const probe of program.attachments) assert.ok(probe.chosen);
    assert.ok(bpf.functionNames().includes('on_block_done'));
  } finally {
    bpf.close();
  }
});

test('biosnoop --explain picks the attach points this kernel offers', async (t) => {
  if (!needsBpf(t)) return;
  const { chosen, stderr } = await explainedRun(t, 'biosnoop', [], { env: { BPFKIT_AVOID: '' } });
  assert.deepEqual(shortChoices(chosen), { ...expectedBlockRequests(), 'event records': expectedEventRecords() }, stderr);
});
