// What every step of the course needs besides eBPF itself, kept out of the steps so that they
// read as eBPF programs: options (--seconds, --help), a known workload built from C with gcc, and
// one line on stderr with status 2 for bad input, as bpfkit's tools do.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isBpfError } from 'bcc-node-bindings';
import { PACKAGE_ROOT } from '../../lib/run/paths.ts';

/**
 * The course's own directory in the checkout or the installed package: a step that keeps its C
 * beside it reads `courseFile('02-maps.bpf.c')` (compiled steps run from dist/, away from it).
 */
export const COURSE_DIR = path.join(PACKAGE_ROOT, 'examples', 'learn');
export const courseFile = (name: string): string => path.join(COURSE_DIR, name);

const WORKLOAD_SOURCES = path.join(COURSE_DIR, 'workloads');
const WORKLOAD_BUILDS = path.join(os.tmpdir(), `bpfkit-learn-${process.getuid?.() ?? 0}`);

// A step stopped by its surroundings (not root, no libbcc, a kernel without the feature) says so in
// one line and exits 2, as the tools do; a program the verifier or clang refuses (after an edit
// from a page's "Try this") shows its message and the log's last lines. Anything else is a bug
// in the step, and keeps its stack trace.
const SURROUNDINGS = new Set(['NOT_ROOT', 'LIBBCC_MISSING', 'TRACEFS_MISSING', 'HEADERS_MISSING', 'NOT_SUPPORTED', 'ATTACH_MISSING']);
process.on('uncaughtException', (err) => {
  if (!isBpfError(err)) {
    process.stderr.write(`${err.stack ?? String(err)}\n`);
    process.exit(1);
  }
  const tail = err.code === 'VERIFIER' || err.code === 'COMPILE' ? `\n${err.log ?? ''}`.trimEnd() : '';
  process.stderr.write(`bpfkit learn: ${err.message}${tail}\n`);
  process.exit(SURROUNDINGS.has(err.code) ? 2 : 1);
});

/** Ends the step with one line on stderr and status 2: the tools' convention for bad input. */
export function usageError(step: string, message: string): never {
  process.stderr.write(`${step}: ${message}\n`);
  process.exit(2);
}

export interface StepOptions {
  /** How long the step watches (or, for a step that waits on its workload, the longest it waits). */
  seconds: number;
  /** The arguments after the options, for steps that take any. */
  rest: string[];
}

/**
 * Reads `--help` and, for a step that watches for a while, `--seconds N` (1-3600; `seconds` says
 * what the number means for that step). A step that only loads programs takes no --seconds
 * (`seconds` null): it ends when it is done, and the option is refused as unknown.
 */
export function stepOptions(step: string, usage: string, seconds: { default: number; help: string } | null): StepOptions {
  const args = process.argv.slice(2);
  const options: StepOptions = { seconds: seconds?.default ?? 0, rest: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '-h' || arg === '--help') {
      process.stdout.write(`${usage}\n${seconds ? `  --seconds N   ${seconds.help} (default ${seconds.default})\n` : ''}`);
      process.exit(0);
    } else if (seconds && (arg === '--seconds' || arg.startsWith('--seconds='))) {
      const text = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[++i];
      if (text === undefined || !/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 3600) {
        usageError(step, `--seconds needs a whole number from 1 to 3600, not ${JSON.stringify(text ?? '')}`);
      }
      options.seconds = Number(text);
    } else if (arg.startsWith('-')) {
      usageError(step, `unknown option ${arg} (--help shows the options)`);
    } else {
      options.rest.push(arg);
    }
  }
  return options;
}

/**
 * The workload examples/learn/workloads/<name>.c, compiled once with gcc (make deps installs it)
 * and rebuilt when its source changes. A workload does exactly what its comment says, so that a
 * step can print what the program should have seen beside what it saw.
 */
export function workload(name: string): string {
  const source = path.join(WORKLOAD_SOURCES, `${name}.c`);
  const binary = path.join(WORKLOAD_BUILDS, name);
  fs.mkdirSync(WORKLOAD_BUILDS, { recursive: true });
  if (!fs.existsSync(binary) || fs.statSync(binary).mtimeMs < fs.statSync(source).mtimeMs) {
    const partial = `${binary}.${process.pid}`;
    execFileSync('gcc', ['-O2', '-o', partial, source]);
    fs.renameSync(partial, binary);
  }
  return binary;
}

export interface Finished {
  pid: number;
  status: number | null;
  stdout: string;
}

/** Workloads still running: a step that ends early (Ctrl-C, an error) takes them with it. */
const running = new Set<ChildProcess>();
process.on('exit', () => { for (const child of running) child.kill('SIGKILL'); });

/** Runs a command to its end, keeping its stdout; the promise settles once it has exited. */
export function run(command: string, args: string[] = []): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    running.add(child);
    child.on('exit', () => running.delete(child));
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.on('error', reject);
    child.on('close', (status) => resolve({ pid: child.pid ?? 0, status, stdout }));
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
