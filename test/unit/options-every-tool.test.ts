// Every option a command's --help offers must parse: --no-cache was offered by every tool and
// refused by every one (minimist read it as "cache=false"). Each flag in the help text, short and
// long, goes through parseArgs with a value its parse function accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { allOptions, helpText, parseArgs, UsageError, type OptionSpec, type ToolSpec } from '../../lib/run/cli.ts';
import { TOOL_NAMES } from '../../tools/index.ts';

const COMMANDS = [...TOOL_NAMES, 'exporter'];

/** A value each string option accepts on any machine; ints and numbers take their minimum. */
const SAMPLES: Record<string, string> = {
  uid: 'root',
  name: '^ba(sh|t)$',
  line: 'tpkg',
  errno: 'ENOENT',
  syscall: 'write',
  cgroup: '.', // the cgroup v2 mount itself: relative paths are taken from there
  sort: 'rx',
  metrics: '9435',
  listen: '127.0.0.1:9100',
  tools: 'syscount,biolatency',
  disk: fs.readdirSync('/sys/block')[0],
  flag_filter: 'O_WRONLY',
  rules: 'my-rules.yaml',
  only: 'shm-exec',
  skip: 'shm-exec',
  kill: 'shm-exec',
  deny: 'shm-exec',
  comm: 'fio',
  shared: '/bin/bash',
  signal: 'KILL',
  label: 'exit',
  drop: 'udp:5001',
  port: '80,443',
  localport: '80',
  remoteport: '80,81',
  // Lists of processes are checked to exist: this one does.
  pid: String(process.pid),
  tid: String(process.pid),
  svg: 'cpu.svg',
};

/**
 * Options whose every valid value is machine state a unit test cannot make: they get a value
 * that reaches their own parse function, which must be the one to answer.
 */
const MACHINE_STATE: Record<string, string> = {
  cgroupmap: 'a BPF map pinned by root in bpffs',
  mntnsmap: 'a BPF map pinned by root in bpffs',
};

/** The flags of each row of the options section, as --help prints them: ["-T", "--time"]. */
function helpFlags(text: string): string[][] {
  const section = text.split('\noptions:\n')[1].split('\n\n')[0];
  return section.split('\n')
    .filter((line) => line.startsWith('  -'))
    .map((line) => line.trim().split(/\s{2,}/)[0].split(', ').map((part) => part.split(' ')[0]));
}

function sampleFor(o: OptionSpec): string | undefined {
  if (SAMPLES[o.long] !== undefined) return SAMPLES[o.long];
  if (o.type === 'int' || o.type === 'number') return String(o.min ?? 1);
  return undefined;
}

for (const name of COMMANDS) {
  test(`every option in ${name} --help parses with a valid value`, async (t) => {
    const { spec } = await import(`../../tools/${name}/options.ts`) as { spec: ToolSpec };
    const options = allOptions(spec);
    const rows = helpFlags(helpText(spec));
    const listed = new Set(rows.flat());
    for (const o of options.filter((c) => !c.hidden)) assert.ok(listed.has(`--${o.long}`), `--${o.long} is not read from ${name} --help`);
    for (const flags of rows) {
      const long = flags.find((f) => f.startsWith('--'))!.slice(2);
      await t.test(flags.join('/'), () => {
        if (long === 'help') {
          for (const flag of flags) assert.equal(parseArgs(spec, [flag]).help, true);
          return;
        }
        if (long === spec.restAfter) {
          assert.deepEqual(parseArgs(spec, [`--${long}`, 'ls', '-l', '--no-such-flag']).rest, ['ls', '-l', '--no-such-flag']);
          return;
        }
        // A tool's own option comes first, as in parseArgs: it may redefine a common one.
        const o = options.find((c) => c.long === long);
        assert.ok(o, `--${long} is in ${name} --help but in no spec`);
        if (o.type === 'boolean') {
          for (const flag of flags) assert.equal(parseArgs(spec, [flag])[long], true, flag);
          return;
        }
        if (MACHINE_STATE[long]) {
          for (const flag of flags) {
            assert.throws(() => parseArgs(spec, [flag, '/sys/fs/bpf/bpfkit-unit-test-no-such-map']),
              (err: unknown) => err instanceof UsageError && err.message.startsWith(`argument ${flags.join('/')}: `),
              `${flag} must reach its own check (it needs ${MACHINE_STATE[long]})`);
          }
          return;
        }
        const value = sampleFor(o);
        assert.ok(value !== undefined, `no sample value for --${long}: add one to SAMPLES (or to MACHINE_STATE, saying why)`);
        for (const flag of flags) {
          assert.notEqual(parseArgs(spec, [flag, value])[long], undefined, `${flag} ${value}`);
        }
        assert.notEqual(parseArgs(spec, [`--${long}=${value}`])[long], undefined, `--${long}=${value}`);
      });
    }
  });
}

test('the samples are all used: each names an option some command has', async () => {
  const longs = new Set<string>();
  for (const name of COMMANDS) {
    const { spec } = await import(`../../tools/${name}/options.ts`) as { spec: ToolSpec };
    for (const o of spec.options) longs.add(o.long);
  }
  for (const key of [...Object.keys(SAMPLES), ...Object.keys(MACHINE_STATE)]) assert.ok(longs.has(key), key);
});
