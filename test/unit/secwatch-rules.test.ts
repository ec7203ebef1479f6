// secwatch's rules without a kernel: the shipped defaults, --rules files patching, replacing and
// disabling them, --only/--skip/--kill/--deny, every check with the file and line it names,
// compilation into the kernel's slots and closed path masks, and what user space still decides.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../../lib/run/cli.ts';
import { compileRules, conditionsText, listRules, loadRules, userSpaceHolds, type LoadOptions } from '../../tools/secwatch/rules.ts';
import { EVENT_KINDS, PATH_LEN, PRIORITIES, type Rule } from '../../tools/secwatch/model.ts';

const DEFAULT_IDS = [
  'shell-by-server', 'sensitive-read', 'write-etc', 'write-bin', 'ptrace-attach', 'module-load', 'shm-exec',
  'memfd-exec', 'setuid-bit', 'symlink-sensitive', 'socket-stdio', 'log-truncate', 'log-truncate-call',
];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'secwatch-rules-'));
let fileCount = 0;

/** A rules file in the temp dir with these lines. */
function rulesFile(...lines: string[]): string {
  const file = path.join(dir, `rules-${++fileCount}.yaml`);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Loading fails with exactly this one-line UsageError. */
function refuses(opts: LoadOptions, message: string): void {
  assert.throws(() => loadRules(opts), (err: unknown) => {
    assert.ok(err instanceof UsageError, String(err));
    assert.equal(err.message, message);
    assert.ok(!err.message.includes('\n'));
    return true;
  });
}

/** A file whose line `line` is wrong: the error names `file:line` and says `what`. */
function refusesAt(lines: string[], line: number, what: string): void {
  const file = rulesFile(...lines);
  refuses({ files: [file] }, `${file}:${line}: ${what}`);
}

const byId = (rules: Rule[], id: string): Rule => rules.find((r) => r.id === id)!;

test('the defaults load: exactly the shipped ids, each with a name, a one-line message and a priority', () => {
  const rules = loadRules();
  assert.deepEqual(rules.map((r) => r.id), DEFAULT_IDS);
  for (const r of rules) {
    assert.ok(r.name && r.message && !r.message.includes('\n'), r.id);
    assert.ok(PRIORITIES.includes(r.priority), r.id);
    assert.ok(r.description.length > 20, r.id);
    assert.equal(r.action, 'alert', r.id);
    assert.match(r.source.file, /default-rules\.yaml$/);
  }
  const read = byId(rules, 'sensitive-read');
  assert.deepEqual(read.when.flags, ['read']);
  assert.ok(read.when.path!.includes('/etc/shadow'));
  assert.ok(!read.when.path!.includes('/etc/hostname'));
  for (const r of rules) assert.ok(!r.when.commNot?.includes('cat'), `${r.id} must not allow cat`);
  assert.deepEqual(byId(rules, 'memfd-exec').when.pathPrefix, ['/memfd:']);
  assert.deepEqual(byId(rules, 'socket-stdio').when.fd, [0, 1, 2]);
  assert.deepEqual(byId(rules, 'ptrace-attach').when.request, ['attach', 'seize']);
  assert.deepEqual(byId(rules, 'module-load').when, {});
  assert.deepEqual(byId(rules, 'setuid-bit').when.mode, ['setuid', 'setgid']);
});

test('the defaults compile: one slot per rule, the events watched, values and flags as numbers', () => {
  const rules = loadRules();
  const k = compileRules(rules);
  assert.equal(k.slots.length, rules.length);
  assert.deepEqual([...k.events].sort(), ['chmod', 'dup', 'exec', 'link', 'module', 'open', 'ptrace', 'truncate']);
  assert.equal(k.usesPcomm, true);
  const slot = (id: string) => k.slots[rules.findIndex((r) => r.id === id)];
  assert.deepEqual(slot('sensitive-read'), {
    event: EVENT_KINDS.indexOf('open'), needPath: true, pathCond: true, needComm: false, needPcomm: false, flagsAny: 1,
    container: 0, action: 0, uids: [], uidNot: false, values: [],
  });
  assert.equal(slot('write-etc').flagsAny, 2 | 4 | 8 | 16);
  assert.equal(slot('setuid-bit').flagsAny, 0o6000);
  assert.deepEqual(slot('ptrace-attach').values, [16, 0x4206]);
  assert.deepEqual(slot('socket-stdio').values, [0, 1, 2]);
  assert.deepEqual([slot('shell-by-server').needComm, slot('shell-by-server').needPcomm], [true, true]);
  assert.equal(slot('module-load').needPath, false);
  // sensitive-read excludes sshd; no rule includes it.
  const read = 1n << BigInt(rules.findIndex((r) => r.id === 'sensitive-read'));
  assert.equal(k.comms.get('sshd')!.exclude & read, read);
  assert.equal(k.comms.get('sshd')!.include, 0n);
  assert.equal(k.comms.get('cat'), undefined);
  assert.ok(k.pcomms.has('nginx'));
});

test('path masks are closed over shorter entries: /etc/shadow carries /etc/\'s bits, /etc/hostname has no entry', () => {
  const rules = loadRules({ only: ['sensitive-read', 'write-etc', 'symlink-sensitive'] });
  const k = compileRules(rules);
  const [read, write, link] = [1n, 2n, 4n];
  const entry = (p: string, exact: boolean) => k.paths.find((e) => e.path === p && e.exact === exact)!;
  assert.deepEqual(entry('/etc/', false), { path: '/etc/', exact: false, include: write, exclude: 0n });
  assert.deepEqual(entry('/etc/shadow', true), { path: '/etc/shadow', exact: true, include: read | write | link, exclude: 0n });
  assert.deepEqual(entry('/etc/pam.d/', false), { path: '/etc/pam.d/', exact: false, include: read | write | link, exclude: 0n });
  assert.equal(entry('/etc/shadow-', true).include, read | write);
  assert.equal(k.paths.find((e) => e.path === '/etc/hostname'), undefined);
});

test('closure: exceptions travel too, an exact entry is nobody\'s prefix, a prefix entry of the same path is', () => {
  const file = rulesFile(
    '- id: a', '  event: open', '  priority: Notice', '  message: a',
    '  when: { path_prefix: [/srv/, /srv/app], path_prefix_not: [/srv/app/cache/], path: [/srv/app/x] }',
    '- id: b', '  event: open', '  priority: Notice', '  message: b',
    '  when: { path: [/srv/app], path_prefix: [/srv/app/x] }',
  );
  const rules = loadRules({ files: [file], only: ['a', 'b'] });
  const k = compileRules(rules);
  const masks = (p: string, exact: boolean) => {
    const e = k.paths.find((x) => x.path === p && x.exact === exact)!;
    return [e.include, e.exclude];
  };
  assert.deepEqual(k.paths.map((e) => `${e.exact ? '=' : '^'}${e.path}`), ['^/srv/', '^/srv/app', '=/srv/app', '^/srv/app/cache/', '^/srv/app/x', '=/srv/app/x']);
  assert.deepEqual(masks('/srv/app', true), [3n, 0n]); // b's exact, and a's /srv/ and /srv/app prefixes
  assert.deepEqual(masks('/srv/app/cache/', false), [1n, 1n]);
  assert.deepEqual(masks('/srv/app/x', true), [3n, 0n]); // a's exact and b's prefix /srv/app/x (not b's exact /srv/app)
  assert.deepEqual(masks('/srv/app/x', false), [3n, 0n]);
});

test('a patch changes only the fields it gives; a when key replaces its whole list, an empty list removes it', () => {
  const file = rulesFile(
    '- id: sensitive-read',
    '  priority: critical',
    '  when:',
    '    comm_not: [sshd]',
    '    path_prefix: []',
    '  tags: [mine]',
    '- id: shm-exec',
    '  action: kill',
  );
  const defaults = loadRules();
  const rules = loadRules({ files: [file] });
  const read = byId(rules, 'sensitive-read');
  const before = byId(defaults, 'sensitive-read');
  assert.equal(read.priority, 'Critical');
  assert.deepEqual(read.when.commNot, ['sshd']);
  assert.equal(read.when.pathPrefix, undefined);
  assert.deepEqual(read.when.path, before.when.path);
  assert.deepEqual([read.name, read.message, read.tags, read.source], [before.name, before.message, ['mine'], before.source]);
  assert.equal(byId(rules, 'shm-exec').action, 'kill');
  assert.deepEqual(rules.map((r) => r.id), DEFAULT_IDS);
});

test('an entry with a known id and an event replaces the rule in place; a new id adds one at the end', () => {
  const file = rulesFile(
    '- id: write-bin',
    '  event: exec',
    '  priority: Notice',
    '  message: ran from /opt',
    '  when: { path_prefix: /opt/ }',
    '- id: outbound-smtp',
    '  name: Outbound SMTP',
    '  event: connect',
    '  priority: Notice',
    '  message: connection to a mail port',
    '  when: { port: [25, 587], container: true }',
  );
  const rules = loadRules({ files: [file] });
  assert.deepEqual(rules.map((r) => r.id), [...DEFAULT_IDS, 'outbound-smtp']);
  const bin = byId(rules, 'write-bin');
  assert.deepEqual(bin, {
    id: 'write-bin', name: 'write-bin', description: '', priority: 'Notice', event: 'exec', when: { pathPrefix: ['/opt/'] },
    message: 'ran from /opt', action: 'alert', tags: [], source: { file, line: 1 },
  });
  const k = compileRules(rules);
  const smtp = k.slots[rules.length - 1];
  assert.deepEqual([smtp.event, smtp.values, smtp.container], [EVENT_KINDS.indexOf('connect'), [25, 587], 1]);
  assert.ok(k.events.has('connect'));
});

test('enabled: false takes a rule out; a later file may put it back; --only on a disabled rule is refused', () => {
  const off = rulesFile('- id: module-load', '  enabled: false', '- id: not-here', '  enabled: false');
  assert.deepEqual(loadRules({ files: [off] }).map((r) => r.id), DEFAULT_IDS.filter((id) => id !== 'module-load'));
  const on = rulesFile('- id: module-load', '  enabled: true');
  assert.deepEqual(loadRules({ files: [off, on] }).map((r) => r.id), DEFAULT_IDS);
  refuses({ files: [off], only: ['module-load'] }, '--only: module-load disabled by a rules file (enabled: false)');
});

test('--only and --skip choose by id; unknown ids are named with the known ones', () => {
  assert.deepEqual(loadRules({ only: ['shm-exec', 'sensitive-read'] }).map((r) => r.id), ['sensitive-read', 'shm-exec']);
  assert.deepEqual(loadRules({ skip: DEFAULT_IDS.slice(1) }).map((r) => r.id), ['shell-by-server']);
  assert.deepEqual(loadRules({ only: ['shm-exec', 'memfd-exec'], skip: ['shm-exec'] }).map((r) => r.id), ['memfd-exec']);
  refuses({ only: ['shm-exec', 'nope', 'nada'] }, `--only: unknown rule ids nope, nada (known: ${DEFAULT_IDS.join(', ')})`);
  refuses({ skip: ['nope'] }, `--skip: unknown rule id nope (known: ${DEFAULT_IDS.join(', ')})`);
});

test('--kill and --deny set the action, within what the kernel can do', () => {
  const rules = loadRules({ kill: ['shm-exec', 'ptrace-attach'], deny: ['sensitive-read'] });
  assert.deepEqual(rules.filter((r) => r.action !== 'alert').map((r) => [r.id, r.action]), [
    ['sensitive-read', 'deny'], ['ptrace-attach', 'kill'], ['shm-exec', 'kill'],
  ]);
  assert.equal(compileRules(rules).slots[DEFAULT_IDS.indexOf('sensitive-read')].action, 2);
  refuses({ kill: ['nope'] }, `--kill: unknown rule id nope (known: ${DEFAULT_IDS.join(', ')})`);
  refuses({ deny: ['ptrace-attach'] }, '--deny: rule "ptrace-attach" watches ptrace: deny refuses only exec, open, connect (use kill)');
  refuses({ kill: ['shm-exec'], deny: ['shm-exec'] }, 'rule shm-exec given to both --kill and --deny');
  refuses({ skip: ['shm-exec'], kill: ['shm-exec'] }, '--kill: rule shm-exec is not loaded (disabled, or left out by --only/--skip)');
  const suffix = rulesFile('- id: shm-exec', '  when: { path_suffix: [.sh] }');
  refuses({ files: [suffix], kill: ['shm-exec'] }, '--kill: rule "shm-exec" has path_suffix, decided in user space: the kernel cannot kill on it');
});

const HEAD = ['- id: mine', '  event: open', '  priority: Notice', '  message: m'];

test('checks name the file, the line and the key: keys, types and names', () => {
  refusesAt([...HEAD, '  prio: Notice'], 5, 'unknown key "prio" (a rule\'s keys: id, name, description, priority, event, when, message, action, tags, enabled)');
  refusesAt([...HEAD, '  when:', '    flags: [read]', '    paht: [/etc/x]'], 7,
    'unknown condition "paht" (known: flags, mode, port, request, fd, path, path_prefix, path_suffix, path_not, path_prefix_not, comm, comm_not, pcomm, pcomm_not, uid, uid_not, container)');
  refusesAt(['- id: mine', '  event: opne', '  priority: Notice', '  message: m'], 2,
    `unknown event "opne" (known: ${EVENT_KINDS.join(', ')})`);
  refusesAt(['- id: mine', '  event: open', '  priority: Loud', '  message: m'], 3,
    `unknown priority "Loud" (known: ${PRIORITIES.join(', ')})`);
  refusesAt([...HEAD, '  action: block'], 5, 'unknown action "block" (known: alert, kill, deny)');
  refusesAt([...HEAD, '  when:', '    flags: [read, exec]'], 6, 'unknown flags "exec" (known: read, write, create, trunc, append)');
  refusesAt(['- id: mine', '  event: chmod', '  priority: Notice', '  message: m', '  when: { mode: [suid] }'], 5,
    'unknown mode "suid" (known: setuid, setgid, sticky)');
  refusesAt(['- id: mine', '  event: ptrace', '  priority: Notice', '  message: m', '  when:', '    request:', '      - attach', '      - attack'], 8,
    'unknown request "attack" (known: traceme, peektext, peekdata, poketext, pokedata, attach, detach, seize)');
  refusesAt([...HEAD, '  when:', '    container: maybe'], 6, 'container must be true or false');
  refusesAt([...HEAD, '  enabled: 1'], 5, 'enabled must be true or false');
  refusesAt([...HEAD, '  when:', '    uid: [root]'], 6, 'uid "root" is not an integer from 0 to 4294967295');
  refusesAt([...HEAD, '  when:', '    comm: {a: 1}'], 6, 'expected a list or a single value, not a mapping');
  refusesAt([...HEAD, '  name: [a, b]'], 5, 'name must be a non-empty string');
  refusesAt([...HEAD, '  when: [comm]'], 5, 'when is a mapping of conditions (comm: […], path_prefix: […], …)');
  refusesAt(['- just a string'], 1, 'each rule is a mapping (id: …, event: …, when: …)');
  refusesAt(['id: mine'], 1, 'a rules file is a YAML list of rules (- id: …)');
});

test('checks name the file and line: ids, required fields, duplicates', () => {
  refusesAt(['- event: open', '  priority: Notice', '  message: m'], 1, 'a rule needs an id');
  refusesAt(['- id: Mine_1', '  event: open'], 1, 'bad rule id "Mine_1": lower-case letters, digits and "-", at most 40, starting with a letter or digit');
  refusesAt(['- id: new-one', '  priority: Notice'], 1, 'rule "new-one" is not a known rule, so it needs event (a patch of a known rule names no event)');
  refusesAt(['- id: new-one', '  event: open', '  message: m'], 1, 'rule "new-one" needs priority (one of Emergency, Alert, Critical, Error, Warning, Notice, Informational, Debug)');
  refusesAt(['- id: new-one', '  event: open', '  priority: Notice'], 1, 'rule "new-one" needs message (the alert\'s one-line text)');
  refusesAt([...HEAD, '- id: other', '  event: exec', '  priority: Notice', '  message: m', '- id: mine', '  enabled: false'], 9,
    'rule "mine" is given twice in this file (first at line 1)');
});

test('checks name the file and line: what the kernel can hold', () => {
  refusesAt([...HEAD, '  when:', '    comm: [cat, update-alternatives]'], 6,
    'comm "update-alternatives" is 19 bytes: the kernel keeps a comm\'s first 15 bytes, so write "update-alternat"');
  refusesAt([...HEAD, '  when:', '    path: [etc/shadow]'], 6, 'path "etc/shadow" is not absolute (paths start with /)');
  refusesAt([...HEAD, '  when:', '    path: [/etc/]'], 6, 'path "/etc/" ends with /: exact paths never do; use path_prefix for everything below a directory');
  const long = `/${'a'.repeat(PATH_LEN - 1)}`;
  refusesAt([...HEAD, '  when:', `    path_prefix: [${long}]`], 6, `path_prefix "${long.slice(0, 40)}…" is longer than the kernel's ${PATH_LEN - 1} bytes`);
  refusesAt([...HEAD, '  when:', '    uid: [1, 2, 3, 4, 5]'], 6, 'uid has 5 values; the kernel holds at most 4 per rule');
  refusesAt(['- id: mine', '  event: connect', '  priority: Notice', '  message: m', '  when:', '    port: [1, 2, 3, 4, 5, 6, 7, 8, 9]'], 6,
    'port has 9 values; the kernel holds at most 8 per rule');
  refusesAt(['- id: mine', '  event: connect', '  priority: Notice', '  message: m', '  when:', '    port: [80, 70000]'], 6,
    'port 70000 is not an integer from 1 to 65535');
  refusesAt(['- id: mine', '  event: dup', '  priority: Notice', '  message: m', '  when:', '    fd: 1024'], 6, 'fd 1024 is not an integer from 0 to 1023');
  refusesAt([...HEAD, '  when:', '    uid: [0]', '    uid_not: [1]'], 7, 'rule "mine": give uid or uid_not, not both (the kernel holds one uid list per rule)');
  const many = Array.from({ length: 60 }, (_, i) => [`- id: r${i}`, '  event: module', '  priority: Notice', '  message: m']).flat();
  refusesAt(many, 4 * 51 + 1, 'rule "r51" is rule 65: the kernel holds at most 64 (--skip some, or enabled: false)');
  assert.equal(loadRules({ files: [rulesFile(...many)], skip: ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8'] }).length, 64);
});

test('checks name the file and line: conditions on the wrong event, and kill/deny the kernel cannot do', () => {
  refusesAt([...HEAD, '  when:', '    port: [80]'], 6,
    'rule "mine": port does not apply to open events (open takes: flags, path, path_prefix, path_suffix, path_not, path_prefix_not, comm, comm_not, pcomm, pcomm_not, uid, uid_not, container)');
  // A patch adding a condition of another event is blamed on the patch's line.
  refusesAt(['- id: ptrace-attach', '  when:', '    flags: [read]'], 3,
    'rule "ptrace-attach": flags does not apply to ptrace events (ptrace takes: request, comm, comm_not, pcomm, pcomm_not, uid, uid_not, container)');
  refusesAt(['- id: ptrace-attach', '  action: deny'], 2, 'rule "ptrace-attach" watches ptrace: deny refuses only exec, open, connect (use kill)');
  refusesAt([...HEAD, '  action: kill', '  when:', '    path_suffix: [.pem]'], 7,
    'rule "mine" has path_suffix, decided in user space: the kernel cannot kill on it');
  // Over two files: the later of the two keys is named.
  const first = rulesFile('- id: shm-exec', '  action: kill');
  const second = rulesFile('- id: shm-exec', '  when: { path_suffix: .sh }');
  refuses({ files: [first, second] }, `${second}:2: rule "shm-exec" has path_suffix, decided in user space: the kernel cannot kill on it`);
});

test('bad YAML: the parser\'s first error, one line, at its line', () => {
  refusesAt(['- id: mine', '  event: open', '  when:', '    flags: [read', '  message: m'], 5,
    'bad YAML: Flow sequence in block collection must be sufficiently indented and end with a ]');
  refusesAt(['- id: mine', '  event: open', '  event: exec'], 3, 'bad YAML: Map keys must be unique');
  const missing = path.join(dir, 'missing.yaml');
  refuses({ files: [missing] }, `${missing}: cannot read the rules file (ENOENT)`);
  assert.deepEqual(loadRules({ files: [rulesFile('# nothing yet')] }).map((r) => r.id), DEFAULT_IDS);
});

test('lenient forms: a scalar is a one-item list, Falco\'s upper-case priorities, anchors', () => {
  const file = rulesFile(
    '- id: mine', '  event: open', '  priority: WARNING', '  message: m',
    '  when:', '    comm: &editors [vi, vim]', '    path_prefix: /srv/', '    uid: 0', '    container: false',
    '- id: yours', '  event: exec', '  priority: info', '  message: m', '  when: { pcomm: *editors }',
  );
  refusesAt(['- id: yours', '  event: exec', '  priority: info', '  message: m'], 3,
    `unknown priority "info" (known: ${PRIORITIES.join(', ')})`);
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('info', 'informational'));
  const rules = loadRules({ files: [file], only: ['mine', 'yours'] });
  assert.deepEqual(rules[0].when, { comm: ['vi', 'vim'], pathPrefix: ['/srv/'], uid: [0], container: false });
  assert.equal(rules[0].priority, 'Warning');
  assert.deepEqual([rules[1].priority, rules[1].when.pcomm], ['Informational', ['vi', 'vim']]);
  assert.deepEqual(compileRules(rules).slots[0].container, 2);
});

test('userSpaceHolds: path_suffix, and exact paths re-checked when the kernel saw a cut path', () => {
  const file = rulesFile(
    '- id: keys', '  event: open', '  priority: Notice', '  message: m', '  when: { path_prefix: /home/, path_suffix: [.pem, /id_rsa] }',
    '- id: exact', '  event: open', '  priority: Notice', '  message: m',
    `  when: { path: [/${'x'.repeat(PATH_LEN - 2)}], path_prefix: [/var/] }`,
  );
  const [keys, exact] = loadRules({ files: [file], only: ['keys', 'exact'] });
  assert.equal(userSpaceHolds(keys, { path: '/home/a/.ssh/id_rsa' }), true);
  assert.equal(userSpaceHolds(keys, { path: '/home/a/b.pem' }), true);
  assert.equal(userSpaceHolds(keys, { path: '/home/a/id_rsa.pub' }), false);
  const cutHome = `/home/${'y'.repeat(PATH_LEN)}`.slice(0, PATH_LEN - 1);
  assert.equal(userSpaceHolds(keys, { path: cutHome }), true); // the ending is unknown: not an escape
  const listed = exact.when.path![0];
  assert.equal(Buffer.byteLength(listed), PATH_LEN - 1);
  assert.equal(userSpaceHolds(exact, { path: listed }), false); // may be a longer path, cut
  assert.equal(userSpaceHolds(exact, { path: `/var/${'z'.repeat(PATH_LEN)}` }), true);
  assert.equal(userSpaceHolds(exact, { path: '/var/log/x' }), true);
  const read = byId(loadRules(), 'sensitive-read');
  assert.equal(userSpaceHolds(read, { path: '/etc/shadow' }), true);
});

test('--list-rules: header and aligned columns; verbose adds conditions, description and source; conditionsText', () => {
  const rules = loadRules({ only: ['shm-exec', 'sensitive-read'], kill: ['shm-exec'] });
  const text = listRules(rules).split('\n');
  assert.deepEqual(text, [
    'ID              PRIORITY  EVENT  ACTION  NAME',
    'sensitive-read  Warning   open   alert   Read sensitive file untrusted',
    'shm-exec        Warning   exec   kill    Execution from /dev/shm',
  ]);
  const verbose = listRules(rules, true).split('\n');
  assert.equal(verbose.length, 1 + 2 * 4);
  assert.equal(verbose[5], 'shm-exec        Warning   exec   kill    Execution from /dev/shm');
  assert.equal(verbose[6], '    when: exec path_prefix=/dev/shm/ action=kill');
  assert.match(verbose[8], /^ {4}from: .*default-rules\.yaml:\d+ {2}tags: process, /);
  assert.equal(conditionsText(rules[0], 2),
    'open flags=read path=/etc/shadow,/etc/shadow-,…(+5) path_prefix=/etc/sudoers.d/,/etc/pam.d/ comm_not=sshd,sshd-session,…(+33)');
});
