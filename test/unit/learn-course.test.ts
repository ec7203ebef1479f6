// The course's shape (examples/learn/): every step of the table of contents has its program and
// its page, the programs stay short enough to read, `bpfkit learn` lists, pages and refuses as
// the tools do, and the README points at every step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { STEPS, stepBase, stepByNumber } from '../../examples/learn/steps.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const COURSE = path.join(ROOT, 'examples', 'learn');
const BPFKIT = path.join(ROOT, 'bin', 'bpfkit.ts');

test('ten steps numbered 1 to 10, each with its program and its page', () => {
  assert.deepEqual(STEPS.map((s) => s.n), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  for (const step of STEPS) {
    const program = path.join(COURSE, `${stepBase(step)}.ts`);
    const page = fs.readFileSync(path.join(COURSE, `${stepBase(step)}.md`), 'utf8');
    assert.ok(fs.existsSync(program), program);
    assert.match(page, new RegExp(`^# Step ${step.n}: `), `${stepBase(step)}.md starts with its title`);
    assert.match(page, new RegExp(`bpfkit learn ${step.n}\\b`), `${stepBase(step)}.md says how to run it`);
  }
});

test('each step\'s program is at most about 60 lines of code (comments and blank lines aside)', () => {
  for (const step of STEPS) {
    const lines = fs.readFileSync(path.join(COURSE, `${stepBase(step)}.ts`), 'utf8').split('\n');
    const code = lines.filter((l) => l.trim() !== '' && !/^\s*(\/\/|\/\*|\*)/.test(l));
    assert.ok(code.length <= 66, `${stepBase(step)}.ts has ${code.length} lines of code`);
  }
});

test('stepByNumber takes only the numbers of the table of contents', () => {
  assert.equal(stepByNumber('3')?.slug, STEPS[2].slug);
  assert.equal(stepByNumber('03')?.n, 3);
  for (const bad of ['0', '11', '-1', '1.5', 'x', '', '3 ', '100']) assert.equal(stepByNumber(bad), undefined, bad);
});

test('bpfkit learn lists the steps one per line; learn N --page prints the page', () => {
  const list = spawnSync(BPFKIT, ['learn'], { encoding: 'utf8' });
  assert.equal(list.status, 0);
  assert.equal(list.stderr, '');
  const lines = list.stdout.trimEnd().split('\n');
  assert.deepEqual(lines.slice(0, STEPS.length), STEPS.map((s) => `${String(s.n).padStart(2)}  ${s.title}`));
  const page = spawnSync(BPFKIT, ['learn', '3', '--page'], { encoding: 'utf8' });
  assert.equal(page.status, 0);
  assert.equal(page.stdout, fs.readFileSync(path.join(COURSE, `${stepBase(STEPS[2])}.md`), 'utf8'));
});

test('bpfkit learn with a step that does not exist, or a bad option: one line on stderr, status 2', () => {
  for (const args of [['learn', '11'], ['learn', 'zero'], ['learn', '1', '--seconds', '0'], ['learn', '1', '--nosuch'], ['learn', '3', '--seconds', '5']]) {
    const run = spawnSync(BPFKIT, args, { encoding: 'utf8' });
    assert.equal(run.status, 2, args.join(' '));
    assert.equal(run.stdout, '');
    assert.equal(run.stderr.split('\n').length, 2, `${args.join(' ')}: ${run.stderr}`);
  }
});

test('a step run without root says so in one line, status 2, as the tools do', () => {
  // As nobody when the suite runs as root; as whoever runs it otherwise.
  const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const run = spawnSync(BPFKIT, ['learn', '1'], { encoding: 'utf8', cwd: '/', ...asNobody });
  assert.equal(run.status, 2, run.stderr);
  assert.equal(run.stdout, '');
  assert.equal(run.stderr, 'bpfkit learn: must run as root (BPF needs CAP_BPF and CAP_PERFMON): try sudo\n');
});

test('the README\'s Learn eBPF section names every step', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Learn eBPF'));
  assert.ok(readme.includes('## Learn eBPF'));
  for (const step of STEPS) assert.ok(section.includes(`examples/learn/${stepBase(step)}.md`), stepBase(step));
});
