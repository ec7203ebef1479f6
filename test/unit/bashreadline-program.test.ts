// How bashreadline picks its probe on systems other than this one (stand-in files and kernels):
// readline_internal_teardown before readline, bash's own copy before a libreadline it links,
// -s's file only, the comm filter only where the probe is in a shared library, and the #defines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError, type BPF } from 'bcc-node-bindings';
import { UsageError } from '../../lib/run/cli.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { ringBufferPages } from '../../lib/run/event-channel.ts';
import { BASH, LINE_READ, configureBashreadline, type BashreadlineConfig } from '../../tools/bashreadline/program.ts';
import type { ReadlineFiles } from '../../tools/bashreadline/readline-file.ts';
import { fakeKernel } from '../helpers/kernel-view.ts';

const LIB = '/usr/lib/libreadline.so.8';
const PURPOSE = 'lines bash reads (the return of readline)';

/** Files with these symbols at these offsets; `links` is the libreadline bash links, if any. */
function files(symbols: Record<string, Record<string, number>>, opts: { links?: string; uprobes?: boolean; same?: string[] } = {}): ReadlineFiles & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    symbol(file, sym) {
      asked.push(`${file}:${sym}`);
      const at = symbols[file]?.[sym];
      return at === undefined ? null : { path: file, offset: BigInt(at) };
    },
    linkedReadline: (binary) => (binary === BASH ? opts.links ?? null : null),
    sameFile: (a, b) => a === b || (opts.same ?? []).includes(a),
    uprobes: () => opts.uprobes ?? true,
  };
}

function attached(config: BashreadlineConfig, f: ReadlineFiles): string[] {
  const calls: string[] = [];
  const bpf = { attachUretprobe: ({ name, sym, fnName }: { name: string; sym: string; fnName: string }) => { calls.push(`${name} ${sym} ${fnName}`); } };
  configureBashreadline(config, f, fakeKernel()).attach(bpf as unknown as BPF);
  return calls;
}

test('bash with readline built in (Debian): readline_internal_teardown in /bin/bash, no comm filter, a ring buffer', () => {
  const f = files({ [BASH]: { readline_internal_teardown: 0xc5800, readline: 0xc6c20 } });
  const program = configureBashreadline({}, f, fakeKernel());
  assert.equal(program.file, 'bashreadline.bpf.c');
  assert.deepEqual(program.defines, { LINE_READ, USE_RINGBUF: true, RINGBUF_PAGES: ringBufferPages(2) });
  assert.deepEqual(program.probe, { path: BASH, sym: 'readline_internal_teardown', offset: 0xc5800n });
  assert.equal(program.bashOnly, false);
  const hook = program.attachments[0];
  assert.deepEqual([hook.purpose, hook.chosen, hook.rejected], [PURPOSE, 'uretprobe on readline_internal_teardown in /bin/bash (file offset 0xc5800)', []]);
  // The ladder after the winner: --explain says what else would do here.
  assert.deepEqual(hook.fallbacks!(), [
    { label: 'uretprobe on readline in /bin/bash (file offset 0xc6c20)', reason: null },
    { label: 'uretprobe on readline_internal_teardown in the libreadline /bin/bash links', reason: '/bin/bash links no libreadline' },
    { label: 'uretprobe on readline in the libreadline /bin/bash links', reason: '/bin/bash links no libreadline' },
  ]);
  assert.equal(program.attachments[1].chosen, 'ring buffer');
  assert.deepEqual(attached({}, f), ['/bin/bash readline_internal_teardown line_returned']);
});

test('an older readline without readline_internal_teardown exported: readline() itself', () => {
  const program = configureBashreadline({}, files({ [BASH]: { readline: 0x1000 } }), fakeKernel());
  assert.equal(program.probe.sym, 'readline');
  assert.deepEqual(program.attachments[0].rejected, [{ label: 'uretprobe on readline_internal_teardown in /bin/bash', reason: 'no symbol readline_internal_teardown in /bin/bash' }]);
});

test('bash linking libreadline (Arch): the library bash links, with the comm filter', () => {
  const f = files({ [LIB]: { readline_internal_teardown: 0x18ec0, readline: 0x1a370 } }, { links: LIB });
  const program = configureBashreadline({}, f, fakeKernel());
  assert.deepEqual(program.probe, { path: LIB, sym: 'readline_internal_teardown', offset: 0x18ec0n });
  assert.equal(program.bashOnly, true);
  assert.equal(program.attachments[0].chosen, `uretprobe on readline_internal_teardown in ${LIB} (file offset 0x18ec0)`);
  assert.deepEqual(attached({}, f), [`${LIB} readline_internal_teardown line_returned`]);
});

test('-s names the only file looked at; a library gets the comm filter, bash\'s own file (by inode) does not', () => {
  const f = files({ [LIB]: { readline: 0x1a370 }, [BASH]: { readline_internal_teardown: 0xc5800 } });
  const program = configureBashreadline({ shared: LIB }, f, fakeKernel());
  assert.deepEqual([program.probe.path, program.probe.sym, program.bashOnly], [LIB, 'readline', true]);
  assert.ok(f.asked.every((a) => a.startsWith(`${LIB}:`)), f.asked.join(' '));
  const usrBash = files({ '/usr/bin/bash': { readline_internal_teardown: 0xc5800 } }, { same: ['/usr/bin/bash'] });
  assert.equal(configureBashreadline({ shared: '/usr/bin/bash' }, usrBash, fakeKernel()).bashOnly, false);
});

test('-s with a file that has no readline is bad input (exit 2), naming the file', () => {
  assert.throws(() => configureBashreadline({ shared: '/bin/true' }, files({}), fakeKernel()),
    (err: unknown) => err instanceof UsageError && err.message === '-s /bin/true: no readline in it (it has neither readline_internal_teardown nor readline as a symbol)');
});

test('no readline in bash nor a library it links: a missing prerequisite that points at -s', () => {
  assert.throws(() => configureBashreadline({}, files({}), fakeKernel()),
    (err: unknown) => err instanceof MissingPrerequisite && /name the file that has it with -s/.test(err.message));
});

test('a kernel without uprobes: no rung is usable, and each says why', () => {
  assert.throws(() => configureBashreadline({}, files({ [BASH]: { readline: 0x1000 } }, { uprobes: false }), fakeKernel()),
    (err: unknown) => isBpfError(err) && err.code === 'NOT_SUPPORTED' && /this kernel has no uprobes/.test(err.message));
});

test('before Linux 5.8: a perf buffer, and no ring buffer size', () => {
  const program = configureBashreadline({}, files({ [BASH]: { readline: 0x1000 } }), fakeKernel({ ringBuffer: () => false }));
  assert.deepEqual(program.defines, { LINE_READ, USE_RINGBUF: false });
  assert.equal(program.ringBuffer, false);
  assert.equal(program.attachments[1].chosen, 'perf buffer');
});
