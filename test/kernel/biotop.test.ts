// biotop against the real kernel: processes that make exactly known O_DIRECT reads and writes on a
// loop device over /dev/shm that nothing else touches (test/workloads/biotop-io.c), and the rows
// biotop prints for them: I/O counts and bytes per direction to the byte, the order, -p and -r.
// The loop driver completes each request from its own worker thread, so a right PID and comm in
// every row is also the check that the owner is taken where the request is created.
import { after, afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { tracepointExists } from 'bcc-node-bindings';
import { needsBpf } from '../helpers/kernel.ts';
import { explainedRun } from '../helpers/attach.ts';
import { expectedBlockRequests, shortChoices } from '../helpers/block.ts';
import { startInTest, type ToolRun } from '../helpers/tool.ts';
import { workload } from '../helpers/workloads.ts';
import { startLineWorkload, stopLineWorkloads, type LineWorkload } from '../helpers/line-workload.ts';
import { createLoopDevice, type LoopDevice } from '../helpers/loopdev.ts';
import { freePort, scrape } from '../helpers/http.ts';
import { HEADER, avgMs } from '../../tools/biotop/rows.ts';

let loop: LoopDevice | undefined;
const device = () => (loop ??= createLoopDevice(32));
after(() => loop?.remove());
afterEach(stopLineWorkloads);

// --- the workload ---

interface Io { reads: number; readBytes: number; writes: number; writeBytes: number }

interface Worker extends LineWorkload { pid: number; io: Io }

/** biotop-io waiting on stdin: its PID is known before any of its I/O. `offsetKiB` keeps workloads apart. */
async function worker(io: Io, offsetKiB: number): Promise<Worker> {
  const w = startLineWorkload(workload('biotop-io'), [device().path, String(io.reads), String(io.readBytes),
    String(io.writes), String(io.writeBytes), String(offsetKiB), 'wait']);
  const [pid] = await w.line('ready');
  return { ...w, pid, io };
}

async function work(...workers: Worker[]): Promise<void> {
  for (const w of workers) w.go();
  const codes = await Promise.all(workers.map((w) => w.done));
  assert.deepEqual(codes, workers.map(() => 0), 'a workload failed');
}

// Sizes that stay one request each (far below the loop device's max_sectors_kb).
const SMALL: Io = { reads: 5, readBytes: 4096, writes: 3, writeBytes: 4096 };
const BIG: Io = { reads: 20, readBytes: 65536, writes: 10, writeBytes: 32768 };
const EXACT: Io = { reads: 40, readBytes: 8192, writes: 25, writeBytes: 16384 };

// --- biotop's output ---

interface JsonRow {
  pid: number; comm: string; direction: 'R' | 'W'; major: number; minor: number; disk: string;
  io: number; bytes: number; kbytes: number; latency_ns: number; avg_ms: number;
}
interface JsonInterval { time: string; interval_s: number; loadavg: number[]; dropped: number; rows_omitted: number; rows: JsonRow[] }

function intervals(run: ToolRun): JsonInterval[] {
  return run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as JsonInterval);
}

interface TextRow { pid: number; comm: string; d: string; maj: number; min: number; disk: string; io: number; kbytes: number; avgms: string }

/** Each interval's table rows, from the fixed columns of "%-7d %-16s %1s %-3d %-3d %-8s %5s %7s %6.2f". */
function textIntervals(stdout: string): TextRow[][] {
  const out: TextRow[][] = [];
  for (const line of stdout.split('\n')) {
    if (line === HEADER) { out.push([]); continue; }
    if (out.length === 0 || line === '' || line === 'Detaching...' || / loadavg: /.test(line)) continue;
    const [maj, min, disk, io, kbytes, avgms, ...rest] = line.slice(27).trim().split(/\s+/);
    assert.equal(rest.length, 0, `not a row: ${JSON.stringify(line)}`);
    out[out.length - 1].push({
      pid: Number(line.slice(0, 7)), comm: line.slice(8, 24).trimEnd(), d: line[25],
      maj: Number(maj), min: Number(min), disk, io: Number(io), kbytes: Number(kbytes), avgms,
    });
  }
  return out;
}

/** Rows of our loop device, summed over every interval, by "pid comm direction". */
function totalsOnDevice(all: JsonInterval[]): Map<string, { io: number; bytes: number; latency: number }> {
  const dev = device();
  const sums = new Map<string, { io: number; bytes: number; latency: number }>();
  for (const interval of all) {
    for (const r of interval.rows) {
      if (r.major !== dev.major || r.minor !== dev.minor) continue;
      assert.equal(r.disk, dev.name);
      const key = `${r.pid} ${r.comm} ${r.direction}`;
      const s = sums.get(key) ?? { io: 0, bytes: 0, latency: 0 };
      sums.set(key, { io: s.io + r.io, bytes: s.bytes + r.bytes, latency: s.latency + r.latency_ns });
    }
  }
  return sums;
}

const expectedTotals = (...workers: Worker[]) => new Map(workers.flatMap((w) => [
  [`${w.pid} biotop-io R`, { io: w.io.reads, bytes: w.io.reads * w.io.readBytes }],
  [`${w.pid} biotop-io W`, { io: w.io.writes, bytes: w.io.writes * w.io.writeBytes }],
]));

const withoutLatency = (sums: Map<string, { io: number; bytes: number; latency: number }>) =>
  new Map([...sums].map(([k, { io, bytes }]) => [k, { io, bytes }]));

async function started(t: Parameters<typeof startInTest>[0], args: string[], env?: Record<string, string>): Promise<ToolRun> {
  const run = startInTest(t, 'biotop', args, { env });
  await run.ready;
  return run;
}

async function stopped(run: ToolRun): Promise<void> {
  assert.equal(await run.stop('SIGINT'), 0, run.stderr);
}

// --- the tests ---

test('biotop --json: the I/Os and bytes of each direction of a process, exactly, summed over 1 s intervals', async (t) => {
  if (!needsBpf(t)) return;
  const w = await worker(EXACT, 0);
  const run = await started(t, ['--json', '-r', '100000', '1']);
  await work(w);
  await stopped(run);
  const all = intervals(run);
  assert.ok(all.length >= 1);
  const sums = totalsOnDevice(all);
  assert.deepEqual(withoutLatency(sums), expectedTotals(w));
  for (const s of sums.values()) assert.ok(s.latency > 0, 'latencies are summed');
  for (const interval of all) {
    assert.equal(interval.dropped, 0);
    assert.equal(interval.rows_omitted, 0);
    for (const r of interval.rows) {
      assert.equal(r.kbytes, Math.floor(r.bytes / 1024));
      assert.equal(r.avg_ms, Number(avgMs(BigInt(r.latency_ns), BigInt(r.io))));
    }
  }
  // The loop worker completes every request: none of them may be charged to it.
  const onDevice = all.flatMap((i) => i.rows).filter((r) => r.major === device().major && r.minor === device().minor);
  assert.ok(onDevice.every((r) => r.pid === w.pid), `rows of other processes on ${device().name}: ${JSON.stringify(onDevice)}`);
});

test('biotop on classic tracepoints (requests by dev and sector, direction from rwbs): the same exact sums', async (t) => {
  if (!needsBpf(t)) return;
  const w = await worker(EXACT, 0);
  const run = await started(t, ['--json', '--explain', '-p', String(w.pid), '99'], { BPFKIT_AVOID: 'raw_tracepoint' });
  await work(w);
  await stopped(run);
  assert.match(run.stderr, /^ {2}I\/O completion: tracepoint block:block_rq_complete$/m);
  // Where a request is created: block_io_start since 6.5; before it, where it is inserted in a queue.
  const creation = tracepointExists('block', 'block_io_start') ? 'block_io_start' : 'block_rq_insert';
  assert.match(run.stderr, new RegExp(`^ {2}I/O creation \\(its process\\): tracepoint block:${creation}$`, 'm'));
  assert.deepEqual(withoutLatency(totalsOnDevice(intervals(run))), expectedTotals(w));
});

test('biotop --metrics: I/Os, bytes and latency by disk and direction, and by command, exactly', async (t) => {
  if (!needsBpf(t)) return;
  const w = await worker(EXACT, 0);
  const port = await freePort();
  const run = await started(t, ['--metrics', `127.0.0.1:${port}`, '-p', String(w.pid)]);
  await work(w);
  const body = await scrape(port);
  await stopped(run);
  const sample = (name: string, labels: string) => {
    const line = body.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
    assert.ok(line, `no ${name}{${labels}} in:\n${body}`);
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  const disk = `disk="${device().name}"`;
  assert.equal(sample('bpfkit_block_ios_total', `${disk},direction="read"`), EXACT.reads);
  assert.equal(sample('bpfkit_block_ios_total', `${disk},direction="write"`), EXACT.writes);
  assert.equal(sample('bpfkit_block_io_bytes_total', `${disk},direction="read"`), EXACT.reads * EXACT.readBytes);
  assert.equal(sample('bpfkit_block_io_bytes_total', `${disk},direction="write"`), EXACT.writes * EXACT.writeBytes);
  assert.ok(sample('bpfkit_block_io_latency_seconds_total', `${disk},direction="read"`) > 0);
  assert.equal(sample('bpfkit_block_command_ios_total', 'comm="biotop-io",direction="read"'), EXACT.reads);
  assert.equal(sample('bpfkit_block_command_io_bytes_total', 'comm="biotop-io",direction="write"'), EXACT.writes * EXACT.writeBytes);
  assert.equal(sample('bpfkit_block_command_ios_total', 'comm="[other]",direction="read"'), 0);
  assert.equal(sample('bpfkit_lost_events_total', 'tool="biotop"'), 0);
});

test('biotop -C: bcc\'s screen, two processes\' rows exact and sorted by bytes, busiest first', async (t) => {
  if (!needsBpf(t)) return;
  const [small, big] = [await worker(SMALL, 0), await worker(BIG, 4096)];
  // One long interval, ended by Ctrl-C: bcc prints the partial interval then, and so do we.
  const run = await started(t, ['-C', '99']);
  await work(small, big);
  await stopped(run);
  const lines = run.stdout.split('\n');
  assert.equal(lines[0], 'Tracing... Output every 99 secs. Hit Ctrl-C to end');
  assert.equal(lines[1], '', "-C: bcc's empty line before each interval");
  assert.match(lines[2], /^\d\d:\d\d:\d\d loadavg: \d+\.\d+ \d+\.\d+ \d+\.\d+ \d+\/\d+ \d+$/);
  assert.equal(lines[3], '');
  assert.equal(lines[4], HEADER);
  assert.equal(HEADER, 'PID     COMM             D MAJ MIN DISK       I/O  Kbytes  AVGms');
  assert.equal(lines.at(-2), 'Detaching...');
  const tables = textIntervals(run.stdout);
  assert.equal(tables.length, 1);
  const dev = device();
  const ours = tables[0].filter((r) => r.disk === dev.name).map(({ pid, comm, d, maj, min, io, kbytes }) => ({ pid, comm, d, maj, min, io, kbytes }));
  const row = (w: Worker, d: 'R' | 'W') => ({
    pid: w.pid, comm: 'biotop-io', d, maj: dev.major, min: dev.minor,
    io: d === 'R' ? w.io.reads : w.io.writes,
    kbytes: d === 'R' ? (w.io.reads * w.io.readBytes) / 1024 : (w.io.writes * w.io.writeBytes) / 1024,
  });
  // 1280 KB, 320 KB, 20 KB, 12 KB.
  assert.deepEqual(ours, [row(big, 'R'), row(big, 'W'), row(small, 'R'), row(small, 'W')]);
  // Every row of the table, ours and the machine's, in bcc's order.
  const bytesOrder = tables[0].map((r) => r.kbytes);
  assert.deepEqual(bytesOrder, [...bytesOrder].sort((a, b) => b - a));
  for (const r of tables[0]) assert.match(r.avgms, /^\d+\.\d\d$/);
});

test('biotop -p PID counts that process only, exactly', async (t) => {
  if (!needsBpf(t)) return;
  const [mine, other] = [await worker(EXACT, 0), await worker(BIG, 8192)];
  const run = await started(t, ['--json', '-p', String(mine.pid), '99']);
  await work(mine, other);
  await stopped(run);
  const all = intervals(run);
  assert.ok(all.flatMap((i) => i.rows).every((r) => r.pid === mine.pid), run.stdout);
  assert.deepEqual(withoutLatency(totalsOnDevice(all)), expectedTotals(mine));
});

test('biotop -r MAXROWS prints the busiest rows only', async (t) => {
  if (!needsBpf(t)) return;
  const w = await worker(BIG, 0);
  const text = await started(t, ['-C', '-p', String(w.pid), '-r', '1', '99']);
  const json = await started(t, ['--json', '-p', String(w.pid), '-r', '1', '99']);
  await work(w);
  await stopped(text);
  await stopped(json);
  const tables = textIntervals(text.stdout);
  assert.deepEqual(tables.map((rows) => rows.map((r) => [r.pid, r.d, r.io, r.kbytes])), [[[w.pid, 'R', BIG.reads, (BIG.reads * BIG.readBytes) / 1024]]]);
  const [interval] = intervals(json);
  assert.deepEqual(interval.rows.map((r) => [r.pid, r.direction, r.io, r.bytes]), [[w.pid, 'R', BIG.reads, BIG.reads * BIG.readBytes]]);
  assert.equal(interval.rows_omitted, 1, 'the write row is left out');
});

test('biotop --explain picks the attach points this kernel offers', async (t) => {
  if (!needsBpf(t)) return;
  const { chosen, stderr } = await explainedRun(t, 'biotop', []);
  assert.deepEqual(shortChoices(chosen), expectedBlockRequests(), stderr);
});
