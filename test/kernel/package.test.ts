// What a user gets from the registry: the packed tarball, run with npx in an empty folder. It must
// carry the bin entries, the compiled tools, the binding and the C programs, and run as is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { needsBpf } from '../helpers/kernel.ts';
import { REPO } from '../helpers/tool.ts';
import { TOOL_NAMES } from '../../tools/index.ts';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bpfkit-pack-'));
process.on('exit', () => fs.rmSync(work, { recursive: true, force: true }));

function pack(): string {
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: REPO, encoding: 'utf8' });
  return path.join(work, out.trim().split('\n').pop()!);
}

function npx(tarball: string, args: string[]): { code: number; stdout: string; stderr: string } {
  const empty = fs.mkdtempSync(path.join(work, 'user-'));
  try {
    const stdout = execFileSync('npx', ['--yes', `./${path.relative(empty, tarball)}`, ...args], {
      cwd: empty, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000,
      // A cache of its own: what is installed comes from this tarball, not from an earlier run.
      env: { ...process.env, npm_config_cache: path.join(work, 'npm-cache'), npm_config_update_notifier: 'false' },
    });
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

test('the packed tarball carries the compiled tools, the binding and the C programs', () => {
  const tarball = pack();
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
  for (const f of ['package/dist/bin/bpfkit.js', 'package/dist/tools/syscount/syscount.js', 'package/dist/compile-worker.js',
    'package/tools/syscount/syscount.bpf.c', 'package/bpf/include/bpfkit/task.h', 'package/node_modules/bcc-node-bindings/package.json']) {
    assert.ok(files.includes(f), `${f} missing from the tarball`);
  }
  assert.ok(!files.some((f) => f.startsWith('package/test/')), 'tests do not ship');
});

test('npx <tarball> --list and npx <tarball> syscount -d 1 run from an empty folder', (t) => {
  if (!needsBpf(t)) return;
  const tarball = pack();
  const list = npx(tarball, ['--list']);
  assert.equal(list.code, 0, list.stderr);
  for (const tool of TOOL_NAMES) assert.match(list.stdout, new RegExp(`^${tool} `, 'm'));
  const run = npx(tarball, ['syscount', '-d', '1']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^Tracing syscalls, printing top 10\.\.\. Ctrl\+C to quit\./m);
  assert.match(run.stdout, /^SYSCALL +COUNT$/m);
  assert.match(run.stdout, /^Detaching\.\.\.$/m);
  // The course ships too: its table of contents, its pages, and a step that runs its workload.
  const learn = npx(tarball, ['learn']);
  assert.equal(learn.code, 0, learn.stderr);
  assert.match(learn.stdout, /^ 1  hello: /m);
  const page = npx(tarball, ['learn', '2', '--page']);
  assert.equal(page.code, 0, page.stderr);
  assert.match(page.stdout, /^# Step 2: /);
  const step = npx(tarball, ['learn', '1']);
  assert.equal(step.code, 0, step.stderr);
});

test("the installed package's commands run from their bin links, without Node's extra CA bundle", () => {
  const tarball = pack();
  const prefix = fs.mkdtempSync(path.join(work, 'prefix-'));
  execFileSync('npm', ['install', '--silent', '--no-audit', '--no-fund', '--prefix', prefix, tarball], {
    stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000,
    env: { ...process.env, npm_config_cache: path.join(work, 'npm-cache'), npm_config_update_notifier: 'false' },
  });
  for (const tool of ['bpfkit', ...TOOL_NAMES]) {
    // Were the variable kept, node would warn on stderr about the bundle that is not there.
    const run = spawnSync(path.join(prefix, 'node_modules/.bin', tool), ['--help'], {
      cwd: os.tmpdir(), encoding: 'utf8', env: { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem' },
    });
    assert.equal(run.status, 0, `${tool}: ${run.stderr}`);
    assert.match(run.stdout, new RegExp(`^usage: ${tool} `));
    assert.equal(run.stderr, '', tool);
  }
});
