// The course's step 6 (examples/learn/06-events.ts) run as a reader runs it: a workload makes N
// openat calls, and each event type's row says what its program counted. The tracepoint, the raw
// tracepoint and the uprobe see exactly N; the kprobe row says why it cannot run on a kernel
// without kprobes (or counts N where kprobes exist); the perf row shows where the CPU time went.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { kprobesAvailable } from 'bcc-node-bindings';
import { openatNumber } from '../../examples/learn/lab-events.ts';
import { needsBpf } from '../helpers/kernel.ts';

const root = path.resolve(import.meta.dirname, '..', '..');

function step(args: string[]) {
  // timeout: a safety net for a hung run, not an assertion.
  return spawnSync(process.execPath, ['--import', 'tsx', 'examples/learn/06-events.ts', ...args],
    { cwd: root, encoding: 'utf8', timeout: 120_000 });
}

const row = (what: string, n: number) =>
  new RegExp(`^${what.replace(/[().]/g, '\\$&')} +counted +${n} of ${n} +\\d+ runs +\\d+ ns/run$`, 'm');

test('step 6: the tracepoint, the raw tracepoint and the uprobe each count exactly N openat calls', async (t) => {
  if (!needsBpf(t)) return;
  const N = 3000;
  const ran = step([String(N)]);
  assert.equal(ran.status, 0, ran.stderr);
  const out = ran.stdout;
  assert.match(out, new RegExp(`^workload: events-open, pid \\d+, made N=${N} openat calls of /dev/null \\(status 0\\)$`, 'm'));
  assert.match(out, row('tracepoint syscalls:sys_enter_openat', N));
  assert.match(out, row(`raw_tracepoint sys_enter (id ${openatNumber()})`, N));
  assert.match(out, new RegExp(`^uprobe libc\\.so\\.6:openat \\(0x[0-9a-f]+\\) +counted +${N} of ${N} +\\d+ runs +\\d+ ns/run$`, 'm'));
  if (kprobesAvailable()) {
    assert.match(out, row('kprobe do_sys_openat2', N));
  } else {
    assert.match(out, /^kprobe do_sys_openat2 +not supported: cannot attach kprobe do_sys_openat2: this kernel has no kprobes/m);
  }
  const perf = /^perf_event cpu-clock 10000 Hz +sampled +(\d+) times +\d+ runs +\d+ ns\/run\n +where: (\d+) in openat, (\d+) in the uprobe's traps, (\d+) elsewhere in the kernel, (\d+) in user space$/m.exec(out);
  assert.ok(perf, out);
  // Every sample of the workload is sorted into exactly one of the four places.
  const [total, ...places] = perf.slice(1).map(Number);
  assert.equal(places.reduce((a, b) => a + b, 0), total);
});

test('step 6: a bad N is one line on stderr and status 2', () => {
  for (const bad of ['0', 'many', '2000000']) {
    const ran = step([bad]);
    assert.equal(ran.status, 2);
    assert.equal(ran.stderr, 'learn 6: N must be a whole number from 1 to 1000000\n');
    assert.equal(ran.stdout, '');
  }
});
