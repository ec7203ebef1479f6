// pktcount against the real kernel: UDP datagrams in known numbers sent across a veth pair
// between two namespaces the test makes (test/workloads/pktcount-udp.c), counted by pktcount's
// XDP program on the receiving end (run inside that namespace), to the packet and the byte;
// --drop proven by a receiver that gets none of the dropped datagrams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { BPF } from 'bcc-node-bindings';
import { buildProgram } from '../../lib/run/program.ts';
import { configurePktcount } from '../../tools/pktcount/program.ts';
import { needsBpf } from '../helpers/kernel.ts';
import { explainedChoices, reportChoices } from '../helpers/attach.ts';
import { structFields } from '../helpers/bpf.ts';
import { makeNetnsPair, type NetnsPair } from '../helpers/netns.ts';
import { REPO } from '../helpers/tool.ts';
import { workload } from '../helpers/workloads.ts';

const PORT_K = 5001;
const PORT_M = 5002;
const K = 120;
const M = 80;
const SIZE_K = 100;
const SIZE_M = 300;
// Whole frames: Ethernet 14, IPv4 20 or IPv6 40, UDP 8, then the payload.
const FRAME_V4 = (size: number) => 14 + 20 + 8 + size;
const FRAME_V6 = (size: number) => 14 + 40 + 8 + size;

interface Run { child: ChildProcess; stdout: () => string; stderr: () => string; ready: Promise<void>; exited: Promise<number> }

/** Starts `cmd args` in namespace `ns`, killed when the test ends; ready once `readyText` appears. */
function startIn(t: TestContext, pair: NetnsPair, ns: string, cmd: string, args: string[], readyText: RegExp, stdin = false): Run {
  const [c, a] = pair.exec(ns, cmd, args);
  const child = spawn(c, a, { cwd: REPO, env: { ...process.env, BPFKIT_READY: '1' }, stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? (signal === 'SIGKILL' ? 137 : 130)) as number);
  const ready = new Promise<void>((resolve, reject) => {
    const check = () => { if (readyText.test(out) || readyText.test(err)) resolve(); };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    void exited.then((code) => reject(new Error(`${cmd} exited (${code}) before it was ready:\n${err}`)));
  });
  ready.catch(() => {});
  return { child, stdout: () => out, stderr: () => err, ready, exited };
}

function pktcount(t: TestContext, pair: NetnsPair, args: string[]): Run {
  return startIn(t, pair, pair.b, process.execPath, ['--import', 'tsx', path.join(REPO, 'tools/pktcount.ts'), ...args], /pktcount: ready\n/);
}

function xdpOn(ns: string): boolean {
  return / xdp(generic)? /.test(execFileSync('ip', ['-n', ns, 'link', 'show', 'veth0'], { encoding: 'utf8' }));
}

/**
 * K datagrams over IPv4 to PORT_K, then M over IPv6 to PORT_M, to a receiver in namespace b;
 * resolves with what the receiver got once PORT_M has all M (veth keeps one queue in order, so
 * the K went through XDP before).
 */
async function traffic(t: TestContext, pair: NetnsPair): Promise<Map<number, number>> {
  const bin = workload('pktcount-udp');
  const recv = startIn(t, pair, pair.b, bin, ['recv', String(PORT_M), String(M), String(PORT_K), String(PORT_M)], /^ready$/m);
  await recv.ready;
  for (const [addr, port, n, size] of [[pair.addrB4, PORT_K, K, SIZE_K], [pair.addrB6, PORT_M, M, SIZE_M]] as const) {
    const send = startIn(t, pair, pair.a, bin, ['send', addr, String(port), String(n), String(size)], /^sent /m);
    assert.equal(await send.exited, 0, send.stderr());
  }
  assert.equal(await recv.exited, 0, recv.stderr());
  const m = /^got((?: \d+ \d+)+)$/m.exec(recv.stdout());
  assert.ok(m, `receiver said: ${recv.stdout()}`);
  const nums = m[1].trim().split(' ').map(Number);
  return new Map([[nums[0], nums[1]], [nums[2], nums[3]]]);
}

interface JsonRow { proto: string; port: number; packets: number; bytes: number; dropped: number }

/** The UDP rows of every interval, summed per port (ND, MLD and ARP are icmpv6 and other rows). */
function udpTotals(stdout: string): Map<number, JsonRow> {
  const totals = new Map<number, JsonRow>();
  for (const line of stdout.split('\n').filter(Boolean)) {
    const obj = JSON.parse(line) as { time: string; rows: JsonRow[] };
    assert.match(obj.time, /^\d\d:\d\d:\d\d$/);
    for (const r of obj.rows.filter((x) => x.proto === 'udp')) {
      const sum = totals.get(r.port) ?? { ...r, packets: 0, bytes: 0, dropped: 0 };
      totals.set(r.port, { ...sum, packets: sum.packets + r.packets, bytes: sum.bytes + r.bytes, dropped: sum.dropped + r.dropped });
    }
  }
  return totals;
}

test('pktcount counts exactly the UDP datagrams sent to each port, IPv4 and IPv6, to the byte', async (t) => {
  if (!needsBpf(t)) return;
  const pair = makeNetnsPair(`pkc${process.pid}`);
  t.after(() => pair.close());
  // A long interval: the one drain, at Ctrl-C, comes after the traffic.
  const run = pktcount(t, pair, ['--json', 'veth0', '3600']);
  await run.ready;
  const got = await traffic(t, pair);
  assert.deepEqual([got.get(PORT_K), got.get(PORT_M)], [K, M]);
  run.child.kill('SIGINT');
  assert.equal(await run.exited, 0, run.stderr());
  const udp = udpTotals(run.stdout());
  assert.deepEqual([...udp.keys()].sort(), [PORT_K, PORT_M]);
  assert.deepEqual(udp.get(PORT_K), { proto: 'udp', port: PORT_K, packets: K, bytes: K * FRAME_V4(SIZE_K), dropped: 0 });
  assert.deepEqual(udp.get(PORT_M), { proto: 'udp', port: PORT_M, packets: M, bytes: M * FRAME_V6(SIZE_M), dropped: 0 });
});

test('pktcount --drop udp:PORT: the receiver gets none of them, the drop counter says how many; the other port passes', async (t) => {
  if (!needsBpf(t)) return;
  const pair = makeNetnsPair(`pkd${process.pid}`);
  t.after(() => pair.close());
  const run = pktcount(t, pair, ['--json', '--drop', `udp:${PORT_K}`, '--drop', 'tcp:1', 'veth0', '3600']);
  await run.ready;
  const got = await traffic(t, pair);
  assert.deepEqual([got.get(PORT_K), got.get(PORT_M)], [0, M]);
  run.child.kill('SIGINT');
  assert.equal(await run.exited, 0, run.stderr());
  const udp = udpTotals(run.stdout());
  assert.deepEqual(udp.get(PORT_K), { proto: 'udp', port: PORT_K, packets: K, bytes: K * FRAME_V4(SIZE_K), dropped: K });
  assert.deepEqual(udp.get(PORT_M), { proto: 'udp', port: PORT_M, packets: M, bytes: M * FRAME_V6(SIZE_M), dropped: 0 });
});

test('pktcount: kill -9 leaves no XDP program on the interface; Ctrl-C neither', async (t) => {
  if (!needsBpf(t)) return;
  const pair = makeNetnsPair(`pkk${process.pid}`);
  t.after(() => pair.close());
  for (const signal of ['SIGKILL', 'SIGINT'] as const) {
    const run = pktcount(t, pair, ['veth0']);
    await run.ready;
    assert.equal(xdpOn(pair.b), true);
    run.child.kill(signal);
    await run.exited;
    assert.equal(xdpOn(pair.b), false, `XDP still on veth0 after ${signal}`);
  }
});

test('pktcount --explain picks the attach points this kernel offers', async (t) => {
  if (!needsBpf(t)) return;
  const pair = makeNetnsPair(`pke${process.pid}`);
  t.after(() => pair.close());
  const run = pktcount(t, pair, ['--explain', 'veth0']);
  await run.ready;
  // The truth from outside the tool: what `ip link` shows, and the kind of link its fds hold.
  const shown = execFileSync('ip', ['-n', pair.b, 'link', 'show', 'veth0'], { encoding: 'utf8' });
  const fdinfo = execFileSync('sh', ['-c', `cat /proc/${run.child.pid}/fdinfo/*`], { encoding: 'utf8' });
  run.child.kill('SIGINT');
  assert.equal(await run.exited, 0, run.stderr());
  const choices = explainedChoices(run.stderr());
  reportChoices(t, 'pktcount', choices);
  const chosen = Object.fromEntries(choices.map((c) => [c.purpose, c.chosen]));
  assert.match(chosen['XDP mode on veth0'], / xdpgeneric /.test(shown) ? /^generic XDP/ : /^native XDP/);
  assert.match(chosen['XDP attachment'], /link_type:\txdp/.test(fdinfo) ? /^bpf_link / : /^netlink /);
  assert.match(run.stderr(), /program id \d+ xdp_pktcount: xdp on xdp veth0/);
});

test('pktcount --explain on lo: generic XDP, since the loopback driver has no native mode', async (t) => {
  if (!needsBpf(t)) return;
  // The lo of a namespace of the test's own: the host's lo may carry the conventions test's run.
  const pair = makeNetnsPair(`pkl${process.pid}`);
  t.after(() => pair.close());
  const run = pktcount(t, pair, ['--explain', 'lo']);
  await run.ready;
  run.child.kill('SIGINT');
  assert.equal(await run.exited, 0, run.stderr());
  const chosen = Object.fromEntries(explainedChoices(run.stderr()).map((c) => [c.purpose, c.chosen]));
  assert.match(chosen['XDP mode on lo'], /^generic XDP/);
  assert.match(run.stderr(), /^ {4}not native XDP: the driver of lo refused it: /m);
  assert.match(chosen['XDP attachment'], /^(bpf_link|netlink) /);
});

test('pktcount: the counting map\'s key and value are laid out as rows.ts decodes them', (t) => {
  if (!needsBpf(t)) return;
  const p = buildProgram(configurePktcount({ ifname: 'lo', maxKeys: 64 }));
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    const fields = structFields(bpf, 'counts');
    assert.deepEqual(Object.fromEntries(fields.map((f) => [f.name, f.offset])), { packets: 0, bytes: 8, dropped: 16 });
    const key = bpf.table('counts').info.keyLayout;
    assert.equal(key.kind, 'struct');
    if (key.kind === 'struct') assert.deepEqual(Object.fromEntries(key.fields.map((f) => [f.name, f.offset])), { proto: 0, pad: 1, port: 2 });
    // Loads as XDP: the verifier accepts every packet access.
    assert.ok(bpf.loadFunc('xdp_pktcount', BPF.PROG_TYPE.XDP).fd >= 0);
  } finally {
    bpf.close();
  }
});

