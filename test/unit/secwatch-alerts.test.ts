// secwatch's alerts and metrics without a kernel: Falco's text line and JSON for every event kind,
// the outcome suffixes, the flag and mode texts, the wall-clock nanoseconds, and the metric
// families read from fake per-CPU tables.
process.env.TZ = 'UTC'; // the text line prints local time: pin it before any Date is formatted
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  alertFields, alertJson, alertLine, enforcedAction, modeText, openFlagsText, outcomeOf, progTypeText, ptraceRequestText, wallTime, type Alert,
} from '../../tools/secwatch/alerts.ts';
import { actionSamples, alertSamples, secwatchCollector } from '../../tools/secwatch/metrics.ts';
import type { EventKind, Rule, SecEvent } from '../../tools/secwatch/model.ts';

function rule(o: Partial<Rule> = {}): Rule {
  return {
    id: 'sensitive-read', name: 'Read sensitive file untrusted', description: 'd', priority: 'Warning', event: 'open',
    when: {}, message: 'Sensitive file opened for reading by non-trusted program', action: 'alert',
    tags: ['T1555', 'filesystem', 'mitre_credential_access'], source: { file: 'default-rules.yaml', line: 1 }, ...o,
  };
}

function event(kind: EventKind, o: Partial<SecEvent> = {}): SecEvent {
  return {
    ts: 1n, kind, syscall: 'openat', pid: 4242, tid: 4243, ppid: 100, uid: 1000, comm: 'cat', pcomm: 'bash',
    inContainer: false, matched: 1n, acted: 0n, heldBack: 0n, path: '/etc/shadow', ...o,
  };
}

// 2026-12-06T19:42:01Z, and 123456789 ns into that second.
const TIME = new Date(Date.UTC(2026, 11, 6, 19, 42, 1, 123));
const NANOS = 123_456_789;

function alert(kind: EventKind, e: Partial<SecEvent> = {}, o: Partial<Alert> = {}): Alert {
  return { rule: rule({ event: kind }), event: event(kind, e), time: TIME, nanos: NANOS, hostname: 'box', ...o };
}

const PROCESS = 'evt.type=openat proc.name=cat proc.pid=4242 thread.tid=4243 proc.ppid=100 proc.pname=bash user.uid=1000 container.id=host';
const PREFIX = '19:42:01.123456789: Warning Sensitive file opened for reading by non-trusted program';

test('each event kind prints its own fields by Falco\'s names, after the process\'s', () => {
  const cases: Array<[Alert, string]> = [
    [alert('open', { flags: 0o2000000 }), 'fd.name=/etc/shadow evt.arg.flags=O_RDONLY|O_CLOEXEC'],
    [alert('exec', { syscall: 'execve', path: '/dev/shm/x' }), 'proc.exepath=/dev/shm/x'],
    [alert('chmod', { syscall: 'fchmodat', path: '/usr/bin/x', flags: 0o4755 }), 'fd.name=/usr/bin/x evt.arg.mode=04755'],
    [alert('truncate', { syscall: 'truncate', path: '/var/log/syslog' }), 'fd.name=/var/log/syslog'],
    [alert('module', { syscall: 'finit_module', path: '/tmp/m.ko' }), 'fd.name=/tmp/m.ko'],
    [alert('module', { syscall: 'init_module', path: '' }), 'fd.name=<NA>'],
    [alert('link', { syscall: 'symlinkat', path: '/etc/shadow', linkPath: '/tmp/s' }), 'fs.path.target=/etc/shadow fs.path.name=/tmp/s'],
    [alert('connect', { syscall: 'connect', path: '', addr: '10.0.0.1', port: 4444 }), 'fd.rip=10.0.0.1 fd.rport=4444'],
    [alert('ptrace', { syscall: 'ptrace', path: '', request: 16, targetPid: 77 }), 'evt.arg.request=PTRACE_ATTACH evt.arg.pid=77'],
    [alert('ptrace', { syscall: 'ptrace', path: '', request: 0x4207, targetPid: 77 }), 'evt.arg.request=16903 evt.arg.pid=77'],
    [alert('dup', { syscall: 'dup2', path: '', oldFd: 3, fd: 1 }), 'evt.arg.fd=3 evt.arg.newfd=1'],
    [alert('bpf', { syscall: 'bpf', path: '', progType: 2 }), 'evt.arg.prog_type=kprobe'],
    [alert('bpf', { syscall: 'bpf', path: '', progType: 999 }), 'evt.arg.prog_type=999'],
  ];
  for (const [a, own] of cases) {
    const who = PROCESS.replace('evt.type=openat', `evt.type=${a.event.syscall}`);
    assert.equal(alertLine(a), `${PREFIX} | ${who} ${own} bpfkit.rule=sensitive-read bpfkit.action=<NA>`, a.event.kind);
  }
});

test('missing record fields are <NA> in text and null in JSON; a container is "container"', () => {
  const a = alert('connect', { syscall: 'connect', path: '', inContainer: true });
  assert.deepEqual(alertFields(a), {
    'evt.type': 'connect', 'proc.name': 'cat', 'proc.pid': 4242, 'thread.tid': 4243, 'proc.ppid': 100, 'proc.pname': 'bash',
    'user.uid': 1000, 'container.id': 'container', 'fd.rip': null, 'fd.rport': null, 'bpfkit.rule': 'sensitive-read', 'bpfkit.action': null,
  });
  assert.match(alertLine(a), / container\.id=container fd\.rip=<NA> fd\.rport=<NA> /);
});

test('an action taken or held back ends the message, and bpfkit.action says which', () => {
  const line = (o: Partial<Alert>, action: Rule['action'] = 'kill') => alertLine({ ...alert('open'), rule: rule({ action }), ...o });
  const head = (text: string) => text.split(' | ')[0].slice(PREFIX.length);
  assert.equal(head(line({})), '');
  assert.equal(head(line({ outcome: 'killed' })), ' (killed)');
  assert.equal(head(line({ outcome: 'denied' }, 'deny')), ' (denied)');
  assert.equal(head(line({ outcome: 'would kill' })), ' (would kill: dry run)');
  assert.equal(head(line({ outcome: 'would deny' }, 'deny')), ' (would deny: dry run)');
  assert.equal(head(line({ outcome: 'killed' }, 'deny')), ' (killed: deny unavailable)');
  const fallback = line({ outcome: 'killed', fallback: 'BPF LSM refused here: EPERM' }, 'deny');
  assert.equal(head(fallback), ' (killed: deny unavailable)');
  assert.ok(fallback.endsWith(' bpfkit.rule=sensitive-read bpfkit.action=killed bpfkit.fallback=BPF LSM refused here: EPERM'), fallback);
  assert.ok(line({ outcome: 'would deny' }, 'deny').endsWith(' bpfkit.action=would deny'));
});

test('outcomeOf reads the acted and held-back bits of the rule', () => {
  const e = event('exec', { matched: 0b111n, acted: 0b001n, heldBack: 0b010n });
  assert.equal(outcomeOf(e, 0, 'kill'), 'killed');
  assert.equal(outcomeOf(e, 0, 'deny'), 'denied');
  assert.equal(outcomeOf(e, 1, 'kill'), 'would kill');
  assert.equal(outcomeOf(e, 1, 'deny'), 'would deny');
  assert.equal(outcomeOf(e, 2, 'kill'), undefined);
  assert.equal(outcomeOf(e, 0, 'alert'), undefined);
});

test('control characters in values cannot break the line; other text is printed raw', () => {
  const line = alertLine(alert('open', { path: '/tmp/a b\nc\x01', comm: 'we\tird' }));
  assert.ok(line.includes(' proc.name=we\\tird '), line);
  assert.ok(line.includes(' fd.name=/tmp/a b\\nc\\x01 '), line);
  assert.equal(line.split('\n').length, 1);
});

test('the JSON has Falco\'s keys in Falco\'s order, fields and tags sorted, time in UTC with nanoseconds', () => {
  const a = alert('open', { flags: 0o1101 }, { rule: rule({ tags: ['mitre_credential_access', 'T1555', 'filesystem', 'T1555'] }), outcome: 'killed' });
  const text = alertJson(a);
  assert.equal(text.split('\n').length, 1);
  const parsed = JSON.parse(text);
  assert.deepEqual(Object.keys(parsed), ['hostname', 'output', 'output_fields', 'priority', 'rule', 'source', 'tags', 'time']);
  assert.equal(parsed.hostname, 'box');
  assert.equal(parsed.output, alertLine(a));
  assert.equal(parsed.priority, 'Warning');
  assert.equal(parsed.rule, 'Read sensitive file untrusted');
  assert.equal(parsed.source, 'syscall');
  assert.deepEqual(parsed.tags, ['T1555', 'filesystem', 'mitre_credential_access']);
  assert.equal(parsed.time, '2026-12-06T19:42:01.123456789Z');
  assert.deepEqual(parsed.output_fields, alertFields(a));
  assert.deepEqual(Object.keys(parsed.output_fields), Object.keys(alertFields(a)).sort());
  assert.equal(parsed.output_fields['evt.arg.flags'], 'O_WRONLY|O_CREAT|O_TRUNC');
  assert.equal(parsed.output_fields['bpfkit.action'], 'killed');
  assert.equal(parsed.output_fields['proc.pid'], 4242);
  assert.equal(parsed.output_fields['container.id'], 'host');
});

test('every event kind gives JSON that parses in Falco\'s shape', () => {
  for (const kind of ['exec', 'open', 'connect', 'ptrace', 'module', 'chmod', 'link', 'dup', 'bpf', 'truncate'] as const) {
    const parsed = JSON.parse(alertJson(alert(kind)));
    assert.deepEqual(Object.keys(parsed), ['hostname', 'output', 'output_fields', 'priority', 'rule', 'source', 'tags', 'time'], kind);
    assert.equal(parsed.output_fields['bpfkit.rule'], 'sensitive-read');
  }
});

test('without nanos the time\'s milliseconds are the fraction', () => {
  const a = alert('open', {}, { nanos: undefined });
  assert.ok(alertLine(a).startsWith('19:42:01.123000000: Warning '));
  assert.equal(JSON.parse(alertJson(a)).time, '2026-12-06T19:42:01.123000000Z');
});

test('wallTime adds one whole-millisecond offset, keeping the kernel\'s nanoseconds and order', () => {
  // EventClock.date(ts) is ts/1e6 + an offset in ms with a fraction; Date drops the fraction.
  const offsetMs = TIME.getTime() - 5_000 + 0.75;
  const clock = { date: (ts: bigint) => new Date(Number(ts) / 1e6 + offsetMs) };
  const at = (ts: bigint) => wallTime(clock as never, ts);
  assert.deepEqual(at(5_000_000_000n), { time: TIME, nanos: 123_000_000 });
  assert.deepEqual(at(5_000_999_999n), { time: TIME, nanos: 123_999_999 });
  assert.deepEqual(at(5_001_000_001n), { time: new Date(TIME.getTime() + 1), nanos: 124_000_001 });
  assert.deepEqual(at(5_877_000_000n), { time: new Date(Date.UTC(2026, 11, 6, 19, 42, 2, 0)), nanos: 0 });
});

test('open flags, chmod modes, ptrace requests and program types as text', () => {
  assert.equal(openFlagsText(0), 'O_RDONLY');
  assert.equal(openFlagsText(0o2), 'O_RDWR');
  assert.equal(openFlagsText(0o3), 'O_ACCMODE');
  assert.equal(openFlagsText(0o2101), 'O_WRONLY|O_CREAT|O_APPEND');
  assert.equal(openFlagsText(0o4010001), 'O_WRONLY|O_SYNC');
  assert.equal(openFlagsText(0o10000), 'O_RDONLY|O_DSYNC');
  assert.equal(openFlagsText(0o10000000 | 0o2000000), 'O_RDONLY|O_CLOEXEC|O_PATH');
  assert.equal(openFlagsText(0o40000000 | 0o200), 'O_RDONLY|O_EXCL|040000000');
  if (process.arch === 'x64') {
    assert.equal(openFlagsText(0o20200002), 'O_RDWR|O_TMPFILE');
    assert.equal(openFlagsText(0o200000 | 0o400000), 'O_RDONLY|O_DIRECTORY|O_NOFOLLOW');
  }
  assert.equal(modeText(0o4755), '04755');
  assert.equal(modeText(0o644), '0644');
  assert.equal(modeText(0o2000), '02000');
  assert.equal(modeText(0o100755), '0755');
  assert.equal(ptraceRequestText(0x4206), 'PTRACE_SEIZE');
  assert.equal(ptraceRequestText(0), 'PTRACE_TRACEME');
  assert.equal(progTypeText(29), 'lsm');
  assert.equal(progTypeText(0), 'unspec');
});

// ---- metrics ----

const RULES = [
  rule({ id: 'sensitive-read', priority: 'Warning' }),
  rule({ id: 'shm-exec', priority: 'Critical', action: 'kill' }),
  rule({ id: 'write-etc', priority: 'Error', action: 'deny' }),
];

test('alert samples are kernel matches less user-space rejections, by rule in rule order', () => {
  const matches: Array<[number, bigint]> = [[2, 5n], [0, 7n], [1, 0n], [40, 3n]];
  assert.deepEqual(alertSamples(matches, RULES), [
    { labels: { rule: 'sensitive-read', priority: 'Warning' }, value: 7n },
    { labels: { rule: 'write-etc', priority: 'Error' }, value: 5n },
  ]);
  assert.deepEqual(alertSamples(matches, RULES, new Map([[0, 2n], [2, 5n]])), [
    { labels: { rule: 'sensitive-read', priority: 'Warning' }, value: 5n },
  ]);
});

test('action samples name the action taken (deny without BPF LSM is kill); a rule that only alerts has none', () => {
  assert.deepEqual(actionSamples([[0, 4n], [1, 2n], [2, 1n]], RULES, true), [
    { labels: { rule: 'shm-exec', action: 'kill' }, value: 2n },
    { labels: { rule: 'write-etc', action: 'deny' }, value: 1n },
  ]);
  assert.deepEqual(actionSamples([[2, 1n]], RULES, false), [{ labels: { rule: 'write-etc', action: 'kill' }, value: 1n }]);
  assert.equal(enforcedAction(RULES[2], true), 'deny');
  assert.equal(enforcedAction(RULES[2], false), 'kill');
  assert.equal(enforcedAction(RULES[0], false), 'alert');
});

test('the collector reads alert_counts and action_counts, stays monotonic, and limits series', () => {
  const tables: Record<string, Array<[number, bigint]>> = {
    alert_counts: [[0, 3n], [1, 2n], [2, 1n]],
    action_counts: [[1, 2n], [2, 1n]],
  };
  const bpf = { table: (name: string) => ({ summedEntries: () => tables[name].map(([k, v]) => [k, v]) }) };
  const rejected = new Map<number, bigint>();
  let lost = 0n;
  const collector = secwatchCollector(bpf as never, RULES, 4, { rejected, lost: () => lost, denyByLsm: true });
  const read = () => Object.fromEntries(collector.collect().map((f) => [f.name,
    (f as { samples: Array<{ labels: Record<string, string>; value: bigint }> }).samples.map((s) => [Object.values(s.labels).join(' '), s.value])]));
  assert.equal(collector.tool, 'secwatch');
  assert.deepEqual(read(), {
    bpfkit_secwatch_alerts_total: [['sensitive-read Warning', 3n], ['shm-exec Critical', 2n], ['write-etc Error', 1n]],
    bpfkit_secwatch_actions_total: [['shm-exec kill', 2n]],
  });
  assert.equal(collector.dropped(), 1);
  // A rejection decided after a scrape cannot take a counter down.
  rejected.set(0, 1n);
  tables.alert_counts[0] = [0, 3n];
  assert.deepEqual(read().bpfkit_secwatch_alerts_total[0], ['sensitive-read Warning', 3n]);
  tables.alert_counts[0] = [0, 6n];
  assert.deepEqual(read().bpfkit_secwatch_alerts_total[0], ['sensitive-read Warning', 5n]);
  lost = 9n;
  assert.equal(collector.lost(), 9n);
  assert.equal(secwatchCollector(bpf as never, RULES, 10).lost(), 0n);
});
