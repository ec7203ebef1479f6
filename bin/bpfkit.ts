#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// (The two lines above run this file with the checkout's tsx from any directory: sh runs line 2,
// for TypeScript it is a comment. The installed package's dist/ files start the same way, without
// tsx. NODE_EXTRA_CA_CERTS is dropped because Node parses that CA bundle before running any code,
// about 35-60 ms here, and no tool makes a TLS connection: `sudo` drops it too, by env_reset.)
//
// bpfkit: one entry point for every tool. `bpfkit execsnoop -t` runs tools/execsnoop/execsnoop with "-t";
// `bpfkit --list` shows what there is.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import util from 'node:util';
import fs from 'node:fs';
import { REGISTRY, toolInfo } from '../tools/index.ts';
import { STEPS, stepBase, stepByNumber } from '../examples/learn/steps.ts';
import { versionLine } from '../lib/run/version.ts';

const USAGE = 'usage: bpfkit <tool> [options]   |   bpfkit --list   |   bpfkit <tool> --help   |   bpfkit --version   |   bpfkit learn [N]';
const here = fileURLToPath(import.meta.url);
const [first] = process.argv.slice(2);

/**
 * bpfkit's own output, written at once. A reader that went away (`bpfkit --list | head -1`) is a
 * normal end; any other write error (a full disk) is one line and status 1.
 */
function print(text: string): void {
  // Reported by the write's callback below; unheard, the event would end in a stack trace.
  process.stdout.on('error', () => {});
  process.stdout.write(text, (err?: NodeJS.ErrnoException | null) => {
    if (!err || err.code === 'EPIPE') return;
    const known = typeof err.errno === 'number' ? util.getSystemErrorMap().get(err.errno) : undefined;
    process.stderr.write(`bpfkit: cannot write output: ${known ? `${known[1]} (${known[0]})` : err.message}\n`);
    process.exitCode = 1;
  });
}
process.stderr.on('error', () => {});

if (first === '--list' || first === '-l') {
  const width = Math.max(...REGISTRY.map((t) => t.name.length));
  print(REGISTRY.map((t) => `${t.name.padEnd(width)}  ${t.summary}\n`).join(''));
} else if (first === '-h' || first === '--help') {
  print(`${USAGE}\n`);
} else if (first === '--version') {
  print(versionLine('bpfkit'));
} else if (first === 'learn') {
  await learn(process.argv.slice(3));
} else if (first === undefined) {
  // Not asked for: a mistake, so stderr and status 2, as for an unknown tool.
  process.stderr.write(`${USAGE}\n`);
  process.exitCode = 2;
} else if (!toolInfo(first)) {
  process.stderr.write(`bpfkit: no tool named ${JSON.stringify(first)} (bpfkit --list shows them)\n`);
  process.exitCode = 2;
} else {
  // The tool reads its options from process.argv as if it had been run directly.
  process.argv.splice(2, 1);
  const tool = path.join(path.dirname(here), '..', 'tools', first, `${first}${path.extname(here)}`);
  await import(pathToFileURL(tool).href);
}

/**
 * The course (examples/learn/): with no number, its steps one per line; with one, runs that
 * step's program (its options follow the number) or prints its page (--page).
 */
async function learn(args: string[]): Promise<void> {
  const [which, ...rest] = args;
  if (which === undefined) {
    print(`${STEPS.map((s) => `${String(s.n).padStart(2)}  ${s.title}\n`).join('')}`
      + 'Run one with `sudo bpfkit learn N`; read its page with `bpfkit learn N --page`.\n');
    return;
  }
  const step = stepByNumber(which);
  if (!step) {
    process.stderr.write(`bpfkit learn: no step ${JSON.stringify(which)} (the steps are 1 to ${STEPS.length}; bpfkit learn lists them)\n`);
    process.exitCode = 2;
    return;
  }
  if (rest.includes('--page')) {
    // The pages sit beside the programs in a checkout and under the package root once installed.
    const pages = ['..', '../..'].map((up) => path.join(path.dirname(here), up, 'examples', 'learn', `${stepBase(step)}.md`));
    const page = pages.find((p) => fs.existsSync(p));
    if (!page) {
      process.stderr.write(`bpfkit learn: the page of step ${step.n} is missing from this installation\n`);
      process.exitCode = 2;
      return;
    }
    print(fs.readFileSync(page, 'utf8'));
    return;
  }
  process.argv.splice(2, 2);
  const program = path.join(path.dirname(here), '..', 'examples', 'learn', `${stepBase(step)}${path.extname(here)}`);
  await import(pathToFileURL(program).href);
}
