// secwatch's command line: rule id lists (given once or repeated), rules files in order, the
// flags, and one clear line for bad input. Which ids exist is the rules loader's to check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { helpText, parseArgs, UsageError } from '../../lib/run/cli.ts';
import { spec, type Options } from '../../tools/secwatch/options.ts';

const parse = (argv: string[]) => parseArgs(spec, argv) as unknown as Options & { json: boolean };

test('no options: default rules, nothing chosen, nothing enforced', () => {
  const o = parse([]);
  assert.deepEqual([o.rules, o.only, o.skip, o.kill, o.deny, o.pid], [undefined, undefined, undefined, undefined, undefined, undefined]);
  assert.deepEqual([o['list-rules'], o['dry-run'], o.json], [false, false, false]);
});

test('id lists come as arrays, whether given once with commas or repeated', () => {
  assert.deepEqual(parse(['--only', 'sensitive-read,shm-exec']).only, ['sensitive-read', 'shm-exec']);
  assert.deepEqual(parse(['--kill', 'shm-exec', '--kill', 'memfd-exec,ptrace-attach']).kill, ['shm-exec', 'memfd-exec', 'ptrace-attach']);
  assert.deepEqual(parse(['--skip=write-etc', '--deny', 'write-bin, write-etc']).skip, ['write-etc']);
  assert.deepEqual(parse(['--deny', 'write-bin, write-etc,write-bin']).deny, ['write-bin', 'write-etc']);
  assert.deepEqual(parse(['--only', 'a', '--only', 'x1-2']).only, ['a', 'x1-2']);
  assert.deepEqual(parse(['--only', 'a'.repeat(40)]).only, ['a'.repeat(40)]);
});

test('bad ids and empty list items are one usage line naming the option', () => {
  const bad: Array<[string[], RegExp]> = [
    [['--only', 'Shm-exec'], /^argument --only: bad rule id "Shm-exec": /],
    [['--kill=-shm'], /^argument --kill: bad rule id "-shm": /],
    [['--skip', 'a_b'], /^argument --skip: bad rule id "a_b": /],
    [['--deny', 'a'.repeat(41)], /^argument --deny: bad rule id /],
    [['--only', 'a,,b'], /^argument --only: empty rule id in "a,,b"$/],
    [['--only', 'a,'], /^argument --only: empty rule id in "a,"$/],
    [['--kill'], /^argument --kill needs a value$/],
  ];
  for (const [argv, message] of bad) {
    assert.throws(() => parse(argv), (err: unknown) => err instanceof UsageError && message.test(err.message), argv.join(' '));
  }
});

test('--rules files keep their order; a comma separates files', () => {
  assert.deepEqual(parse(['--rules', './b.yaml', '--rules', '/etc/secwatch/a.yaml']).rules, ['./b.yaml', '/etc/secwatch/a.yaml']);
  assert.deepEqual(parse(['--rules', 'one.yaml,two.yaml']).rules, ['one.yaml', 'two.yaml']);
  assert.throws(() => parse(['--rules', '']), (err: unknown) => err instanceof UsageError && err.message === 'argument --rules needs a value');
});

test('the flags, -p, --json and --metrics parse; --help lists them with the examples', () => {
  const o = parse(['--list-rules', '--dry-run', '-p', String(process.pid), '--json']);
  assert.deepEqual([o['list-rules'], o['dry-run'], o.pid, o.json], [true, true, process.pid, true]);
  assert.ok(parse(['--metrics', '9435']).metrics);
  assert.throws(() => parse(['-p', '0']), UsageError);
  const help = helpText(spec);
  for (const flag of ['--rules FILE', '--list-rules', '--only ID,...', '--skip ID,...', '--kill ID,...', '--deny ID,...', '--dry-run', '-p PID, --pid PID', '--json', '--metrics ADDR']) {
    assert.ok(help.includes(flag), flag);
  }
  assert.ok(help.includes('secwatch --deny shm-exec --dry-run'));
});
