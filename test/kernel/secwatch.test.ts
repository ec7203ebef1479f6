// secwatch against the real kernel: a small C program (test/workloads/secwatch-steps.c) runs each
// trigger and near miss of the default rules as a child whose PID it prints (and the grandchildren
// that matter), so every alert is matched to the step that must raise it, exactly once, and the
// near misses and the workload's other processes raise none. Other tests run meanwhile: alerts
// are filtered by the workload's PIDs, and enforcing rules watch paths below this file's own
// temporary directories only.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { kernelBtfOrNull, rawTracepointSupported, tracepointExists } from 'bcc-node-bindings';
import { needsBpf } from '../helpers/kernel.ts';
import { expectedEventRecords, explainedChoices, firstUsable, reportChoices } from '../helpers/attach.ts';
import { freePort, scrape } from '../helpers/http.ts';
import { REPO, runToolToEnd, startInTest, stopAll } from '../helpers/tool.ts';
import { TIME_SCALE } from '../helpers/guest.ts';
import { workload } from '../helpers/workloads.ts';

const COMM = 'secwatch-steps';
const DEFAULT_RULES = path.join(REPO, 'tools', 'secwatch', 'default-rules.yaml');
/** Falco's json_output keys, in its order. */
const FALCO_KEYS = ['hostname', 'output', 'output_fields', 'priority', 'rule', 'source', 'tags', 'time'];
/** Read from the YAML itself, not through the tool's loader: the alert must carry what the file says. */
const RULES = new Map((parse(fs.readFileSync(DEFAULT_RULES, 'utf8')) as Array<{ id: string; name: string; priority: string; message: string; tags: string[] }>)
  .map((r) => [r.id, r]));
const MODULES = fs.existsSync('/proc/modules');
/**
 * Falco's container.id for this test's children: "host" in PID 1's mount namespace. Where PID 1's
 * is hidden (a sandbox refuses even root), secwatch takes its own, which is this test's.
 */
const CONTAINER = (() => {
  try { return fs.statSync('/proc/1/ns/mnt').ino === fs.statSync('/proc/self/ns/mnt').ino ? 'host' : 'container'; } catch { return 'host'; }
})();

type Fields = Record<string, string | number | boolean | null>;
interface Alert { hostname: string; output: string; output_fields: Fields; priority: string; rule: string; source: string; tags: string[]; time: string }

function scratch(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpfkit-secwatch-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A file the test makes outside its scratch directory: removed however the test ends. */
function removedAfter(t: TestContext, file: string): string {
  t.after(() => fs.rmSync(file, { recursive: true, force: true }));
  return file;
}

interface Step { name: string; argv: string[] }
interface Ran { name: string; pid: number; exit?: number; signal?: number; subs: Record<string, number> }

/** Runs the steps in one `secwatch-steps run`: its PID and each step's PID, status and grandchildren. */
async function runSteps(t: TestContext, steps: Step[]): Promise<{ pid: number; ran: Ran[] }> {
  const child = spawn(workload('secwatch-steps'), ['run'], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000 * TIME_SCALE);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stdin!.end(steps.map((s) => `${s.name}\t${s.argv.join('\t')}\n`).join(''));
  const [code] = await once(child, 'close');
  clearTimeout(timer);
  assert.equal(code, 0, out);
  assert.match(out, /^done$/m);
  const ran: Ran[] = [];
  let subs: Record<string, number> = {};
  for (const line of out.split('\n')) {
    const sub = /^sub (\S+) (\d+)$/.exec(line);
    if (sub) subs[sub[1]] = Number(sub[2]);
    const step = /^step (\S+) (\d+) (exit|signal) (\d+)$/.exec(line);
    if (step) {
      ran.push({ name: step[1], pid: Number(step[2]), [step[3]]: Number(step[4]), subs });
      subs = {};
    }
  }
  assert.deepEqual(ran.map((r) => r.name), steps.map((s) => s.name));
  return { pid: child.pid!, ran };
}

const jsonAlerts = (stdout: string): Alert[] => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Alert);

/** The workload's alerts by step name (a descendant not printed counts for its parent step); any other of its processes' alerts fails. */
function alertsBySteps(alerts: Alert[], runner: number, ran: Ran[]): Map<string, Alert[]> {
  const owner = new Map<number, string>();
  for (const r of ran) {
    owner.set(r.pid, r.name);
    for (const pid of Object.values(r.subs)) owner.set(pid, r.name);
  }
  const by = new Map<string, Alert[]>(ran.map((r) => [r.name, []]));
  for (const a of alerts) {
    const pid = Number(a.output_fields['proc.pid']);
    const ppid = Number(a.output_fields['proc.ppid']);
    if (pid === runner) assert.fail(`an alert from the workload itself: ${a.output}`);
    const step = owner.get(pid) ?? owner.get(ppid);
    if (step !== undefined) by.get(step)!.push(a);
    else if (ppid === runner) assert.fail(`an alert from a child the workload did not print: ${a.output}`);
  }
  return by;
}

/** What an alert of the rule `id` must say beyond its event's own fields. */
function assertRuleAlert(a: Alert, id: string, fields: Fields): void {
  const rule = RULES.get(id)!;
  assert.equal(a.rule, rule.name);
  assert.equal(a.priority, rule.priority);
  assert.deepEqual(a.tags, [...new Set(rule.tags)].sort());
  assert.equal(a.output_fields['bpfkit.rule'], id);
  assert.equal(a.output_fields['user.uid'], 0);
  assert.equal(a.output_fields['container.id'], CONTAINER);
  for (const [key, value] of Object.entries(fields)) assert.equal(a.output_fields[key], value, `${id}: ${key} in ${a.output}`);
  assert.match(a.output, new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{9}: ${rule.priority} ${escape(rule.message)}`));
  assert.ok(a.output.includes(` bpfkit.rule=${id} `), a.output);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Falco's JSON shape, checked on every alert a run printed. */
function assertFalcoShape(a: Alert): void {
  assert.deepEqual(Object.keys(a), FALCO_KEYS);
  assert.equal(a.source, 'syscall');
  assert.equal(a.hostname, os.hostname());
  assert.match(a.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  // The nine digits agree with the text line's (the same event time, printed twice).
  assert.equal(a.output.slice(9, 18), a.time.slice(20, 29));
  assert.ok(Array.isArray(a.tags) && a.tags.every((tag) => typeof tag === 'string'));
  const keys = Object.keys(a.output_fields);
  assert.deepEqual(keys, [...keys].sort());
  for (const key of ['evt.type', 'proc.name', 'proc.pid', 'thread.tid', 'proc.ppid', 'proc.pname', 'user.uid', 'container.id', 'bpfkit.rule', 'bpfkit.action']) {
    assert.ok(key in a.output_fields, `${key} missing: ${JSON.stringify(a)}`);
  }
}

/** What --explain should have chosen here, from the binding's probes and the tracefs listing. */
function expectedChoices(): Record<string, string> {
  const btf = kernelBtfOrNull();
  const syscalls = (purpose: string, names: string[], both: boolean, nothing?: string): [string, string] => {
    const present = names.filter((s) => tracepointExists('syscalls', `sys_enter_${s}`) && (!both || tracepointExists('syscalls', `sys_exit_${s}`)));
    return [`${purpose} (${names.join(', ')})`, firstUsable(purpose, [
      [`tracepoints syscalls:sys_${both ? 'enter/exit' : 'enter'}_{${present.join(',')}}`, () => present.length > 0],
      ...(nothing ? [[nothing, () => !MODULES] as [string, () => boolean]] : []),
    ])];
  };
  return Object.fromEntries([
    ['exec (the program run, once loaded)', firstUsable('exec', [
      ['raw tracepoint sched_process_exec (the file run, its path resolved in the kernel)',
        () => rawTracepointSupported() && btf?.rawTracepointArg('sched_process_exec', 'linux_binprm') !== undefined
          && ['file', 'filename', 'interp'].every((f) => btf.hasField('linux_binprm', f))],
      ['tracepoint sched:sched_process_exec (the name exec was given, resolved from the working directory)', () => true],
    ])],
    syscalls('open', ['open', 'openat', 'openat2', 'creat'], true),
    syscalls('ptrace', ['ptrace'], false),
    syscalls('module', ['init_module', 'finit_module'], false,
      'nothing to watch: this kernel cannot load modules (CONFIG_MODULES is off; both calls return ENOSYS)'),
    syscalls('chmod', ['chmod', 'fchmodat', 'fchmodat2', 'fchmod'], false),
    syscalls('link', ['symlink', 'symlinkat', 'link', 'linkat'], false),
    syscalls('dup', ['dup2', 'dup3'], false),
    syscalls('truncate', ['truncate', 'ftruncate'], false),
    ['alert records', expectedEventRecords()],
  ]);
}

test('each default rule: its trigger raises exactly one alert with its fields, its near miss none; Falco\'s JSON shape; --explain\'s attach points', async (t) => {
  if (!needsBpf(t)) return;
  const dir = scratch(t);
  const tag = `bpfkit-secwatch-test-${process.pid}`;
  const etc = removedAfter(t, `/etc/${tag}`);
  const bin = removedAfter(t, `/usr/local/bin/${tag}`);
  const log = removedAfter(t, `/var/log/${tag}.log`);
  const shm = removedAfter(t, `/dev/shm/${tag}`);
  fs.mkdirSync(shm);
  fs.copyFileSync('/bin/true', `${shm}/true`);
  fs.chmodSync(`${shm}/true`, 0o755);
  fs.writeFileSync(`${shm}/script.sh`, '#!/bin/sh\ntrue\n', { mode: 0o755 });
  const modeFile = path.join(dir, 'mode');
  fs.writeFileSync(modeFile, '');
  const notModule = path.join(dir, 'not-a-module.ko');
  fs.writeFileSync(notModule, 'not an ELF module\n');
  // A hard link to /etc/shadow can be made only on /etc's file system.
  const hardLinkable = fs.statSync('/etc').dev === fs.statSync(dir).dev;

  // [step, argv, rule it must raise (none: a near miss), fields, the grandchild that raises it]
  const plan: Array<[string, string[], string | null, Fields, string?]> = [
    ['cat-shadow', ['/bin/cat', '/etc/shadow'], 'sensitive-read', { 'fd.name': '/etc/shadow', 'evt.arg.flags': 'O_RDONLY', 'proc.name': 'cat' }],
    ['cat-hostname', ['/bin/cat', '/etc/hostname'], null, {}],
    ['write-etc', ['/bin/sh', '-c', `echo x > ${etc}`], 'write-etc', { 'fd.name': etc, 'evt.arg.flags': 'O_WRONLY|O_CREAT|O_TRUNC', 'proc.name': 'sh' }],
    ['read-etc', ['/bin/cat', etc], null, {}],
    ['write-bin', ['/bin/sh', '-c', `echo x > ${bin}`], 'write-bin', { 'fd.name': bin, 'evt.arg.flags': 'O_WRONLY|O_CREAT|O_TRUNC' }],
    ['read-bin', ['/bin/cat', '/usr/bin/env'], null, {}],
    ['shm-binary', [`${shm}/true`], 'shm-exec', { 'proc.exepath': `${shm}/true`, 'proc.name': 'true', 'evt.type': 'execve' }],
    ['shm-script', [`${shm}/script.sh`], 'shm-exec', { 'proc.exepath': `${shm}/script.sh`, 'proc.name': 'script.sh' }],
    ['true', ['/bin/true'], null, {}],
    ['memfd', ['@memfd'], 'memfd-exec', { 'proc.exepath': '/memfd:bpfkit-secwatch' }],
    ['chmod-755', ['/bin/chmod', '755', modeFile], null, {}],
    ['chmod-setuid', ['/bin/chmod', 'u+s', modeFile], 'setuid-bit', { 'fd.name': modeFile, 'evt.arg.mode': '04755', 'proc.name': 'chmod' }],
    ['symlink-hostname', ['/bin/ln', '-s', '/etc/hostname', `${dir}/hostname-link`], null, {}],
    // Names with "." and ".." segments: the kernel lets every path condition pass, user space
    // collapses the name and decides (a prefix rule must not be sidestepped with "/x/../").
    ['symlink-hostname-dotted', ['/bin/ln', '-s', '/etc/../etc/./hostname', `${dir}/hostname-dotted`], null, {}],
    ['symlink-shadow-dotted', ['/bin/ln', '-s', '/etc/../etc//shadow', `${dir}/shadow-dotted`], 'symlink-sensitive',
      { 'fs.path.target': '/etc/shadow', 'fs.path.name': `${dir}/shadow-dotted`, 'evt.type': 'symlinkat' }],
    ['chmod-setuid-dotted', ['/bin/chmod', 'u+s', `${dir}/./../${path.basename(dir)}/mode`], 'setuid-bit', { 'fd.name': modeFile, 'evt.arg.mode': '04755' }],
    ['symlink-shadow', ['/bin/ln', '-s', '/etc/shadow', `${dir}/shadow-link`], 'symlink-sensitive',
      { 'fs.path.target': '/etc/shadow', 'fs.path.name': `${dir}/shadow-link`, 'evt.type': 'symlinkat' }],
    ...(hardLinkable ? [['hardlink-shadow', ['/bin/ln', '/etc/shadow', `${dir}/shadow-hardlink`], 'symlink-sensitive',
      { 'fs.path.target': '/etc/shadow', 'fs.path.name': `${dir}/shadow-hardlink`, 'evt.type': 'linkat' }] as [string, string[], string, Fields]] : []),
    ['pipe-stdio', ['@pipe-stdio'], null, {}],
    // fds 0-2 inherited, the listener 3: the connected socket is 4.
    ['socket-stdio', ['@sock-stdio'], 'socket-stdio', { 'evt.type': 'dup2', 'evt.arg.fd': 4, 'evt.arg.newfd': 1, 'proc.name': COMM }],
    ['traceme', ['@traceme'], null, {}],
    ['ptrace-attach', ['@ptrace-attach'], 'ptrace-attach', { 'evt.arg.request': 'PTRACE_ATTACH' }],
    ['log-append', ['/bin/sh', '-c', `echo x >> ${log}`], null, {}],
    ['log-trunc-open', ['/bin/sh', '-c', `: > ${log}`], 'log-truncate', { 'fd.name': log, 'evt.arg.flags': 'O_WRONLY|O_CREAT|O_TRUNC' }],
    ['log-truncate', ['/usr/bin/truncate', '-s', '0', log], 'log-truncate-call', { 'fd.name': log, 'proc.name': 'truncate' }],
    // The longer parent name first: a parent comm read into a reused buffer without clearing its
    // tail would then look up "nginx\0r…" and miss.
    ['worker-shell', ['@server', 'worker'], null, {}],
    ['nginx-shell', ['@server', 'nginx'], 'shell-by-server', { 'proc.name': 'sh', 'proc.pname': 'nginx', 'proc.exepath': fs.realpathSync('/bin/sh') }, 'shell'],
    ...(MODULES ? [['finit-module', ['@finit', notModule], 'module-load', { 'fd.name': notModule }] as [string, string[], string, Fields]] : []),
  ];
  // Every default rule is triggered here, but module-load where the kernel has no modules.
  assert.deepEqual(new Set(plan.map((p) => p[2]).filter((id) => id !== null)),
    new Set([...RULES.keys()].filter((id) => MODULES || id !== 'module-load')));

  const run = startInTest(t, 'secwatch', ['--json', '--explain']);
  await run.ready;
  const { pid: runner, ran } = await runSteps(t, plan.map(([name, argv]) => ({ name, argv })));
  await stopAll(run);

  for (const r of ran) assert.equal(r.exit, 0, `step ${r.name}: ${JSON.stringify(r)}`);
  const alerts = jsonAlerts(run.stdout);
  for (const a of alerts) assertFalcoShape(a);
  const by = alertsBySteps(alerts, runner, ran);
  assert.deepEqual(Object.fromEntries([...by].map(([name, list]) => [name, list.map((a) => a.output_fields['bpfkit.rule'])])),
    Object.fromEntries(plan.map(([name, , id]) => [name, id === null ? [] : [id]])), run.stdout);
  for (const [name, , id, fields, sub] of plan) {
    if (id === null) continue;
    const step = ran.find((r) => r.name === name)!;
    const [a] = by.get(name)!;
    const pid = sub === undefined ? step.pid : step.subs[sub];
    const extra: Fields = { 'proc.pid': pid, 'thread.tid': pid, 'proc.ppid': sub === undefined ? runner : step.pid, 'bpfkit.action': null };
    if (name === 'ptrace-attach') extra['evt.arg.pid'] = step.subs['ptrace-target'];
    assertRuleAlert(a, id, { ...extra, ...fields });
  }

  if (MODULES) assert.doesNotMatch(run.stderr, /module-load is inactive/);
  else {
    assert.match(run.stderr, /^secwatch: rule module-load is inactive here: nothing to watch: this kernel cannot load modules \(CONFIG_MODULES is off; both calls return ENOSYS\)$/m);
  }

  const choices = explainedChoices(run.stderr);
  reportChoices(t, 'secwatch', choices);
  assert.deepEqual(Object.fromEntries(choices.map((c) => [c.purpose, c.chosen])), expectedChoices(), run.stderr);
});

/** A rules file with a rule on exec below `dir`/bin/ and one on opening a file below `dir`/secret/. */
function execRule(dir: string, action: 'kill' | 'alert'): string {
  const file = path.join(dir, 'rules.yaml');
  fs.writeFileSync(file, [
    '- id: test-exec',
    '  name: Test exec below a test directory',
    '  priority: Critical',
    '  event: exec',
    '  when:',
    `    path_prefix: [${JSON.stringify(`${dir}/bin/`)}]`,
    '  message: Test binary run',
    `  action: ${action}`,
    '  tags: [test]',
    '- id: test-open',
    '  name: Test open below a test directory',
    '  priority: Critical',
    '  event: open',
    '  when:',
    `    path_prefix: [${JSON.stringify(`${dir}/secret/`)}]`,
    '  message: Test secret opened',
    `  action: ${action}`,
    '',
  ].join('\n'));
  fs.mkdirSync(path.join(dir, 'secret'));
  fs.writeFileSync(path.join(dir, 'secret', 'file'), 'secret\n');
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.writeFileSync(path.join(dir, 'bin', 'run.sh'), `#!/bin/sh\necho ran > ${dir}/marker\n`, { mode: 0o755 });
  return file;
}

test('kill: the script dies by SIGKILL before writing its marker, /bin/true runs; deny kills where BPF LSM is refused (EPERM where not); --dry-run kills nothing and says "would kill"', async (t) => {
  if (!needsBpf(t)) return;
  const base = scratch(t);
  const dirs = Object.fromEntries(['kill', 'deny', 'dry'].map((m) => {
    fs.mkdirSync(path.join(base, m));
    return [m, path.join(base, m)];
  })) as Record<'kill' | 'deny' | 'dry', string>;
  const rules = 'test-exec,test-open';
  const kill = startInTest(t, 'secwatch', ['--json', '--rules', execRule(dirs.kill, 'kill'), '--only', rules]);
  const deny = startInTest(t, 'secwatch', ['--json', '--rules', execRule(dirs.deny, 'alert'), '--only', rules, '--deny', rules]);
  const dry = startInTest(t, 'secwatch', ['--json', '--rules', execRule(dirs.dry, 'kill'), '--only', rules, '--dry-run']);
  await Promise.all([kill.ready, deny.ready, dry.ready]);
  const steps = (dir: string): Step[] => [
    { name: 'script', argv: [`${dir}/bin/run.sh`] }, { name: 'true', argv: ['/bin/true'] }, { name: 'open', argv: ['/bin/cat', `${dir}/secret/file`] },
  ];
  const ranKill = await runSteps(t, steps(dirs.kill));
  const ranDeny = await runSteps(t, steps(dirs.deny));
  const ranDry = await runSteps(t, steps(dirs.dry));
  await stopAll(kill, deny, dry);

  /** The one alert of the run for the workload's script (its open with `step` 'open'). */
  const only = (run: typeof kill, w: typeof ranKill, step: 'script' | 'open' = 'script'): Alert => {
    const by = alertsBySteps(jsonAlerts(run.stdout), w.pid, w.ran);
    assert.deepEqual(by.get('true'), []);
    const list = by.get(step)!;
    assert.equal(list.length, 1, run.stdout);
    assertFalcoShape(list[0]);
    assert.equal(list[0].output_fields['bpfkit.rule'], step === 'script' ? 'test-exec' : 'test-open');
    assert.equal(list[0].output_fields['proc.pid'], w.ran.find((r) => r.name === step)!.pid);
    return list[0];
  };
  const status = (w: typeof ranKill) => w.ran.map((r) => [r.name, r.exit ?? null, r.signal ?? null]);

  // The open completes and cat dies before it reads: killed at the syscall's exit.
  assert.deepEqual(status(ranKill), [['script', null, 9], ['true', 0, null], ['open', null, 9]]);
  assert.equal(only(kill, ranKill, 'open').output_fields['bpfkit.action'], 'killed');
  assert.equal(fs.existsSync(`${dirs.kill}/marker`), false);
  const killed = only(kill, ranKill);
  assert.equal(killed.output_fields['bpfkit.action'], 'killed');
  assert.equal(killed.output_fields['proc.exepath'], `${dirs.kill}/bin/run.sh`);
  assert.match(killed.output, /^\S+ Critical Test binary run \(killed\) \| /);
  assert.equal(killed.rule, 'Test exec below a test directory');
  assert.deepEqual(killed.tags, ['test']);

  assert.equal(fs.existsSync(`${dirs.deny}/marker`), false);
  const denied = only(deny, ranDeny);
  if (/^secwatch: deny rules kill instead here: /m.test(deny.stderr)) {
    // No BPF LSM here: the deny is a kill, and the first alert says why.
    t.diagnostic(`deny: BPF LSM refused here, killed instead: ${denied.output_fields['bpfkit.fallback']}`);
    assert.deepEqual(status(ranDeny), [['script', null, 9], ['true', 0, null], ['open', null, 9]]);
    assert.equal(only(deny, ranDeny, 'open').output_fields['bpfkit.action'], 'killed');
    assert.equal(denied.output_fields['bpfkit.action'], 'killed');
    assert.equal(typeof denied.output_fields['bpfkit.fallback'], 'string');
    assert.match(denied.output, /^\S+ Critical Test binary run \(killed: deny unavailable\) \| /);
  } else {
    // The exec never happens: execve fails with EPERM (the workload exits 200 + errno).
    // The open never happens either: cat says EPERM ("Operation not permitted") and exits 1.
    t.diagnostic('deny: BPF LSM programs refused the exec and the open with EPERM');
    assert.deepEqual(status(ranDeny), [['script', 201, null], ['true', 0, null], ['open', 1, null]]);
    assert.equal(only(deny, ranDeny, 'open').output_fields['bpfkit.action'], 'denied');
    assert.equal(denied.output_fields['bpfkit.action'], 'denied');
    assert.match(denied.output, /^\S+ Critical Test binary run \(denied\) \| /);
  }

  assert.deepEqual(status(ranDry), [['script', 0, null], ['true', 0, null], ['open', 0, null]]);
  assert.equal(only(dry, ranDry, 'open').output_fields['bpfkit.action'], 'would kill');
  assert.equal(fs.readFileSync(`${dirs.dry}/marker`, 'utf8'), 'ran\n');
  const held = only(dry, ranDry);
  assert.equal(held.output_fields['bpfkit.action'], 'would kill');
  assert.match(held.output, /^\S+ Critical Test binary run \(would kill: dry run\) \| /);
});

test('bad rules files and --only nosuch: exit 2, one line naming the file, line and field', async (t) => {
  const dir = scratch(t);
  const badField = path.join(dir, 'bad-field.yaml');
  fs.writeFileSync(badField, '- id: bad-field\n  event: open\n  priority: Notice\n  message: x\n  when:\n    pth: [/x]\n');
  const badYaml = path.join(dir, 'bad-yaml.yaml');
  fs.writeFileSync(badYaml, '- id: bad-yaml\n  event: open\n  priority: Notice\n  message: a: b\n');
  const [field, yaml, only] = await Promise.all([
    runToolToEnd('secwatch', ['--rules', badField]),
    runToolToEnd('secwatch', ['--rules', badYaml]),
    runToolToEnd('secwatch', ['--only', 'nosuch']),
  ]);
  for (const r of [field, yaml, only]) {
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  }
  assert.match(field.stderr, new RegExp(`^secwatch: ${escape(badField)}:6: unknown condition "pth"`));
  assert.match(yaml.stderr, new RegExp(`^secwatch: ${escape(badYaml)}:4: bad YAML: `));
  assert.match(only.stderr, /^secwatch: --only: unknown rule id nosuch /);
});

/** `secwatch-steps opens`, started and held until go(): its PID is known before it opens anything. */
async function heldOpens(t: TestContext) {
  const child = spawn(workload('secwatch-steps'), ['opens'], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  while (!/^ready \d+\n/m.test(out)) {
    if (child.exitCode !== null) throw new Error(`secwatch-steps exited (${child.exitCode}) before it was ready`);
    await once(child.stdout!, 'data');
  }
  return {
    pid: Number(/^ready (\d+)/m.exec(out)![1]),
    /** Opens each [path, times, 'r' | 'w'], then ends: the opens it made. */
    go: async (opens: Array<[string, number, 'r' | 'w']>): Promise<number> => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000 * TIME_SCALE);
      child.stdin!.end(opens.map((o) => `${o.join(' ')}\n`).join(''));
      const [code] = await once(child, 'close');
      clearTimeout(timer);
      assert.equal(code, 0, out);
      return Number(/^done (\d+)$/m.exec(out)![1]);
    },
  };
}

test('-p and --metrics: alerts counted exactly by rule and priority; a burst of 100,000 opens is printed or reported lost, to the event', async (t) => {
  if (!needsBpf(t)) return;
  const BURST = 100_000;
  const dir = scratch(t);
  fs.mkdirSync(path.join(dir, 'burst'));
  const burstFile = path.join(dir, 'burst', 'file');
  fs.writeFileSync(burstFile, '');
  const rules = path.join(dir, 'rules.yaml');
  fs.writeFileSync(rules, [
    '- id: burst-open',
    '  priority: Notice',
    '  event: open',
    '  when:',
    `    path_prefix: [${JSON.stringify(`${dir}/burst/`)}]`,
    `    comm: [${COMM}]`,
    '  message: Burst file opened',
    '',
  ].join('\n'));
  const etc = removedAfter(t, `/etc/bpfkit-secwatch-metrics-${process.pid}`);
  const w = await heldOpens(t);
  const port = await freePort();
  const run = startInTest(t, 'secwatch', ['--rules', rules, '-p', String(w.pid), '--metrics', `127.0.0.1:${port}`, '--metrics-and-print']);
  await run.ready;
  const opened = await w.go([['/etc/shadow', 3, 'r'], ['/etc/hostname', 2, 'r'], [etc, 2, 'w'], [burstFile, BURST, 'r']]);
  assert.equal(opened, BURST + 7);
  const body = await scrape(port);
  await stopAll(run);

  // Counted in the kernel: exact whatever the buffer dropped.
  const series = [...body.matchAll(/^bpfkit_secwatch_alerts_total(\{[^}]*\}) (\d+)$/gm)].map((m) => [m[1], Number(m[2])]);
  assert.deepEqual(series.sort(), [
    ['{rule="burst-open",priority="Notice"}', BURST],
    ['{rule="sensitive-read",priority="Warning"}', 3],
    ['{rule="write-etc",priority="Error"}', 2],
  ]);
  assert.doesNotMatch(body, /^bpfkit_secwatch_actions_total\{/m);

  const lines = run.stdout.split('\n').filter(Boolean);
  for (const line of lines) assert.ok(line.includes(` proc.pid=${w.pid} `), line);
  const count = (id: string) => lines.filter((l) => l.endsWith(` bpfkit.rule=${id} bpfkit.action=<NA>`)).length;
  // The first seven arrive in an empty buffer: none of them can be lost.
  assert.deepEqual([count('sensitive-read'), count('write-etc')], [3, 2]);
  const lost = [...run.stderr.matchAll(/^secwatch: lost (\d+) events \(the (?:ring|perf) buffer was full\)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
  t.diagnostic(`burst: ${count('burst-open')} printed, ${lost} reported lost`);
  assert.equal(count('burst-open') + lost, BURST, `printed ${count('burst-open')}, lost ${lost}\n${run.stderr}`);
  assert.equal(lines.length, count('burst-open') + 5);
  // What stderr reported lost, the exporter's counter says too.
  const lostSeries = /^bpfkit_lost_events_total\{tool="secwatch"\} (\d+)$/m.exec(body);
  assert.equal(Number(lostSeries?.[1]), lost, body);
});
