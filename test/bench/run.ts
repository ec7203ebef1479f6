// bpfkit's benchmark: every tool beside bcc's and bpftrace's in one run (`make bench`, as root).
//   node --import tsx test/bench/run.ts [options]        (--help lists them)
// Prints a table per tool, writes the same data to test/bench/results/latest.json, and after a
// complete run puts the tables in test/bench/README.md. README.md says what is measured and how.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import minimist from 'minimist';
import { findKernelHeaders, programExists } from 'bcc-node-bindings';
import { createLoopDevice, type LoopDevice } from '../helpers/loopdev.ts';
import { Proc, firstErrorLine, sleep, startTime, started, stopAll } from './lib/proc.ts';
import { buildWorkloads } from './lib/workloads.ts';
import { rotate, summarize } from './lib/stats.ts';
import { renderMarkdown, renderText, type Table } from './lib/table.ts';
import { BPFTRACE, TOOL_NAMES, loadToolBenches, type Setup, type ToolName } from './lib/tracers.ts';
import { ONE_LINER_REFERENCE, burst, manyFlows, overhead, resources, startup, type Bench, type Options } from './lib/phases.ts';
import { drain10k, eventCost, exporter } from './lib/binding.ts';
import { xdpVeth, xdpVethTable } from './lib/xdp-veth.ts';
import { profileSampling, profileSamplingTable } from './tools/profile.ts';
import {
  bindingTable, burstTable, exporterTable, floorsTable, flowsTable, issue9Note, overheadTable,
  resourcesTable, startupTable, type FloorRow, type Results,
} from './lib/report.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const RESULTS = path.join(import.meta.dirname, 'results/latest.json');
/** A partial run (--tools, --skip) must not replace the complete run the README shows. */
const PARTIAL_RESULTS = path.join(os.tmpdir(), 'bpfkit-bench-partial.json');
const README = path.join(import.meta.dirname, 'README.md');
// The tools whose benches do I/O on the bench's own loop device (bench.setup.loopDevice).
const BLOCK_TOOLS = ['biolatency', 'biosnoop', 'biotop', 'bitesize'];
const PHASES = ['startup', 'overhead', 'burst', 'resources', 'flows', 'xdp', 'sampling', 'binding', 'exporter'] as const;

const HELP = `usage: node --import tsx test/bench/run.ts [options]   (as root; make bench runs it)

  --tools LIST          tools to measure (default: ${TOOL_NAMES.join(',')})
  --skip LIST           phases to skip: ${PHASES.join(',')}
  --startup-reps N      start-up runs per tracer and cache state (default 5)
  --reps N              added-cost, burst and per-event runs per tracer (default 3)
  --resource-reps N     idle + load windows per tracer (default 1)
  --idle-seconds S      idle window for CPU (default 10)
  --load-seconds S      load window for CPU and RSS after load (default 10; issue 7 says 60:
                        --load-seconds 60 adds about 10 minutes)
  --syscalls N          getppid() calls per syscount run (default 1000000)
  --execs N             execs per execsnoop added-cost run (default 1000)
  --burst N             execs in execsnoop's loss burst (default 5000)
  --ios N               O_DIRECT reads per biolatency run (default 50000)
  --sends N             64-byte sends per tcptop run (default 200000)
  --connections N       loopback connections for tcptop's many-flows run (default 5000 = 10,000 flows)
  --events N            events per binding per-event-cost run (default 200000)
  --no-readme           do not write the tables into test/bench/README.md
`;

function parseOptions(argv: string[]): { opts: Options; tools: ToolName[]; skip: Set<string>; readme: boolean } {
  const a = minimist(argv, { string: ['tools', 'skip'], boolean: ['help', 'readme'], default: { readme: true } });
  if (a.help) { process.stdout.write(HELP); process.exit(0); }
  const known = new Set(['_', 'tools', 'skip', 'help', 'readme', 'startup-reps', 'reps', 'resource-reps', 'idle-seconds', 'load-seconds', 'syscalls', 'execs', 'burst', 'ios', 'sends', 'connections', 'events']);
  for (const k of Object.keys(a)) if (!known.has(k)) { process.stderr.write(`bench: unknown option --${k}\n${HELP}`); process.exit(2); }
  const num = (name: string, dflt: number, min: number) => {
    const v = a[name] === undefined ? dflt : Number(a[name]);
    if (!Number.isFinite(v) || v < min) { process.stderr.write(`bench: --${name} must be a number ≥ ${min}\n`); process.exit(2); }
    return v;
  };
  const tools: ToolName[] = a.tools ? String(a.tools).split(',') : [...TOOL_NAMES];
  for (const t of tools) if (!TOOL_NAMES.includes(t)) { process.stderr.write(`bench: no tool ${t}\n`); process.exit(2); }
  const skip = new Set(a.skip ? String(a.skip).split(',') : []);
  for (const s of skip) if (!(PHASES as readonly string[]).includes(s)) { process.stderr.write(`bench: no phase ${s}\n`); process.exit(2); }
  return {
    tools,
    skip,
    readme: a.readme !== false,
    opts: {
      startupReps: num('startup-reps', 5, 1),
      reps: num('reps', 3, 1),
      resourceReps: num('resource-reps', 1, 1),
      idleSeconds: num('idle-seconds', 10, 1),
      loadSeconds: num('load-seconds', 10, 1),
      syscalls: num('syscalls', 1_000_000, 1000),
      execs: num('execs', 1000, 10),
      burst: num('burst', 5000, 10),
      ios: num('ios', 50_000, 100),
      sends: num('sends', 200_000, 1000),
      connections: num('connections', 5000, 1),
      events: num('events', 200_000, 1000),
    },
  };
}

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

function sh(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function tryRead(fn: () => string): string {
  try { return fn(); } catch { return 'unknown'; }
}

function machine(): Record<string, string | number> {
  const cpuinfo = tryRead(() => fs.readFileSync('/proc/cpuinfo', 'utf8'));
  return {
    kernel: os.release(),
    cpus: os.cpus().length,
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown',
    memoryGB: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
    distribution: tryRead(() => /^PRETTY_NAME="?([^"\n]*)/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'unknown'),
    node: process.version,
    bcc: tryRead(() => sh('dpkg-query', ['-W', '-f=${Version}', 'bpfcc-tools'])),
    libbcc: tryRead(() => sh('dpkg-query', ['-W', '-f=${Version}', 'libbpfcc'])),
    bpftrace: tryRead(() => sh('bpftrace', ['--version'])),
    python3: tryRead(() => sh('/usr/bin/python3', ['--version'])),
    loadavgAtStart: os.loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}

/** `npm pack` (its prepack builds dist/) and install the tarball in an empty directory: the installed path. */
function installPackage(dir: string): { installDir: string | null; error?: string } {
  const packDir = path.join(dir, 'pack');
  const installDir = path.join(dir, 'install');
  fs.mkdirSync(packDir);
  fs.mkdirSync(installDir);
  try {
    const out = sh('npm', ['pack', '--silent', '--pack-destination', packDir], REPO);
    const tgz = path.join(packDir, out.split('\n').pop()!);
    sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--silent', tgz], installDir);
    if (!fs.existsSync(path.join(installDir, 'node_modules/bpfkit/dist/tools'))) throw new Error('no dist/tools in the installed package');
    return { installDir };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return { installDir: null, error: firstErrorLine(e.stderr ?? '', '') || e.message.split('\n')[0] };
  }
}

/** Launch → ready for what every tracer pays before its own work: Node, Python with bcc, a bpftrace one-liner. */
async function floors(bench: Bench): Promise<FloorRow[]> {
  const NODE_IDLE = ['-e', "process.stdout.write('ready\\n'); setInterval(() => {}, 1000)"];
  const subjects: Array<{ what: string; file: string; args: string[]; env?: Record<string, string>; unsetEnv?: string[] }> = [
    { what: 'node -e (nothing loaded)', file: process.execPath, args: NODE_IDLE },
    // Node parses NODE_EXTRA_CA_CERTS's bundle before running anything; our launchers drop it.
    ...(process.env.NODE_EXTRA_CA_CERTS
      ? [{ what: 'node -e without NODE_EXTRA_CA_CERTS (as bpfkit starts node)', file: process.execPath, args: NODE_IDLE, unsetEnv: ['NODE_EXTRA_CA_CERTS'] }]
      : []),
    { what: 'python3 + import bcc (nothing loaded)', file: '/usr/bin/python3', args: ['-c', "import bcc, time; print('ready', flush=True); time.sleep(60)"] },
    { what: 'bpftrace one-liner (raw_syscalls count)', file: BPFTRACE, args: ['-e', 'BEGIN { printf("ready\\n"); } tracepoint:raw_syscalls:sys_enter { @[args->id] = count(); }'] },
  ];
  const data = subjects.map(() => ({ ready: [] as number[], rss: [] as number[], error: undefined as string | undefined }));
  for (let r = 0; r < bench.opts.startupReps; r++) {
    for (const i of rotate(subjects.map((_, k) => k), r)) {
      if (data[i].error) continue;
      const s = subjects[i];
      let proc: Proc;
      try {
        proc = new Proc(`floor:${s.what}`, { file: s.file, args: s.args, env: s.env, unsetEnv: s.unsetEnv });
      } catch (err) {
        data[i].error = (err as Error).message;
        continue;
      }
      const ready = await proc.ready({ stream: 'stdout', pattern: /^ready$/m });
      if (ready instanceof Error) { data[i].error = ready.message; continue; }
      const status = fs.readFileSync(`/proc/${proc.pid}/status`, 'utf8');
      data[i].ready.push(ready);
      data[i].rss.push(Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? NaN) / 1024);
      await proc.stop();
    }
  }
  return subjects.map((s, i) => ({ what: s.what, readyMs: summarize(data[i].ready), rssMB: summarize(data[i].rss), ...(data[i].error ? { error: data[i].error } : {}) }));
}

/** Nothing left behind: no process we started, no program our tracers loaded, no loop device. */
async function verifyCleanup(bench: Bench, loop: LoopDevice | null, dir: string): Promise<Record<string, unknown>> {
  const alive = (pid: number) => {
    try { return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
  };
  const leftProcesses: string[] = [];
  for (const [pid, { file, startTime: since }] of started) {
    if (alive(pid) && since !== null && startTime(pid) === since) leftProcesses.push(`${pid} ${file}`);
  }
  // Grandchildren (execloop workers, tcpsend's peers) run binaries from the bench's directory.
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    const cmd = tryRead(() => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]);
    if (cmd.startsWith(dir) && alive(Number(pid))) leftProcesses.push(`${pid} ${cmd}`);
  }
  let leftPrograms: string[] = [];
  for (let i = 0; i < 10; i++) {
    leftPrograms = [...bench.programs].filter(([id]) => programExists(id)).map(([id, who]) => `${id} (${who})`);
    if (leftPrograms.length === 0) break;
    await sleep(500);
  }
  const loops = tryRead(() => sh('losetup', ['--list', '--noheadings', '--output', 'NAME,BACK-FILE']));
  const leftLoops = loops.split('\n').filter((l) => l.includes(`bpfkit-loop-${process.pid}-`));
  return {
    processesStarted: started.size,
    programsChecked: bench.programs.size,
    leftProcesses,
    leftPrograms,
    leftLoopDevices: leftLoops,
    loopDevice: loop?.name ?? null,
    clean: leftProcesses.length === 0 && leftPrograms.length === 0 && leftLoops.length === 0,
  };
}

async function main(): Promise<void> {
  const { opts, tools, skip, readme } = parseOptions(process.argv.slice(2));
  if (process.getuid?.() !== 0) { process.stderr.write('bench: must run as root (sudo make bench)\n'); process.exit(2); }
  const t0 = Date.now();
  const dir = fs.mkdtempSync('/var/tmp/bpfkit-bench-');
  const warmCache = path.join(dir, 'cache');
  fs.mkdirSync(warmCache, { mode: 0o700 });
  let loop: LoopDevice | null = null;
  const bench: Bench = { setup: undefined as unknown as Setup, opts, dir, warmCache, programs: new Map(), failed: new Map(), log };
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping every process started, removing the loop device`);
    void stopAll().finally(() => {
      loop?.remove();
      fs.rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const tables: Array<{ tool: string; tables: Table[] }> = [];
  const resultsFile = tools.length === TOOL_NAMES.length && skip.size === 0 ? RESULTS : PARTIAL_RESULTS;
  const show = (tool: string, ts: Table[]) => {
    tables.push({ tool, tables: ts });
    process.stdout.write(`\n${ts.map(renderText).join('\n')}`);
  };
  const results: Results = {
    date: new Date().toISOString(),
    machine: machine(),
    complete: resultsFile === RESULTS,
    options: { ...opts, tools, skip: [...skip] },
    setup: { installed: 'no' },
    tools: {},
  };
  try {
    log(`machine: ${results.machine.kernel}, ${results.machine.cpus} CPUs, load ${results.machine.loadavgAtStart}`);
    log('building workloads, packing and installing the package, making a loop device');
    const bin = buildWorkloads(path.join(dir, 'bin'));
    const pack = installPackage(dir);
    results.setup = { installed: pack.installDir ? 'packed tarball installed' : 'no', ...(pack.error ? { packError: pack.error } : {}) };
    if (pack.error) log(`installed path not available (measuring the tsx path only): ${pack.error}`);
    if (tools.some((t) => BLOCK_TOOLS.includes(t))) loop = createLoopDevice(64);
    bench.setup = { repo: REPO, installDir: pack.installDir, headers: findKernelHeaders()?.path ?? null, bin, loopDevice: loop?.path ?? null };

    if (!skip.has('startup')) {
      log('start-up floors');
      results.floors = await floors(bench);
      show('floors', [floorsTable(results.floors)]);
    }
    const floorOneLinerMs = results.floors?.find((f) => f.what.startsWith('bpftrace'))?.readyMs?.median;

    const benches = await loadToolBenches(tools);
    for (const name of tools) {
      const tool = benches[name];
      const r: NonNullable<Results['tools'][ToolName]> = {};
      results.tools[name] = r;
      if (!skip.has('startup')) { log(`${name}: start-up`); r.startup = await startup(bench, tool); }
      if (!skip.has('overhead')) {
        log(`${name}: added cost`);
        r.overhead = await overhead(bench, tool);
        for (const variant of tool.variants ?? []) {
          log(`${name}: added cost per ${variant.event}`);
          (r.variants ??= []).push(await overhead(bench, { ...tool, ...variant }));
        }
      }
      if (name === 'execsnoop' && !skip.has('burst')) { log(`${name}: burst`); r.burst = await burst(bench, tool); }
      if (!skip.has('resources')) { log(`${name}: memory and CPU, ${opts.idleSeconds} s idle + ${opts.loadSeconds} s load per tracer`); r.resources = await resources(bench, tool); }
      if (name === 'tcptop' && !skip.has('flows')) {
        log(`${name}: ${2 * opts.connections} flows`);
        r.flows = await manyFlows(bench, tool);
        r.drain = await drain10k(bench);
      }
      if (name === 'pktcount' && !skip.has('xdp')) { log(`${name}: UDP through a veth pair`); r.xdp = await xdpVeth(bench, tool); }
      if (name === 'profile' && !skip.has('sampling')) { log(`${name}: sampling every CPU at ${[99, 999].join(' and ')} Hz`); r.sampling = await profileSampling(bench); }
      // Issue 9 compares with bpftrace's one-liner started in the same series (interleaved).
      const oneLinerMs = r.startup?.find((row) => row.tracer === 'bpftrace one-liner' || row.tracer === ONE_LINER_REFERENCE)?.readyMs?.median ?? floorOneLinerMs;
      const ts: Table[] = [];
      if (r.startup) ts.push({ ...startupTable(name, r.startup, oneLinerMs), notes: [issue9Note(r.startup, r.resources, oneLinerMs)] });
      if (r.resources) ts.push(resourcesTable(name, r.resources, opts.loadSeconds, tool.event));
      if (r.overhead) ts.push(overheadTable(name, r.overhead));
      for (const v of r.variants ?? []) ts.push(overheadTable(name, v));
      if (r.burst) ts.push(burstTable(r.burst));
      if (r.flows || r.drain) ts.push(flowsTable(r.flows, r.drain));
      if (r.xdp) ts.push(xdpVethTable(r.xdp));
      if (r.sampling) ts.push(profileSamplingTable(r.sampling, opts.loadSeconds));
      show(name, ts);
      writeResults(results, resultsFile);
    }
    if (!skip.has('binding')) {
      log('binding: CPU per event, Node vs Python');
      results.binding = await eventCost(bench);
      show('binding', [bindingTable(results.binding)]);
    }
    if (!skip.has('exporter')) {
      results.exporter = await exporter(bench);
      show('exporter', [exporterTable(results.exporter)]);
    }
  } finally {
    await stopAll();
    loop?.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  results.cleanup = await verifyCleanup(bench, loop, dir);
  results.durationSeconds = Math.round((Date.now() - t0) / 1000);
  writeResults(results, resultsFile);
  const c = results.cleanup;
  process.stdout.write(`\nrun took ${results.durationSeconds} s; cleanup: ${c.clean ? 'nothing left behind' : 'LEFT BEHIND'} ` +
    `(${c.processesStarted} processes started, ${c.programsChecked} programs checked gone, loop device ${c.loopDevice ?? 'none'} removed)\n`);
  if (!c.clean) process.stdout.write(`${JSON.stringify(c)}\n`);
  if (readme && results.complete) updateReadme(results, tables);
  else if (readme) log('partial run: test/bench/README.md left as it is');
  log(`results in ${resultsFile === RESULTS ? path.relative(REPO, RESULTS) : resultsFile}`);
}

function writeResults(results: Results, file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(results, null, 2)}\n`);
  fs.renameSync(`${file}.tmp`, file);
}

/** Replaces what is between the README's result markers with this run's tables. */
function updateReadme(results: Results, tables: Array<{ tool: string; tables: Table[] }>): void {
  const begin = '<!-- bench results: begin (written by test/bench/run.ts) -->';
  const end = '<!-- bench results: end -->';
  let text: string;
  try { text = fs.readFileSync(README, 'utf8'); } catch { return; }
  const at = text.indexOf(begin);
  const until = text.indexOf(end);
  if (at < 0 || until < at) { log('README.md has no result markers: not updated'); return; }
  const m = results.machine;
  const body = [
    `Run of ${results.date.slice(0, 16).replace('T', ' ')} UTC, ${results.durationSeconds} s, on ${m.cpus} × ${m.cpuModel}, ${m.memoryGB} GB, ` +
      `kernel ${m.kernel}, ${m.distribution}; node ${m.node}, bcc ${m.bcc}, ${m.bpftrace}, ${m.python3}; load average at start ${m.loadavgAtStart}. ` +
      `Our tools: ${results.setup.installed === 'no' ? `checkout through tsx only (npm pack failed: ${results.setup.packError})` : 'installed from the packed tarball, and the checkout through tsx'}.`,
    '',
    ...tables.flatMap((t) => t.tables.map(renderMarkdown)),
  ].join('\n');
  fs.writeFileSync(README, `${text.slice(0, at + begin.length)}\n${body}\n${text.slice(until)}`);
  log('tables written to test/bench/README.md');
}

await main();
