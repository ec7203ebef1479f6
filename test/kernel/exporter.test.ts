// The Prometheus exporter against the real kernel and a real Prometheus (Debian's package, from
// `make test-deps`): workloads with known counts, scraped every second by a Prometheus started
// here on loopback, and the values read back through Prometheus' HTTP API must be exact.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { programExists } from 'bcc-node-bindings';
import { needsBpf, sleep } from '../helpers/kernel.ts';
import { startTool, type ToolRun } from '../helpers/tool.ts';
import { workload } from '../helpers/workloads.ts';
import { createLoopDevice, type LoopDevice } from '../helpers/loopdev.ts';
import { freePort } from '../helpers/http.ts';

const children = new Set<ChildProcess>();
const runs = new Set<ToolRun>();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bpfkit-exporter-test-'));
let loop: LoopDevice | undefined;
after(async () => {
  for (const run of runs) await run.stop('SIGKILL');
  for (const child of children) child.kill('SIGKILL');
  loop?.remove();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function get(port: number, urlPath: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${urlPath} timed out`)));
    req.end();
  });
}

/** A Prometheus of our own: temp config and storage, loopback, scraping `target` every second. */
async function startPrometheus(target: number): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(tmp, 'prom-'));
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), [
    'global:', '  scrape_interval: 1s', '  scrape_timeout: 1s',
    'scrape_configs:', '  - job_name: bpfkit', '    static_configs:', `      - targets: ['127.0.0.1:${target}']`, '',
  ].join('\n'));
  const child = spawn('prometheus', [
    `--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
    const ready = await get(port, '/-/ready').catch(() => null);
    if (ready?.status === 200) return { port, child };
    await sleep(100);
  }
  throw new Error(`prometheus not ready: ${stderr}`);
}

async function stopPrometheus(prom: { child: ChildProcess }): Promise<void> {
  if (prom.child.exitCode === null) {
    prom.child.kill('SIGKILL');
    await once(prom.child, 'exit');
  }
  children.delete(prom.child);
}

/** The value of a PromQL expression (a single sample), or undefined when it has none. */
async function query(port: number, expr: string): Promise<number | undefined> {
  const res = await get(port, `/api/v1/query?query=${encodeURIComponent(expr)}`);
  const json = JSON.parse(res.body) as { status: string; data: { result: Array<{ value: [number, string] }> } };
  assert.equal(json.status, 'success', res.body);
  if (json.data.result.length === 0) return undefined;
  assert.equal(json.data.result.length, 1, `more than one series for ${expr}: ${res.body}`);
  return Number(json.data.result[0].value[1]);
}

/** Waits until Prometheus has scraped `expected` (values only grow), then returns what it holds. */
async function waitForValue(port: number, expr: string, expected: number, timeoutMs = 15_000): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  let value: number | undefined;
  while (Date.now() < deadline) {
    value = await query(port, expr);
    if (value !== undefined && value >= expected) {
      // Two more scrapes: a value above the truth would show up now.
      await sleep(2200);
      return query(port, expr);
    }
    await sleep(250);
  }
  return value;
}

function sample(exposition: string, line: RegExp): number | undefined {
  const m = exposition.split('\n').map((l) => line.exec(l)).find(Boolean);
  return m ? Number(m[1]) : undefined;
}

function readyCount(run: ToolRun, tool: string): number {
  return run.stderr.split('\n').filter((l) => l === `${tool}: ready`).length;
}

test('syscount -p CHILD --metrics: N getppid() calls are N in Prometheus', async (t) => {
  if (!needsBpf(t)) return;
  const N = 4321;
  const child = spawn(workload('getppid'), [String(N), 'wait'], { stdio: ['pipe', 'ignore', 'inherit'] });
  children.add(child);
  const port = await freePort();
  const run = startTool('syscount', ['-p', String(child.pid), '--metrics', `127.0.0.1:${port}`]);
  runs.add(run);
  await run.ready;
  const prom = await startPrometheus(port);
  try {
    child.stdin!.end('go\n');
    await once(child, 'exit');
    const value = await waitForValue(prom.port, 'bpfkit_syscalls_total{syscall="getppid"}', N);
    assert.equal(value, N);
    assert.equal(run.stdout, '', 'metrics mode prints nothing on stdout');
  } finally {
    await stopPrometheus(prom);
  }
  assert.equal(await run.stop('SIGTERM'), 0);
});

test('syscount -x / -L --metrics: failures by syscall and errno, and call times in exact log2 buckets', async (t) => {
  if (!needsBpf(t)) return;
  const K = 17;
  const J = 5;
  const S = 6;
  for (const mode of ['-x', '-L'] as const) {
    const child = spawn(workload('syscall-mix'), ['wait', `enoent=${K}`, `ebadf=${J}`, `nanosleep=${S}:3000000`], { stdio: ['pipe', 'ignore', 'inherit'] });
    children.add(child);
    const port = await freePort();
    const run = startTool('syscount', ['-p', String(child.pid), mode, '--metrics', `127.0.0.1:${port}`]);
    runs.add(run);
    await run.ready;
    child.stdin!.end('go\n');
    await once(child, 'exit');
    const { body } = await get(port, '/metrics');
    if (mode === '-x') {
      assert.equal(sample(body, /^bpfkit_syscall_errors_total\{syscall="openat",errno="ENOENT"\} (\d+)$/), K);
      assert.equal(sample(body, /^bpfkit_syscall_errors_total\{syscall="close",errno="EBADF"\} (\d+)$/), J);
    } else {
      // S sleeps of 3 ms: none is under 2.048 ms; the buckets run up to the first bound that holds them all.
      assert.equal(sample(body, /^bpfkit_syscall_duration_seconds_count\{syscall="nanosleep"\} (\d+)$/), S);
      assert.equal(sample(body, /^bpfkit_syscall_duration_seconds_bucket\{syscall="nanosleep",le="\+Inf"\} (\d+)$/), S);
      assert.equal(sample(body, /^bpfkit_syscall_duration_seconds_bucket\{syscall="nanosleep",le="0\.002048"\} (\d+)$/), 0);
      const bounds = [...body.matchAll(/^bpfkit_syscall_duration_seconds_bucket\{syscall="nanosleep",le="([\d.e-]+)"\} (\d+)$/gm)]
        .map((m) => [Number(m[1]), Number(m[2])] as const);
      const last = bounds[bounds.length - 1];
      assert.ok(last[0] >= 0.003 && last[1] === S, `last bucket ${last}`);
      assert.ok((sample(body, /^bpfkit_syscall_duration_seconds_sum\{syscall="nanosleep"\} ([\d.e-]+)$/) ?? 0) >= S * 0.003);
    }
    assert.equal(await run.stop('SIGTERM'), 0);
  }
});

test('exporter: execs, block I/O and TCP bytes are exact in Prometheus; promtool accepts the output; bad clients do not stop it; SIGTERM detaches', async (t) => {
  if (!needsBpf(t)) return;
  loop = createLoopDevice();
  const port = await freePort();
  const run = startTool('exporter', ['--tools', 'syscount,biolatency,tcptop,execsnoop', '--listen', `127.0.0.1:${port}`, '--explain']);
  runs.add(run);
  for (let i = 0; i < 600 && readyCount(run, 'exporter') < 4; i++) {
    if (run.child.exitCode !== null) throw new Error(`exporter exited:\n${run.stderr}`);
    await sleep(50);
  }
  assert.equal(readyCount(run, 'exporter'), 4, run.stderr);
  const ids = [...run.stderr.matchAll(/^ {2}program id (\d+) /gm)].map((m) => Number(m[1]));
  assert.ok(ids.length >= 4, run.stderr);
  const prom = await startPrometheus(port);
  try {
    // N execs of a binary with a name of its own.
    const EXECS = 25;
    const name = `bpfx${process.pid % 100000}`;
    const bin = path.join(tmp, name);
    fs.copyFileSync(workload('donothing'), bin);
    fs.chmodSync(bin, 0o755);
    await promisify(execFile)(workload('execburst'), [String(EXECS), '1', bin]);

    // N O_DIRECT reads on a loop device nothing else uses.
    const READS = 40;
    const disk = loop.name;
    const countExpr = `bpfkit_block_io_duration_seconds_count{disk="${disk}"}`;
    const before = sample((await get(port, '/metrics')).body, new RegExp(`^${countExpr.replace(/[{}"]/g, (c) => `\\${c}`)} (\\d+)$`)) ?? 0;
    await promisify(execFile)(workload('dio'), [loop.path, String(READS), '0', '4096', '1']);

    // A bytes from client to server over loopback.
    const A = 123_457;
    const flows = spawn(workload('tcpflows'), ['pair', '127.0.0.1', '1', String(A), '1000', 'now'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(flows);
    let out = '';
    flows.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
    await once(flows, 'exit');
    const server = /^server (\d+) (\d+)$/m.exec(out);
    const client = /^client (\d+) (\d+)$/m.exec(out);
    assert.ok(server && client, out);
    const flow = `pid="${client[1]}",laddr="127.0.0.1:${client[2]}",raddr="127.0.0.1:${server[2]}"`;

    assert.equal(await waitForValue(prom.port, `bpfkit_execs_total{comm="${name}"}`, EXECS), EXECS);
    assert.equal(await waitForValue(prom.port, countExpr, before + READS), before + READS);
    assert.equal(await waitForValue(prom.port, `bpfkit_tcp_sent_bytes_total{${flow}}`, A), A);
    assert.equal(await query(prom.port, `bpfkit_tcp_process_sent_bytes_total{pid="${client[1]}"}`), A);
    const buckets = await query(prom.port, `bpfkit_block_io_duration_seconds_bucket{disk="${disk}",le="+Inf"}`);
    assert.equal(buckets, before + READS);
    assert.ok((await query(prom.port, `bpfkit_block_io_duration_seconds_sum{disk="${disk}"}`))! > 0);
    assert.equal(await query(prom.port, 'up{job="bpfkit"}'), 1);

    // The exposition passes promtool, in both formats' content types.
    const text = await get(port, '/metrics');
    assert.equal(text.status, 200);
    assert.match(text.type, /^text\/plain; version=0\.0\.4/);
    execFileSync('promtool', ['check', 'metrics'], { input: text.body });
    for (const family of ['bpfkit_syscalls_total', 'bpfkit_execs_total', 'bpfkit_exec_failures_total', 'bpfkit_block_io_duration_seconds',
      'bpfkit_tcp_sent_bytes_total', 'bpfkit_tcp_received_bytes_total', 'bpfkit_lost_events_total', 'bpfkit_series_dropped_total', 'bpfkit_build_info']) {
      assert.match(text.body, new RegExp(`^# TYPE ${family} `, 'm'));
    }
    const om = await get(port, '/metrics', { Accept: 'application/openmetrics-text; version=1.0.0' });
    assert.match(om.type, /^application\/openmetrics-text/);
    assert.match(om.body, /\n# EOF\n$/);

    // Bad clients: one that connects and sends nothing, another path, another method, 20 at once.
    const idle = net.connect(port, '127.0.0.1');
    await once(idle, 'connect');
    assert.equal((await get(port, '/other')).status, 404);
    assert.equal((await get(port, '/metrics', {}, 'POST')).status, 405);
    assert.equal((await get(port, '/healthz')).body, 'ok\n');
    const many = await Promise.all(Array.from({ length: 20 }, () => get(port, '/metrics')));
    for (const r of many) {
      assert.equal(r.status, 200);
      assert.match(r.body, /^bpfkit_build_info/m);
    }
    // ... and it keeps counting.
    await promisify(execFile)(workload('execburst'), ['5', '1', bin]);
    assert.equal(await waitForValue(prom.port, `bpfkit_execs_total{comm="${name}"}`, EXECS + 5), EXECS + 5);
    idle.destroy();
  } finally {
    await stopPrometheus(prom);
  }
  assert.equal(await run.stop('SIGTERM'), 0);
  for (let i = 0; i < 100 && ids.some(programExists); i++) await sleep(20);
  for (const id of ids) assert.equal(programExists(id), false, `program ${id} still loaded after SIGTERM`);
});

test('tools refuse a bad --metrics address, and --metrics-and-print without --metrics, in one line', async () => {
  const { runToolToEnd } = await import('../helpers/tool.ts');
  for (const tool of ['syscount', 'execsnoop', 'biolatency', 'tcptop', 'exporter']) {
    const args = tool === 'exporter' ? ['--listen', 'host:99999'] : ['--metrics', 'nonsense'];
    const bad = await runToolToEnd(tool, args);
    assert.equal(bad.code, 2, bad.stderr);
    assert.equal(bad.stderr.trimEnd().split('\n').length, 1, bad.stderr);
    if (tool === 'exporter') continue;
    const alone = await runToolToEnd(tool, ['--metrics-and-print']);
    assert.equal(alone.code, 2, alone.stderr);
    assert.match(alone.stderr, /--metrics-and-print needs --metrics/);
  }
});
