// `make image-test`: the exporter image run with exactly deploy/daemonset.yaml's privileges,
// host namespaces and host paths (read from the manifest, see daemonset.ts), checked from the
// host: /healthz; exact counts of known workloads (execs in the exporter's scrape; getppid()
// calls through syscount -p from the same image); every metric the Grafana dashboard queries;
// SIGTERM ending it within the grace period with every program it loaded gone; and the saved
// OCI archive loaded into an empty podman storage and run the same way.
//
// Not a *.test.ts: `make test` must not need podman or the image. Root only. Prints one line
// per check; on failure one line `image-test: FAIL: …` and exit 1. Containers and the temporary
// storage are removed however it ends.
//
// usage: node --import tsx test/image/image-test.ts --image IMAGE --archive FILE --daemonset FILE
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import minimist from 'minimist';
import { podmanPlan, type PodmanPlan } from './daemonset.ts';
import { workload } from '../helpers/workloads.ts';
import { freePort } from '../helpers/http.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const argv = minimist(process.argv.slice(2), { string: ['image', 'archive', 'daemonset'] });
const IMAGE: string = argv.image ?? '';
const ARCHIVE: string = argv.archive ?? '';
const DAEMONSET: string = argv.daemonset ?? path.join(ROOT, 'deploy/daemonset.yaml');
const DASHBOARD = path.join(ROOT, 'deploy/grafana-dashboard.json');
const TAG = `bpfkit-image-test-${process.pid}`;
// make sets it; run directly, the same runc and ulimits (image/containers.conf).
process.env.CONTAINERS_CONF ??= path.join(ROOT, 'image/containers.conf');

const containers: Array<{ name: string; storage: string[] }> = [];
const createdDirs: string[] = [];
let tmp = '';

class Failure extends Error {}
function fail(message: string): never { throw new Failure(message); }
function ok(message: string): void { console.log(`image-test: ok: ${message}`); }
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function podman(args: string[], storage: string[] = [], input?: string): string {
  try {
    return execFileSync('podman', [...storage, ...args], { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    fail(`podman ${args.slice(0, 2).join(' ')}: ${(e.stderr || e.message).trim().split('\n').pop()}`);
  }
}

/** Starts the image detached as the manifest runs it; `command` replaces the manifest's args. */
function run(plan: PodmanPlan, name: string, opts: { storage?: string[]; command?: string[]; entrypoint?: string } = {}): string {
  const storage = opts.storage ?? [];
  containers.push({ name, storage });
  // BPFKIT_READY=1 only makes each tool say "<tool>: ready" once attached (test/helpers/tool.ts).
  return podman(['run', '-d', '--name', name, ...plan.options, '--env=BPFKIT_READY=1',
    ...(opts.entrypoint ? [`--entrypoint=${opts.entrypoint}`] : []), plan.image, ...(opts.command ?? plan.args)], storage).trim();
}

/** The container's output; podman logs replays the container's stderr on its own stderr. */
function logs(name: string, storage: string[] = []): string {
  const out = spawnSync('podman', [...storage, 'logs', name], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (out.status !== 0) fail(`podman logs ${name}: ${out.stderr.trim().split('\n').pop()}`);
  return out.stdout + out.stderr;
}

function state(name: string, storage: string[] = []): { running: boolean; exitCode: number; pid: number } {
  const [running, exitCode, pid] = podman(['inspect', '--format', '{{.State.Running}} {{.State.ExitCode}} {{.State.Pid}}', name], storage).trim().split(' ');
  return { running: running === 'true', exitCode: Number(exitCode), pid: Number(pid) };
}

async function waitReady(name: string, tools: number, storage: string[] = [], timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = logs(name, storage);
    const ready = text.split('\n').filter((l) => /^\w+: ready$/.test(l)).length;
    if (ready >= tools) return;
    if (!state(name, storage).running) fail(`${name} exited before it was ready: ${text.trim().split('\n').slice(-3).join(' | ')}`);
    await sleep(100);
  }
  fail(`${name} not ready after ${timeoutMs / 1000} s`);
}

function get(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${urlPath} timed out`)));
  });
}

function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Scrapes until `series` reaches `expected` (counters only grow), then once more after a pause. */
async function waitForSample(port: number, series: string, expected: number, timeoutMs = 15_000): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  let value: number | undefined;
  while (Date.now() < deadline) {
    value = sample((await get(port, '/metrics')).body, series);
    if (value !== undefined && value >= expected) {
      // A count above the truth would show up now.
      await sleep(1000);
      return sample((await get(port, '/metrics')).body, series);
    }
    await sleep(100);
  }
  return value;
}

/** The BPF programs a process holds, from its fds (hostPID: the container's node is visible here). */
function programsOf(pid: number): number[] {
  const ids = new Set<number>();
  const dir = `/proc/${pid}/fdinfo`;
  for (const fd of fs.readdirSync(dir)) {
    let info = '';
    try { info = fs.readFileSync(path.join(dir, fd), 'utf8'); } catch { continue; }
    const m = /^prog_id:\s+(\d+)$/m.exec(info);
    if (m) ids.add(Number(m[1]));
  }
  return [...ids].sort((a, b) => a - b);
}

/** The node process under the container's tini. */
function nodePid(name: string, storage: string[] = []): number {
  const tini = state(name, storage).pid;
  const children = fs.readFileSync(`/proc/${tini}/task/${tini}/children`, 'utf8').trim().split(/\s+/).map(Number);
  const node = children.find((pid) => fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'node');
  return node ?? fail(`no node process under tini (pid ${tini})`);
}

/** `bpftool prog list` from the image itself: every program id loaded on this machine now. */
function loadedPrograms(plan: PodmanPlan): Set<number> {
  const name = `${TAG}-bpftool-${containers.length}`;
  containers.push({ name, storage: [] });
  const out = podman(['run', '--rm', '--name', name, ...plan.options, '--entrypoint=bpftool', plan.image, '--json', 'prog', 'list']);
  return new Set((JSON.parse(out) as Array<{ id: number }>).map((p) => p.id));
}

async function waitGone(plan: PodmanPlan, ids: number[]): Promise<number[]> {
  let left = ids;
  for (let i = 0; i < 50 && left.length > 0; i++) {
    const loaded = loadedPrograms(plan);
    left = ids.filter((id) => loaded.has(id));
    if (left.length > 0) await sleep(100);
  }
  return left;
}

/** The bpfkit_* families the dashboard queries (histograms by their base name). */
function dashboardMetrics(): string[] {
  const text = fs.readFileSync(DASHBOARD, 'utf8');
  const names = new Set([...text.matchAll(/\bbpfkit_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')));
  return [...names].sort();
}

function cleanup(): void {
  for (const { name, storage } of containers.reverse()) {
    try { execFileSync('podman', [...storage, 'rm', '-f', '-t', '0', name], { stdio: 'ignore' }); } catch { /* already gone */ }
  }
  containers.length = 0;
  if (tmp) {
    const storage = ['--root', path.join(tmp, 'root'), '--runroot', path.join(tmp, 'runroot')];
    try { execFileSync('podman', [...storage, 'rmi', '-a', '-f'], { stdio: 'ignore' }); } catch { /* nothing loaded */ }
    fs.rmSync(tmp, { recursive: true, force: true });
    tmp = '';
  }
  // Only if still empty: something else may have started using the directory meanwhile.
  for (const dir of createdDirs.splice(0).reverse()) { try { fs.rmdirSync(dir); } catch { /* in use: keep */ } }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) fail('must be run as root (podman, BPF)');
  if (!IMAGE || !ARCHIVE) fail('usage: image-test.ts --image IMAGE --archive FILE [--daemonset FILE]');
  if (!fs.existsSync(ARCHIVE)) fail(`no archive ${ARCHIVE}: run make image-save`);

  const port = await freePort();
  const plan = podmanPlan(DAEMONSET, '127.0.0.1');
  if (plan.image !== IMAGE) fail(`daemonset.yaml runs ${plan.image}, make image tagged ${IMAGE}`);
  // The manifest's port is the node's; here it must not collide with anything else on the host.
  const listen = plan.args.indexOf('--listen');
  if (listen < 0) fail('daemonset.yaml passes no --listen');
  plan.args[listen + 1] = plan.args[listen + 1].replace(/:\d+$/, `:${port}`);
  const tools = plan.args[plan.args.indexOf('--tools') + 1]?.split(',') ?? fail('daemonset.yaml passes no --tools');
  // What the kubelet does for a missing DirectoryOrCreate hostPath; removed again at the end.
  for (const dir of plan.createDirs) { fs.mkdirSync(dir, { recursive: true }); createdDirs.push(dir); }
  console.log(`image-test: ${IMAGE} as daemonset.yaml runs it: capabilities ${plan.capabilities.join(',')}; ${plan.options.filter((o) => !o.startsWith('--mount') && !o.startsWith('--cap')).join(' ')}`);

  // 1. Start-up: ready (every tool attached) and /healthz.
  const exporter = `${TAG}-exporter`;
  const started = Date.now();
  run(plan, exporter);
  await waitReady(exporter, tools.length);
  const health = await get(port, '/healthz');
  if (health.status !== 200 || health.body !== 'ok\n') fail(`/healthz: ${health.status} ${JSON.stringify(health.body)}`);
  ok(`${tools.length} tools attached and /healthz ok ${((Date.now() - started) / 1000).toFixed(1)} s after podman run (BPF compiled in the container)`);
  const pid = nodePid(exporter);
  const programs = programsOf(pid);
  if (programs.length < tools.length) fail(`the exporter holds ${programs.length} programs for ${tools.length} tools`);

  // 2. Exact counts: N execs of a binary named for this run (execsnoop), seen from the host.
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bpfkit-image-test-'));
  const EXECS = 25;
  const comm = `bpfimg${process.pid % 100000}`;
  const bin = path.join(tmp, comm);
  fs.copyFileSync(workload('donothing'), bin);
  fs.chmodSync(bin, 0o755);
  await promisify(execFile)(workload('execburst'), [String(EXECS), '1', bin]);
  const execs = await waitForSample(port, `bpfkit_execs_total{comm="${comm}"}`, EXECS);
  if (execs !== EXECS) fail(`bpfkit_execs_total{comm="${comm}"} is ${execs}, the host ran ${EXECS} execs`);
  ok(`execsnoop in the exporter counted the host's ${EXECS} execs of ${comm}: ${execs}`);

  // 3. syscount: the exporter counts every process's calls, so exactness is checked with syscount
  // -p from the same image and privileges; the exporter must have seen at least those calls.
  const N = 4321;
  const getppidSeries = 'bpfkit_syscalls_total{syscall="getppid"}';
  const before = sample((await get(port, '/metrics')).body, getppidSeries) ?? 0;
  const child = spawn(workload('getppid'), [String(N), 'wait'], { stdio: ['pipe', 'ignore', 'inherit'] });
  const syscountPort = await freePort();
  const syscount = `${TAG}-syscount`;
  run(plan, syscount, { command: ['syscount', '-p', String(child.pid), '--metrics', `127.0.0.1:${syscountPort}`] });
  await waitReady(syscount, 1);
  child.stdin!.end('go\n');
  await once(child, 'exit');
  const calls = await waitForSample(syscountPort, getppidSeries, N);
  if (calls !== N) fail(`syscount -p: ${getppidSeries} is ${calls}, the workload made ${N}`);
  const seen = await waitForSample(port, getppidSeries, before + N);
  if (seen === undefined || seen < before + N) fail(`the exporter's ${getppidSeries} grew by ${(seen ?? 0) - before}, less than the workload's ${N}`);
  podman(['kill', '--signal', 'TERM', syscount]);
  podman(['wait', syscount]);
  if (state(syscount).exitCode !== 0) fail(`syscount exited ${state(syscount).exitCode} on SIGTERM`);
  ok(`syscount -p from the image: ${getppidSeries} ${calls} = the workload's ${N} calls; the exporter's grew by ${seen - before}`);

  // 4. The dashboard queries only metrics the exporter serves.
  const body = (await get(port, '/metrics')).body;
  const families = new Set([...body.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
  const missing = dashboardMetrics().filter((m) => !families.has(m));
  if (missing.length > 0) fail(`grafana-dashboard.json queries ${missing.join(', ')}, which the exporter (${tools.join(',')}) does not serve`);
  ok(`every metric the Grafana dashboard queries is served (${dashboardMetrics().length})`);

  // 5. SIGTERM as the kubelet sends it (to the container's first process, tini, which forwards
  // it): a clean exit within the grace period, every program gone.
  const stopAt = Date.now();
  podman(['kill', '--signal', 'TERM', exporter]);
  const code = Number(podman(['wait', '--interval', '100ms', exporter]).trim());
  const took = (Date.now() - stopAt) / 1000;
  if (took > plan.graceSeconds) fail(`SIGTERM took ${took.toFixed(1)} s, the grace period is ${plan.graceSeconds} s`);
  if (code !== 0) fail(`the exporter exited ${code} on SIGTERM: ${logs(exporter).trim().split('\n').pop()}`);
  const left = await waitGone(plan, programs);
  if (left.length > 0) fail(`programs ${left.join(', ')} still loaded after the exporter exited`);
  ok(`SIGTERM: exit 0 in ${took.toFixed(1)} s (grace ${plan.graceSeconds} s); its ${programs.length} programs (${programs.join(', ')}) are gone from bpftool prog list`);

  // 6. The archive in an empty storage: load, run as the manifest does, stop with podman stop.
  const storage = ['--root', path.join(tmp, 'root'), '--runroot', path.join(tmp, 'runroot')];
  if (podman(['images', '-q'], storage).trim() !== '') fail('the temporary storage is not empty');
  const loadAt = Date.now();
  podman(['load', '-q', '-i', ARCHIVE], storage);
  if (!podman(['images', '--format', '{{.Repository}}:{{.Tag}}'], storage).split('\n').includes(IMAGE)) {
    fail(`${ARCHIVE} loaded, but not as ${IMAGE}`);
  }
  const loaded = `${TAG}-loaded`;
  run(plan, loaded, { storage });
  await waitReady(loaded, tools.length, storage);
  if ((await get(port, '/healthz')).status !== 200) fail('/healthz of the loaded image');
  const loadedHeld = programsOf(nodePid(loaded, storage));
  ok(`${path.basename(ARCHIVE)} loaded into empty storage and ran: ready, /healthz ok ${((Date.now() - loadAt) / 1000).toFixed(1)} s after load`);
  // podman stop signals every process of a container without a PID namespace of its own (runc
  // kill --all): node gets SIGTERM twice and takes its immediate exit (143), which still detaches.
  podman(['stop', '-t', String(plan.graceSeconds), loaded], storage);
  const stopped = state(loaded, storage).exitCode;
  if (stopped !== 0 && stopped !== 143) fail(`podman stop: the exporter exited ${stopped}`);
  const leftLoaded = await waitGone(plan, loadedHeld);
  if (leftLoaded.length > 0) fail(`programs ${leftLoaded.join(', ')} still loaded after podman stop`);
  ok(`podman stop: exit ${stopped}, its ${loadedHeld.length} programs gone`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => { cleanup(); process.exit(130); });
}
try {
  await main();
  console.log('image-test: all checks passed');
} catch (err) {
  const message = err instanceof Failure ? err.message : (err as Error).stack ?? String(err);
  console.error(`image-test: FAIL: ${message.split('\n')[0]}`);
  process.exitCode = 1;
} finally {
  cleanup();
}
