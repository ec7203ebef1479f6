import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  existingPid, existingTid, helpText, parseArgs, regex, uidFromUser, UsageError, usageLine, type ToolSpec,
} from '../../lib/run/cli.ts';
import { defineLine } from '../../lib/run/program.ts';

const spec: ToolSpec = {
  name: 'demo',
  description: 'Trace demo things',
  options: [
    { long: 'time', short: 'T', type: 'boolean', help: 'include time column' },
    { long: 'uid', short: 'u', type: 'string', metavar: 'USER', help: 'trace this UID only', parse: uidFromUser },
    { long: 'max-args', type: 'int', min: 1, max: 128, default: 20, help: 'maximum arguments' },
    { long: 'name', short: 'n', type: 'string', help: 'only commands matching NAME' },
  ],
  positionals: [
    { name: 'interval', type: 'number', min: 0.001, max: 86400, help: 'output interval, in seconds' },
    { name: 'count', type: 'int', min: 1, max: 1e9, help: 'number of outputs' },
  ],
  examples: [['demo -T', 'with a time column'], ['demo 1 5', 'five one-second intervals']],
};

test('bcc-style flags parse into typed values, short flags combine, defaults apply', () => {
  const o = parseArgs(spec, ['-Tu', '0', '1.5', '3']);
  assert.equal(o.time, true);
  assert.equal(o.uid, 0); // bcc ignores -u 0; we filter on root
  assert.equal(o['max-args'], 20);
  assert.equal(o.interval, 1.5);
  assert.equal(o.count, 3);
  assert.equal(o.json, false);
  assert.equal(parseArgs(spec, ['--max-args=5'])['max-args'], 5);
  assert.equal(parseArgs(spec, ['-u', 'root']).uid, 0);
});

test('strings stay strings, never evaluated', () => {
  assert.equal(parseArgs(spec, ['-n', 'x"); foo();//']).name, 'x"); foo();//');
});

for (const [argv, message] of [
  [['--bogus'], /unrecognized option --bogus/],
  [['-Z'], /unrecognized option -Z/],
  [['--max-args', '0'], /--max-args: expected an integer from 1 to 128, got "0"/],
  [['--max-args', '1e3'], /expected an integer/],
  [['--max-args', '99999999999999999999'], /expected an integer/],
  [['--max-args'], /expected an integer/],
  [['0'], /interval: expected a number from 0.001 to 86400/],
  [['1', '2', '3'], /unexpected argument "3"/],
  [['-u', 'no_such_user_anywhere'], /no user named/],
  [['-u', ''], /needs a value/],
  [['-T', '-T', '--max-args', '3', '--max-args', '4'], /given more than once/],
] as const) {
  test(`${JSON.stringify(argv)} is refused with a clear message`, () => {
    assert.throws(() => parseArgs(spec, [...argv]), (err: unknown) => err instanceof UsageError && message.test(err.message));
  });
}

test('help is laid out like argparse, with the toolkit options and examples', () => {
  const text = helpText(spec);
  assert.equal(text.split('\n')[0], usageLine(spec));
  assert.match(text, /^usage: demo \[-h\] \[-T\] \[-u USER\] \[--max-args MAX_ARGS\] \[-n NAME\] \[--json\] \[--explain\] \[--ebpf\] \[--no-cache\] \[-q\] \[--version\] \[interval\] \[count\]$/m);
  assert.match(text, /\n {2}-T, --time {12}include time column\n/);
  assert.match(text, /\nexamples:\n {4}demo -T {3}# with a time column\n {4}demo 1 5  # five one-second intervals\n$/);
});

test('#defines are built from integers and booleans only', () => {
  assert.equal(defineLine('MAX_ARGS', 20), '#define MAX_ARGS 20');
  assert.equal(defineLine('FILTER_UID', true), '#define FILTER_UID 1');
  assert.equal(defineLine('BIG', 2n ** 63n), '#define BIG 9223372036854775808ULL');
  assert.throws(() => defineLine('X', 1.5));
  assert.throws(() => defineLine('lower', 1));
  assert.throws(() => defineLine('X Y', 1));
  assert.throws(() => defineLine('X', Number.NaN));
});

test('--no-cache is the boolean option no-cache, alone, with =, and among others', () => {
  assert.equal(parseArgs(spec, [])['no-cache'], false);
  assert.equal(parseArgs(spec, ['--no-cache'])['no-cache'], true);
  assert.equal(parseArgs(spec, ['-T', '--no-cache', '1'])['no-cache'], true);
  assert.equal(parseArgs(spec, ['-T', '--no-cache', '1']).interval, 1);
  assert.equal(parseArgs(spec, ['--no-cache=true'])['no-cache'], true);
  assert.equal(parseArgs(spec, ['--no-cache=false'])['no-cache'], false);
});

test('an option of its own named no-X takes its value like any other', () => {
  const negated: ToolSpec = { ...spec, options: [{ long: 'no-such', type: 'int', min: 1, max: 9, help: 'x' }] };
  assert.equal(parseArgs(negated, ['--no-such', '3'])['no-such'], 3);
  assert.equal(parseArgs(negated, ['--no-such=4'])['no-such'], 4);
  assert.throws(() => parseArgs(negated, ['--no-such']), /argument --no-such: expected an integer from 1 to 9, got ""/);
});

for (const argv of [['--no-bogus'], ['--no-json'], ['--no-time'], ['-T', '--no-max-args', '3']]) {
  test(`${JSON.stringify(argv)} is an unrecognized option, not the negation of one`, () => {
    const flag = argv.find((a) => a.startsWith('--no-'));
    assert.throws(() => parseArgs(spec, argv), (err: unknown) => err instanceof UsageError && err.message === `unrecognized option ${flag}`);
  });
}

test('--version and -q/--quiet are common options, false unless given', () => {
  const none = parseArgs(spec, []);
  assert.equal(none.version, false);
  assert.equal(none.quiet, false);
  assert.equal(parseArgs(spec, ['--version']).version, true);
  assert.equal(parseArgs(spec, ['-q']).quiet, true);
  assert.equal(parseArgs(spec, ['-Tq']).quiet, true);
  assert.equal(parseArgs(spec, ['--quiet']).quiet, true);
  const text = helpText(spec);
  assert.match(text, /\n {2}-q, --quiet {11}do not print notes such as the kernel headers notice\n/);
  assert.match(text, /\n {2}--version {13}show program's version number and exit\n/);
});

test("a tool's own -q wins; the common --quiet then has only its long form, in usage and help", () => {
  const quoting: ToolSpec = { ...spec, options: [{ long: 'quote', short: 'q', type: 'boolean', help: 'add quotemarks' }] };
  const byShort = parseArgs(quoting, ['-q']);
  assert.equal(byShort.quote, true);
  assert.equal(byShort.quiet, false);
  const byLong = parseArgs(quoting, ['--quiet']);
  assert.equal(byLong.quote, false);
  assert.equal(byLong.quiet, true);
  assert.match(usageLine(quoting), /^usage: demo \[-h\] \[-q\] \[--json\] \[--explain\] \[--ebpf\] \[--no-cache\] \[--quiet\] \[--version\] /);
  const text = helpText(quoting);
  assert.match(text, /\n {2}-q, --quote {11}add quotemarks\n/);
  assert.match(text, /\n {2}--quiet {15}do not print notes/);
  assert.doesNotMatch(text, /-q, --quiet/);
});

test('a bad regular expression is said once, with the pattern and the reason', () => {
  const withRegex: ToolSpec = { ...spec, options: [{ long: 'name', short: 'n', type: 'string', parse: regex, help: 'x' }] };
  for (const [pattern, reason] of [['(', 'Unterminated group'], ['a/(', 'Unterminated group'], ['[', 'Unterminated character class'], ['*', 'Nothing to repeat']]) {
    assert.throws(() => parseArgs(withRegex, ['-n', pattern]), (err: unknown) => err instanceof UsageError &&
      err.message === `argument -n/--name: invalid regular expression '${pattern}': ${reason}`);
  }
  assert.deepEqual(parseArgs(withRegex, ['-n', '^ba(sh|t)$']).name, /^ba(sh|t)$/);
});

/** A PID no process or thread has now: the highest free one below pid_max. */
function unusedId(): number {
  const max = Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  for (let id = max; id > 1; id--) if (!fs.existsSync(`/proc/${id}`)) return id;
  throw new Error('every PID is in use');
}

test('-t takes a thread ID: any thread of a process is accepted, an unknown one is named a TID', () => {
  const threads = fs.readdirSync('/proc/self/task').map(Number);
  const other = threads.find((t) => t !== process.pid);
  assert.ok(other !== undefined, `node has worker threads (${threads})`);
  assert.equal(existingTid(other), other);
  assert.equal(existingTid(process.pid), process.pid);
  const free = unusedId();
  assert.throws(() => existingTid(free), (err: unknown) => err instanceof UsageError && err.message === `no thread with TID ${free}`);
  assert.throws(() => existingPid(free), (err: unknown) => err instanceof UsageError && err.message === `no process with PID ${free}`);
});

test('every integer out of range is told in one form: options, positionals, PIDs and TIDs', () => {
  const pidMax = Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  const bounded: ToolSpec = {
    name: 'demo', description: 'x', examples: [],
    options: [
      { long: 'interval', short: 'i', type: 'int', min: 1, max: 99999999, help: 'x' },
      { long: 'top', type: 'int', min: 1, help: 'x' },
      { long: 'pid', short: 'p', type: 'int', parse: existingPid, help: 'x' },
      { long: 'tid', short: 't', type: 'int', parse: existingTid, help: 'x' },
    ],
    positionals: [
      { name: 'interval', type: 'int', min: 1, max: 99999999, help: 'x' },
      { name: 'count', type: 'int', min: 1, help: 'x' },
    ],
  };
  const message = (argv: string[]) => {
    try { parseArgs(bounded, argv); } catch (err) { assert.ok(err instanceof UsageError); return err.message; }
    assert.fail(`${JSON.stringify(argv)} was accepted`);
  };
  assert.equal(message(['-i', '0']), 'argument -i/--interval: expected an integer from 1 to 99999999, got "0"');
  assert.equal(message(['0']), 'argument interval: expected an integer from 1 to 99999999, got "0"');
  assert.equal(message(['--top', '0']), `argument --top: expected an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got "0"`);
  assert.equal(message(['1', '0']), `argument count: expected an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got "0"`);
  assert.equal(message(['-p', '0']), `argument -p/--pid: expected an integer from 1 to ${pidMax}, got "0"`);
  assert.equal(message(['-t', String(pidMax + 1)]), `argument -t/--tid: expected an integer from 1 to ${pidMax}, got "${pidMax + 1}"`);
  assert.equal(message(['-t', '0']), `argument -t/--tid: expected an integer from 1 to ${pidMax}, got "0"`);
});

test("a short option's value may be attached, as argparse allows (-nbash); a repeatable option's values are one list", () => {
  assert.equal(parseArgs(spec, ['-nbash', '-T']).name, 'bash');
  assert.equal(parseArgs(spec, ['-Tn', 'sh']).name, 'sh');
  assert.throws(() => parseArgs(spec, ['-n', 'a', '-n', 'b']), /argument -n\/--name given more than once/);
  const listed: ToolSpec = { ...spec, options: [{ long: 'port', short: 'P', type: 'string', repeatable: true, help: 'ports', parse: (v: string) => v.split(',').map(Number) }] };
  assert.deepEqual(parseArgs(listed, ['-P', '80', '--port=443,8080', '-P22']).port, [80, 443, 8080, 22]);
  assert.deepEqual(parseArgs(listed, ['-P', '80']).port, [80]);
});
