// `make test-vm`: each tool's kernel tests on the kernels users run. For every kernel asked for,
// its stock packages are fetched (fetch-kernel.ts), an initramfs is built (initramfs.ts), and a
// QEMU guest boots it on this machine's root filesystem (read-only, overlaid) and runs the same
// test files as `make test` (guest.sh); "host" runs them here, on this machine's kernel. Each
// kernel's outcome, per tool, with the attach points the tools chose, goes to
// test/vm/results/<kernel>.json and the tables in test/vm/README.md.
//   node --import tsx test/vm/run.ts [--kernel host,debian12] [--tests FILES] ...   (as root)
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import minimist from 'minimist';
import { TOOL_NAMES } from '../../tools/index.ts';
import { boot } from './boot.ts';
import { fetchKernel } from './fetch-kernel.ts';
import { buildInitramfs } from './initramfs.ts';
import { DEFAULT_KERNELS, DEFAULT_TESTS, HOST, KERNELS, kernelSpec } from './kernels.ts';
import { parseTap, type TapFile } from './tap.ts';
import { readText } from './text-file.ts';
import { duration, renderTables, replaceBetweenMarkers, summarize, type KernelRun } from './report.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const RESULTS_DIR = path.join(import.meta.dirname, 'results');
const README = path.join(import.meta.dirname, 'README.md');
const GUEST_SCRIPT = path.join(import.meta.dirname, 'guest.sh');
const CACHE = path.join(process.env.BPFKIT_CACHE_DIR ?? '/var/cache/bpfkit', 'vm');

const HELP = `usage: node --import tsx test/vm/run.ts [options]   (as root; make test-vm runs it)

  --kernel LIST     kernels, comma-separated (default: ${DEFAULT_KERNELS.join(',')}); known:
                    ${[HOST, ...KERNELS.map((k) => k.name)].join(', ')} ("${HOST}": this machine, no guest)
  --tests FILES     test files, space- or comma-separated (default: each tool's
                    test/kernel/<tool>.test.ts and test/kernel/conventions.test.ts)
  --cpus N          guest vCPUs (default: this machine's CPUs)
  --memory MIB      guest memory (default 4096)
  --timeout MIN     limit for one guest's whole run (default 240)
  --file-timeout MIN  limit for one test file (default 30)
`;

function fail(message: string): never {
  process.stderr.write(`test-vm: ${message}\n`);
  process.exit(2);
}

function positive(value: unknown, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) fail(`--${name} must be a positive whole number, not ${String(value)}`);
  return n;
}

const argv = minimist(process.argv.slice(2), {
  string: ['kernel', 'tests', 'cpus', 'memory', 'timeout', 'file-timeout'],
  boolean: ['help'],
  unknown: (arg) => (arg.startsWith('-') ? fail(`unknown option ${arg} (see --help)`) : true),
});
if (argv.help) { process.stdout.write(HELP); process.exit(0); }
if (argv._.length) fail(`unexpected argument ${argv._[0]}`);
if (process.geteuid?.() !== 0) fail('must run as root (the tests load BPF programs; the guest reads the whole root filesystem)');

const kernels = (argv.kernel || DEFAULT_KERNELS.join(',')).split(',').map((k: string) => k.trim()).filter(Boolean);
for (const k of kernels) if (k !== HOST && !kernelSpec(k)) fail(`unknown kernel ${k}; known: ${[HOST, ...KERNELS.map((s) => s.name)].join(', ')}`);
const customTests = Boolean(argv.tests?.trim());
const tests: string[] = customTests ? argv.tests.split(/[\s,]+/).filter(Boolean) : DEFAULT_TESTS;
for (const file of tests) {
  const full = path.resolve(REPO, file);
  if (!full.startsWith(`${REPO}/test/`) || !full.endsWith('.test.ts') || !fs.existsSync(full)) fail(`no test file ${file} under test/`);
}
const cpus = positive(argv.cpus, 'cpus', os.availableParallelism());
const memoryMiB = positive(argv.memory, 'memory', 4096);
const timeoutS = positive(argv.timeout, 'timeout', 240) * 60;
const fileTimeoutS = positive(argv['file-timeout'], 'file-timeout', 30) * 60;
if (kernels.some((k: string) => k !== HOST) && spawnSync('qemu-system-x86_64', ['--version']).status !== 0) {
  fail('qemu-system-x86_64 is missing: run make vm-deps');
}

const log = (kernel: string) => (line: string) => process.stdout.write(`test-vm[${kernel}]: ${line}\n`);

async function runOnHost(): Promise<KernelRun> {
  const started = Date.now();
  const files: KernelRun['files'] = [];
  const taps: Array<{ file: string; tap: TapFile }> = [];
  for (const file of tests) {
    const t0 = Date.now();
    const out = path.join(os.tmpdir(), `bpfkit-vm-host-${path.basename(file)}.tap`);
    fs.rmSync(out, { force: true });
    const run = spawnSync('node', ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=tap',
      `--test-reporter-destination=${out}`, '--test-reporter=spec', '--test-reporter-destination=stdout', file],
    { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'], timeout: fileTimeoutS * 1000, env: { ...process.env, CI: 'true' } });
    files.push({ file, exit: run.status, seconds: Math.round((Date.now() - t0) / 1000) });
    taps.push({ file: path.basename(file), tap: parseTap(readText(out)) });
    log(HOST)(`${file}: exit ${run.status} in ${Math.round((Date.now() - t0) / 1000)} s`);
  }
  return {
    kernel: HOST, title: 'this machine', release: os.release(), packages: [], date: today(), how: 'host', cpus: os.availableParallelism(),
    bootSeconds: null, wallSeconds: Math.round((Date.now() - started) / 1000), files, ...outcome(files, taps),
  };
}

async function runInGuest(name: string): Promise<KernelRun> {
  const spec = kernelSpec(name)!;
  const say = log(name);
  const dir = path.join(CACHE, name);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const kernel = fetchKernel(spec, dir, say);
  const initramfs = buildInitramfs(kernel.modulesDir, path.join(dir, `initramfs-${kernel.release}.cpio`), say);

  // The share keeps the guest's compile cache between runs (compiling under emulation costs ~30 s
  // a program); everything else in it belongs to one run.
  const share = path.join(dir, 'share');
  for (const stale of ['tap', 'files', 'finished', 'console.log', 'job.sh']) fs.rmSync(path.join(share, stale), { recursive: true, force: true });
  fs.mkdirSync(share, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(share, 'job.sh'), [
    `REPO=${shellQuote(REPO)}`, `KERNEL_ROOT=${shellQuote(kernel.root)}`, `MODULES_DIR=${shellQuote(kernel.modulesDir)}`,
    `TIMEOUT_S=${fileTimeoutS}`, `TEST_FILES=(${tests.map(shellQuote).join(' ')})`, '',
  ].join('\n'));

  // The guest's tests run the tools from the built package (BPFKIT_TEST_BUILT in guest.sh).
  say('building dist/ (scripts/build.mjs)');
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build.mjs'], { cwd: REPO, stdio: 'inherit' });
  say(`booting ${kernel.release} (${path.basename(kernel.kernelImage)}) with ${cpus} vCPUs, ${memoryMiB} MiB, software emulation`);
  const result = await boot({
    kernelImage: kernel.kernelImage, initramfs, share, guestScript: GUEST_SCRIPT, cpus, memoryMiB, timeoutS,
    onLine: (line) => process.stdout.write(`${line}\n`),
  });
  if (result.timedOut) say(`the guest was killed after ${duration(timeoutS)}`);
  if (!fs.existsSync(path.join(share, 'finished')) && !result.timedOut) {
    say(`the guest stopped before finishing its job (qemu exit ${result.exitCode}); its console: ${path.join(share, 'console.log')}`);
  }
  const ran = readText(path.join(share, 'files')).split('\n').filter(Boolean).map((l) => l.split(' '));
  const files = tests.map((file) => {
    const line = ran.find((r) => r[0] === path.basename(file));
    return { file, exit: line ? Number(line[1]) : null, seconds: line ? Math.round(Number(line[3]) - Number(line[2])) : 0 };
  });
  const taps = tests.map((file) => ({ file: path.basename(file), tap: parseTap(readText(path.join(share, 'tap', `${path.basename(file)}.tap`))) }));
  return {
    kernel: name, title: spec.title, release: kernel.release, packages: kernel.packages, date: today(), how: 'qemu-tcg', cpus,
    bootSeconds: result.bootSeconds === null ? null : Math.round(result.bootSeconds), wallSeconds: Math.round(result.seconds), files, ...outcome(files, taps),
  };
}

/** A file that exits non-zero without a failed test (a crash, a timeout) fails the run too. */
function outcome(files: KernelRun['files'], taps: Array<{ file: string; tap: TapFile }>) {
  const summary = summarize(taps, TOOL_NAMES);
  for (const f of files) {
    if (f.exit !== 0 && !summary.failed.some((name) => name.startsWith(`${path.basename(f.file)}: `))) {
      summary.failed.push(`${path.basename(f.file)}: ${f.exit === null ? 'did not run to its end' : `exit ${f.exit}`}`);
    }
  }
  return summary;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

let failures = 0;
for (const kernel of kernels) {
  const run = kernel === HOST ? await runOnHost() : await runInGuest(kernel);
  if (run.failed.length) failures++;
  const summary = `${run.failed.length ? `${run.failed.length} failed` : 'all passed'} in ${duration(run.wallSeconds)}`;
  log(kernel)(`${run.release}: ${summary}`);
  for (const f of run.failed) log(kernel)(`  failed: ${f}`);
  // A narrowed run (--tests) is for debugging: only the default set's runs make the table.
  const out = customTests ? path.join(os.tmpdir(), `bpfkit-vm-${kernel}.json`) : path.join(RESULTS_DIR, `${kernel}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(run, null, 2)}\n`);
  log(kernel)(`results: ${path.relative(REPO, out).startsWith('..') ? out : path.relative(REPO, out)}`);
}

if (!customTests) {
  const runs = [HOST, ...KERNELS.map((k) => k.name)]
    .map((k) => path.join(RESULTS_DIR, `${k}.json`)).filter((f) => fs.existsSync(f))
    .map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as KernelRun);
  fs.writeFileSync(README, replaceBetweenMarkers(readText(README), renderTables(runs, TOOL_NAMES)));
}
process.exit(failures ? 1 : 0);
