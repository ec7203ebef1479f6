// A user who is not root must hear that, not that the kernel lacks something: tracefs is root's
// only and bpf() is refused to other users, so every feature probe used to answer "absent" and
// `syscount --ebpf` said "this kernel has no raw tracepoints". Run as nobody, through the real
// tools and the probes themselves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import {
  batchOpsSupported, fentryUsable, kprobesAvailable, rawTracepointSupported, ringBufferSupported, tracepointExists,
} from 'bcc-node-bindings';
import { TOOL_NAMES } from '../../tools/index.ts';
import { needsBpf } from '../helpers/kernel.ts';
import { REPO, runToolToEnd } from '../helpers/tool.ts';

const NOBODY = 65534;

/** What a tool said when it blamed the kernel for a refusal. */
const BLAMES_KERNEL = /this kernel|no such tracepoint|CONFIG_|not in this kernel|no way to trace|cannot attach/;

/**
 * Tools whose program needs no fact a user may not read: pktcount's XDP program asks the kernel
 * nothing; runqlen's reads the run queue at offsets from BTF, which any user may read.
 */
const PROGRAM_WITHOUT_KERNEL_FACTS = new Set(['pktcount', 'runqlen']);

for (const tool of TOOL_NAMES.filter((t) => PROGRAM_WITHOUT_KERNEL_FACTS.has(t))) {
  test(`${tool} --ebpf as a non-root user prints the program: it depends on no kernel fact`, async (t) => {
    if (!needsBpf(t)) return;
    const run = await runToolToEnd(tool, ['--ebpf'], { uid: NOBODY });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^int \w+\((struct xdp_md|void) \*ctx\)/m);
  });
}

for (const tool of TOOL_NAMES.filter((t) => !PROGRAM_WITHOUT_KERNEL_FACTS.has(t))) {
  test(`${tool} --ebpf as a non-root user: one line saying root is needed, exit 2`, async (t) => {
    if (!needsBpf(t)) return; // root, to become nobody
    const run = await runToolToEnd(tool, ['--ebpf'], { uid: NOBODY });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, new RegExp(`^${tool}: [^\\n]+ needs root: [^\\n]+; try sudo\\n$`));
    assert.doesNotMatch(run.stderr, BLAMES_KERNEL);
    assert.equal(run.stdout, '');
  });
}

test('as root, --ebpf of the same tools prints the program', async (t) => {
  if (!needsBpf(t)) return;
  for (const tool of TOOL_NAMES) {
    const run = await runToolToEnd(tool, ['--ebpf']);
    assert.equal(run.code, 0, `${tool}: ${run.stderr}`);
    assert.match(run.stdout, /^#define [A-Z_]+ /m, tool);
  }
});

/** Each probe, in a process of nobody's: what it threw (twice: the refusal is cached) or returned. */
const PROBE_AS_NOBODY = `
import('bcc-node-bindings').then((b) => {
  const probes = {
    tracepoint: () => b.tracepointExists('sched', 'sched_process_exec'),
    rawTracepoint: b.rawTracepointSupported,
    kprobes: b.kprobesAvailable,
    fentry: b.fentryUsable,
    ringBuffer: b.ringBufferSupported,
    batchOps: b.batchOpsSupported,
  };
  const out = {};
  for (const [name, probe] of Object.entries(probes)) {
    const answers = [];
    let first;
    for (let i = 0; i < 2; i++) {
      try { answers.push({ value: probe() }); } catch (err) { answers.push({ code: err.code, message: err.message, same: err === first }); first ??= err; }
    }
    out[name] = answers;
  }
  process.stdout.write(JSON.stringify(out));
});`;

test('every feature probe, refused to a non-root user, throws NOT_ROOT naming what it checked (and keeps throwing it)', (t) => {
  if (!needsBpf(t)) return;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', PROBE_AS_NOBODY], {
    cwd: REPO, uid: NOBODY, gid: NOBODY, encoding: 'utf8',
  });
  assert.equal(child.status, 0, child.stderr);
  const answers = JSON.parse(child.stdout) as Record<string, Array<{ value?: boolean; code?: string; message?: string; same?: boolean }>>;
  const expected: Record<string, string> = {
    tracepoint: 'looking up tracepoint sched:sched_process_exec needs root: tracefs (/sys/kernel/tracing) is readable by root only; try sudo',
    rawTracepoint: 'checking for raw tracepoints needs root: the kernel refuses bpf() to non-root users with EPERM (1); try sudo',
    fentry: 'checking for fentry needs root: the kernel refuses bpf() to non-root users with EPERM (1); try sudo',
    ringBuffer: 'checking for ring buffers needs root: the kernel refuses bpf() to non-root users with EPERM (1); try sudo',
    batchOps: 'checking for batch map operations needs root: the kernel refuses bpf() to non-root users with EPERM (1); try sudo',
    // This kernel has no kprobe PMU, so only tracefs could tell.
    kprobes: 'checking for kprobes needs root: tracefs (/sys/kernel/tracing) is readable by root only; try sudo',
  };
  for (const [name, message] of Object.entries(expected)) {
    const [first, second] = answers[name];
    assert.deepEqual(first, { code: 'NOT_ROOT', message, same: false }, name);
    // tracepointExists is not cached (a tracepoint can appear: a module loads); the others are.
    assert.deepEqual(second, { code: 'NOT_ROOT', message, same: name !== 'tracepoint' }, name);
  }
});

test('for root the probes answer yes or no, and "absent" stays absent', (t) => {
  if (!needsBpf(t)) return;
  assert.equal(tracepointExists('sched', 'sched_process_exec'), true);
  assert.equal(tracepointExists('bpfkit_no_such_category', 'no_such_event'), false);
  assert.equal(rawTracepointSupported(), true);
  assert.equal(ringBufferSupported(), true);
  assert.equal(batchOpsSupported(), true);
  assert.equal(kprobesAvailable(), fs.existsSync('/sys/bus/event_source/devices/kprobe/type') || fs.existsSync('/sys/kernel/tracing/kprobe_events'));
  // A kernel that refuses fentry to root (this VM's, with EPERM) has none, for root: no NOT_ROOT.
  assert.equal(typeof fentryUsable(), 'boolean');
});
