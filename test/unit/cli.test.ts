import { test } from 'node:test';
import assert from 'node:assert/strict';
import { helpText, parseArgs, uidFromUser, UsageError, usageLine, type ToolSpec } from '../../lib/run/cli.ts';
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
  assert.match(text, /^usage: demo \[-h\] \[-T\] \[-u USER\] \[--max-args MAX_ARGS\] \[-n NAME\] \[--json\] \[--explain\] \[--ebpf\] \[--no-cache\] \[interval\] \[count\]$/m);
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
