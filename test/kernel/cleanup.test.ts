// The binding detaches on its own, without any handler of the caller: signals, a closed pipe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { BPF, programExists, programInfo } from 'bcc-node-bindings';
import { needsBpf, sleep } from '../helpers/kernel.ts';

const HOLD = path.resolve(import.meta.dirname, '../fixtures/programs/hold-probe.ts');

async function startHolder(): Promise<{ child: ReturnType<typeof spawn>; ids: number[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', HOLD], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8');
  for await (const chunk of child.stdout!) {
    out += chunk;
    const m = /^ids ([\d ]+)\n/.exec(out);
    if (m) return { child, ids: m[1].split(' ').map(Number) };
  }
  throw new Error('holder exited before printing its program ids');
}

async function gone(ids: number[]): Promise<boolean> {
  for (let i = 0; i < 100 && ids.some(programExists); i++) await sleep(20);
  return !ids.some(programExists);
}

for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  test(`${signal} detaches every probe and exits with ${status}`, async (t) => {
    if (!needsBpf(t)) return;
    const { child, ids } = await startHolder();
    assert.equal(ids.length, 2);
    assert.ok(ids.every(programExists));
    child.kill(signal);
    const [code] = await once(child, 'exit');
    assert.equal(code, status);
    assert.ok(await gone(ids));
  });
}

test('a closed stdout (tool | head) detaches every probe and exits 0', async (t) => {
  if (!needsBpf(t)) return;
  const { child, ids } = await startHolder();
  child.stdout!.destroy();
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
  assert.ok(await gone(ids));
});

test('closeAsync detaches several tracepoints at once and unloads everything', async (t) => {
  if (!needsBpf(t)) return;
  const bpf = new BPF({
    text: `
      TRACEPOINT_PROBE(sched, sched_process_fork) { return 0; }
      TRACEPOINT_PROBE(sched, sched_process_exec) { return 0; }
      TRACEPOINT_PROBE(sched, sched_process_exit) { return 0; }
    `,
  });
  const ids = bpf.loadedFunctions().map((fn) => programInfo(fn.fd).id);
  assert.equal(ids.length, 3);
  assert.deepEqual(bpf.links().map((l) => l.kind), ['tracepoint', 'tracepoint', 'tracepoint']);
  await bpf.closeAsync();
  assert.ok(bpf.isClosed);
  assert.equal(bpf.links().length, 0);
  assert.ok(await gone(ids));
  await bpf.closeAsync(); // a second call does nothing
});
