// What every tool promises, checked on every tool: help, --ebpf, --explain, --json, clean
// detach on Ctrl-C, and one clear line with exit 2 for bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { BPF, programExists } from 'bcc-node-bindings';
import { TOOL_NAMES } from '../../tools/index.ts';
import { kernelIndependentTest } from '../helpers/guest.ts';
import { needsBpf, sleep } from '../helpers/kernel.ts';
import { REPO, runToolToEnd, startTool } from '../helpers/tool.ts';
import type { ToolConventions } from './conventions/types.ts';

/** Bad input every tool must refuse with one line on stderr and exit 2. */
const BAD_INPUT: string[][] = [
  ['--no-such-option'],
  ['-Z'],
  ['--json=yes', '--bogus'],
];

/** Each tool's own part: test/kernel/conventions/<tool>.ts (a new tool adds its file). */
const CONVENTIONS: Record<string, ToolConventions> = Object.fromEntries(await Promise.all(TOOL_NAMES.map(async (tool) =>
  [tool, (await import(`./conventions/${tool}.ts`) as { conventions: ToolConventions }).conventions])));

for (const tool of TOOL_NAMES) {
  kernelIndependentTest(`${tool}: --help prints usage and examples and exits 0`, async () => {
    const { code, stdout } = await runToolToEnd(tool, ['--help']);
    assert.equal(code, 0);
    assert.match(stdout, new RegExp(`^usage: ${tool} `));
    assert.match(stdout, /\nexamples:\n/);
    assert.match(stdout, /--json/);
  });

  kernelIndependentTest(`${tool}: the checkout's file runs as a command from any directory`, () => {
    // `sudo ./tools/syscount.ts -p 1234`: the executable bit and the sh launcher line (which finds
    // the checkout's tsx and drops NODE_EXTRA_CA_CERTS) are what make that work.
    // A bundle that does not exist would make node warn on stderr, were the variable kept.
    const run = spawnSync(path.join(REPO, 'tools', `${tool}.ts`), ['--help'], {
      cwd: os.tmpdir(), encoding: 'utf8', env: { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem' },
    });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^usage: ${tool} `));
    assert.equal(run.stderr, '');
  });

  test(`${tool}: --ebpf prints a program that compiles`, async (t) => {
    if (!needsBpf(t)) return;
    const { code, stdout } = await runToolToEnd(tool, ['--ebpf']);
    assert.equal(code, 0);
    const bpf = new BPF({ text: stdout, autoAttach: false });
    assert.ok(bpf.functionNames().length > 0);
    bpf.close();
  });

  test(`${tool}: --explain names programs that exist while it runs, and Ctrl-C unloads them`, async (t) => {
    if (!needsBpf(t)) return;
    const run = startTool(tool, ['--explain', ...(CONVENTIONS[tool].args ?? [])]);
    let ids: number[] = [];
    try {
      await run.ready;
      ids = [...run.stderr.matchAll(/^ {2}program id (\d+) /gm)].map((m) => Number(m[1]));
      assert.ok(ids.length > 0, `no program ids in --explain output:\n${run.stderr}`);
      assert.match(run.stderr, /verifier: \d+ insns processed/);
      for (const id of ids) assert.equal(programExists(id), true);
      assert.equal(await run.stop('SIGINT'), 0);
    } finally {
      await run.stop('SIGKILL');
    }
    for (let i = 0; i < 100 && ids.some(programExists); i++) await sleep(20);
    for (const id of ids) assert.equal(programExists(id), false, `program ${id} still loaded after Ctrl-C`);
  });

  test(`${tool}: SIGTERM also detaches everything`, async (t) => {
    if (!needsBpf(t)) return;
    const run = startTool(tool, ['--explain', ...(CONVENTIONS[tool].args ?? [])]);
    let ids: number[] = [];
    try {
      await run.ready;
      ids = [...run.stderr.matchAll(/^ {2}program id (\d+) /gm)].map((m) => Number(m[1]));
      assert.ok(ids.length > 0);
      await run.stop('SIGTERM');
    } finally {
      await run.stop('SIGKILL');
    }
    for (let i = 0; i < 100 && ids.some(programExists); i++) await sleep(20);
    for (const id of ids) assert.equal(programExists(id), false);
  });

  test(`${tool}: --json lines parse`, async (t) => {
    if (!needsBpf(t)) return;
    const run = startTool(tool, CONVENTIONS[tool].jsonRun);
    try {
      await run.ready;
      // Something for every tool to see: execs, syscalls, and (for tcptop) nothing needed.
      for (let i = 0; i < 3; i++) await runToolToEnd(tool, ['--help']);
      await sleep(1500);
      await run.stop('SIGINT');
    } finally {
      await run.stop('SIGKILL');
    }
    const lines = run.stdout.split('\n').filter(Boolean);
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
    if (!CONVENTIONS[tool].jsonMayBeEmpty) assert.ok(lines.length > 0, 'no JSON output');
  });

  for (const args of [...BAD_INPUT, ...CONVENTIONS[tool].badInput]) {
    kernelIndependentTest(`${tool} ${args.join(' ')}: one line on stderr, exit 2`, async () => {
      const { code, stdout, stderr } = await runToolToEnd(tool, args);
      assert.equal(code, 2, `exit ${code}; stderr: ${stderr}`);
      assert.equal(stderr.trimEnd().split('\n').length, 1, `expected one line, got:\n${stderr}`);
      assert.match(stderr, new RegExp(`^${tool}: `));
      assert.equal(stdout, '');
    });
  }
}

kernelIndependentTest('a tool run by a user without root says so in one line and exits 2', async () => {
  const { code, stderr } = await runToolToEnd('syscount', ['-d', '1'], { uid: 65534 });
  assert.equal(code, 2);
  assert.match(stderr, /^syscount: must run as root/);
});
