// tcpretrans against the real kernel: a connection between two network namespaces whose packets
// an nft rule drops for a while, so that the sender retransmits; the sender's own count
// (TCP_INFO's tcpi_total_retrans, printed by test/workloads/tcpretrans-loss.c) is the truth every
// output must match exactly. A second connection, never dropped, must show nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import { BPF, PROG_TYPE, kernelBtfAvailable, kprobesAvailable, rawTracepointSupported, tracepointExists } from 'bcc-node-bindings';
import { buildProgram } from '../../lib/run/program.ts';
import { liveKernel } from '../../lib/kernel/view.ts';
import { tracepointFields } from '../../lib/kernel/tracepoint-fields.ts';
import { configureTcpretrans } from '../../tools/tcpretrans/program.ts';
import { COMM_LEN, RECORD_SIZE, RETRANS_EVENT_OFFSETS } from '../../tools/tcpretrans/events.ts';
import { needsBpf } from '../helpers/kernel.ts';
import { structFields } from '../helpers/bpf.ts';
import { explainedRun, expectedEventRecords, firstUsable } from '../helpers/attach.ts';
import { runToolToEnd, startInTest, stopAll, type ToolRun } from '../helpers/tool.ts';
import { freePort, scrape } from '../helpers/http.ts';
import { workload } from '../helpers/workloads.ts';
import { makeNetnsPair, type NetnsPair } from '../helpers/netns.ts';
import { TIME_SCALE } from '../helpers/guest.ts';

// 20 messages of 50 bytes, 50 ms apart: about a second of writes into the blackout, and less
// than one MSS in all, so that every retransmitted skb is one segment (tcpi_total_retrans counts
// segments, the tracepoint skbs; the `segs` field is checked to sum to it as well).
const MESSAGES = 20;
const SIZE = 50;
const GAP_MS = 50;
// Past the last write, the rule stays this long more: several RTOs (200 ms minimum) in all.
const EXTRA_BLACKOUT_MS = 600;
const WAIT_MS = 60_000 * TIME_SCALE;

// --- the workload and its namespaces ---

interface Proc {
  child: ChildProcess;
  out: () => string;
  /** The numbers after `word` on the first stdout line that is `word` and numbers, waited for (bounded). */
  line(word: string): Promise<number[]>;
  exited: Promise<number>;
}

function spawnIn(t: TestContext, argv: [string, string[]]): Proc {
  const child = spawn(argv[0], argv[1], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const exited = once(child, 'exit').then(([code]) => code as number);
  const line = (word: string) => new Promise<number[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${word}" line within ${WAIT_MS} ms: ${out}${err}`)), WAIT_MS);
    const check = () => {
      const m = new RegExp(`^${word}((?: -?\\d+)*)$`, 'm').exec(out);
      if (m) { clearTimeout(timer); resolve(m[1] ? m[1].trim().split(' ').map(Number) : []); return true; }
      return false;
    };
    if (check()) return;
    child.stdout!.on('data', check);
    void exited.then((code) => { if (!check()) { clearTimeout(timer); reject(new Error(`exited ${code} without a "${word}" line: ${out}${err}`)); } });
  });
  return { child, out: () => out + err, line, exited };
}

function nft(pair: NetnsPair, ...args: string[]): void {
  execFileSync('ip', ['netns', 'exec', pair.b, 'nft', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

interface Outcome {
  family: 4 | 6;
  local: string;
  remote: string;
  clientPid: number;
  /** The dropped connection: client port → server port. */
  lossy: { lport: number; rport: number };
  control: { lport: number; rport: number };
  /** tcpi_total_retrans of each, read by the sender once everything was acknowledged. */
  retrans: { lossy: number; control: number };
}

/**
 * Runs the scenario once the tracers are ready: connect both, drop the lossy connection's packets
 * at the receiver while the client writes, lift the rule, let both finish.
 */
async function lossyTransfer(t: TestContext, pair: NetnsPair, family: 4 | 6, ready: () => Promise<void>): Promise<Outcome> {
  const bin = workload('tcpretrans-loss');
  const [local, remote] = family === 4 ? [pair.addrA4, pair.addrB4] : [pair.addrA6, pair.addrB6];
  const server = spawnIn(t, pair.exec(pair.b, bin, ['serve', remote]));
  const [, lossyPort, controlPort] = await server.line('server');
  await ready();
  const client = spawnIn(t, pair.exec(pair.a, bin, ['send', remote, String(lossyPort), String(controlPort), String(MESSAGES), String(SIZE), String(GAP_MS)]));
  const [clientPid, lossyLport, controlLport] = await client.line('client');
  nft(pair, 'add', 'table', 'inet', 'tcpretrans');
  nft(pair, 'add', 'chain', 'inet', 'tcpretrans', 'in', '{ type filter hook input priority 0; }');
  nft(pair, 'add', 'rule', 'inet', 'tcpretrans', 'in', 'tcp', 'dport', String(lossyPort), 'drop');
  client.child.stdin!.write('go\n');
  await client.line('written');
  await new Promise((r) => setTimeout(r, EXTRA_BLACKOUT_MS));
  nft(pair, 'delete', 'table', 'inet', 'tcpretrans');
  client.child.stdin!.write('go\n');
  const [retransLossy, retransControl] = await client.line('retrans');
  const answers = await client.line('answers');
  const received = await server.line('received');
  assert.deepEqual(await Promise.all([client.exited, server.exited]), [0, 0], client.out() + server.out());
  // Every byte arrived, on both connections, and the blackout did cost retransmits.
  assert.deepEqual(answers, [MESSAGES * SIZE, MESSAGES * SIZE]);
  assert.deepEqual(received, [MESSAGES * SIZE, MESSAGES * SIZE]);
  assert.ok(retransLossy > 0, 'the sender retransmitted on the lossy connection');
  assert.equal(retransControl, 0, 'nothing was retransmitted on the control connection');
  return {
    family, local, remote, clientPid,
    lossy: { lport: lossyLport, rport: lossyPort },
    control: { lport: controlLport, rport: controlPort },
    retrans: { lossy: retransLossy, control: retransControl },
  };
}

function netns(t: TestContext, tag: string): NetnsPair {
  const pair = makeNetnsPair(`${tag}${process.pid}`);
  t.after(() => pair.close());
  return pair;
}

// --- tcpretrans's output ---

interface JsonRow {
  time: string; pid: number; comm: string; pid_from: string; ip: number; laddr: string; lport: number;
  raddr: string; rport: number; type: string; state: string; seq: number; segs: number; err: number;
}

function jsonRows(run: ToolRun): JsonRow[] {
  return run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as JsonRow);
}

/** Rows of the lossy flow (the sender's side, as the kernel retransmits there). */
function lossyRows(rows: JsonRow[], o: Outcome): JsonRow[] {
  return rows.filter((r) => r.laddr === o.local && r.lport === o.lossy.lport && r.raddr === o.remote && r.rport === o.lossy.rport);
}

/** Rows of any other flow of the scenario: the control connection either way, the lossy one's receiving side. */
function otherRows(rows: JsonRow[], o: Outcome): JsonRow[] {
  const ends = (r: JsonRow, a: number, b: number) => (r.lport === a && r.rport === b) || (r.lport === b && r.rport === a);
  return rows.filter((r) => ends(r, o.control.lport, o.control.rport) || (r.lport === o.lossy.rport && r.rport === o.lossy.lport));
}

/** What each row of the lossy flow must say, beyond seq (known only to the kernel). */
function checkLossyRows(rows: JsonRow[], o: Outcome, stderr: string): void {
  // Exact, unless the tool said the kernel skipped its program (recursion misses: the raw
  // tracepoint's program already running on that CPU, a retransmit timer interrupting it): then
  // exactly that many fewer at most, never more.
  const missed = Number(/(\d+) events not traced/.exec(stderr)?.[1] ?? 0);
  const segs = rows.reduce((n, r) => n + r.segs, 0);
  assert.ok(segs <= o.retrans.lossy && segs + missed >= o.retrans.lossy, `one row per retransmit the sender counted (${o.retrans.lossy}):\n${JSON.stringify(rows)}\n${stderr}`);
  assert.equal(rows.length, segs, 'one segment per row');
  for (const r of rows) {
    assert.deepEqual({ ...r, time: '', seq: 0 }, {
      time: '', pid: o.clientPid, comm: 'tcpretrans-loss', pid_from: 'connect', ip: o.family, laddr: o.local, lport: o.lossy.lport,
      raddr: o.remote, rport: o.lossy.rport, type: 'R', state: r.state === 'FIN_WAIT1' ? 'FIN_WAIT1' : 'ESTABLISHED', seq: 0, segs: 1, err: 0,
    });
    assert.match(r.time, /^\d\d:\d\d:\d\d$/);
  }
}

test('IPv4: one row per retransmit of the dropped connection, as many as tcpi_total_retrans, none for the control; -s, --json, -c and the tracepoint rung agree', async (t) => {
  if (!needsBpf(t)) return;
  const pair = netns(t, 'trv4');
  const text = startInTest(t, 'tcpretrans', ['-s']);
  const json = startInTest(t, 'tcpretrans', ['--json']);
  const count = startInTest(t, 'tcpretrans', ['-c']);
  // Kernels with BTF never reach the classic tracepoint on their own: BPFKIT_AVOID makes this run take it.
  const classic = startInTest(t, 'tcpretrans', ['--json', '--explain'], { env: { BPFKIT_AVOID: 'raw_tracepoint' } });
  const o = await lossyTransfer(t, pair, 4, async () => { await Promise.all([text.ready, json.ready, count.ready, classic.ready]); });
  await stopAll(text, json, count, classic);

  const rows = jsonRows(json);
  checkLossyRows(lossyRows(rows, o), o, json.stderr);
  assert.deepEqual(otherRows(rows, o), []);

  // The classic tracepoint hands over the flow in its fields: the same rows, field for field,
  // except those the kernel skipped because another BPF tracing program was running on that CPU
  // (bpf_prog_active; the reason it is the second rung): a subsequence, in the same order.
  assert.match(classic.stderr, /^ {2}TCP retransmits: tracepoint tcp:tcp_retransmit_skb/m);
  assert.match(classic.stderr, /^ {2}the process named in PID: tracepoint sock:inet_sock_set_state/m);
  const strip = (r: JsonRow) => JSON.stringify({ ...r, time: '' });
  const all = lossyRows(rows, o).map(strip);
  let at = 0;
  for (const row of lossyRows(jsonRows(classic), o).map(strip)) {
    while (at < all.length && all[at] !== row) at++;
    assert.ok(at < all.length, `a row of the tracepoint rung that the raw one lacks: ${row}`);
    at++;
  }
  assert.deepEqual(otherRows(jsonRows(classic), o), []);

  // bcc's columns with -s: "%-8s %-7d %-2d %-20s %1s> %-20s %-12s %s", in the order the kernel sent them.
  const lines = text.stdout.split('\n');
  assert.equal(lines[0], 'Tracing retransmits ... Hit Ctrl-C to end');
  assert.equal(lines[1], 'TIME     PID     IP LADDR:LPORT          T> RADDR:RPORT          STATE        SEQ       ');
  const flow = ` 4  ${`${o.local}:${o.lossy.lport}`.padEnd(20)} R> ${`${o.remote}:${o.lossy.rport}`.padEnd(20)} `;
  const mine = lines.filter((l) => l.includes(flow));
  assert.deepEqual(mine.map((l) => l.slice(8)), lossyRows(rows, o).map((r) => ` ${String(o.clientPid).padEnd(7)}${flow}${r.state.padEnd(12)} ${r.seq}`));
  assert.ok(mine.every((l) => /^\d\d:\d\d:\d\d /.test(l)));
  assert.ok(!lines.some((l) => l.includes(`:${o.control.lport} `) || l.includes(`:${o.control.rport} `)), text.stdout);

  // -c: bcc's table at Ctrl-C, the flow's count exact, no row for the control connection.
  const counted = count.stdout.split('\n');
  assert.deepEqual(counted.slice(0, 3), ['Tracing retransmits ... Hit Ctrl-C to end', '', 'LADDR:LPORT               RADDR:RPORT               RETRANSMITS']);
  const endpoint = (addr: string, port: number) => `[${addr}]#${port}`.padEnd(20);
  assert.deepEqual(counted.filter((l) => l.includes(`#${o.lossy.lport} `) || l.includes(`#${o.control.lport} `)),
    [`${endpoint(o.local, o.lossy.lport)} <-> ${endpoint(o.remote, o.lossy.rport)} ${String(o.retrans.lossy).padStart(10)}`]);
});

test('IPv6: -6 sees the dropped connection exactly, -4 none of it; -c --json and --metrics count it exactly', async (t) => {
  if (!needsBpf(t)) return;
  const pair = netns(t, 'trv6');
  const only6 = startInTest(t, 'tcpretrans', ['-6', '--json']);
  const only4 = startInTest(t, 'tcpretrans', ['-4', '--json']);
  const counts = startInTest(t, 'tcpretrans', ['-c', '--json']);
  const port = await freePort();
  const metrics = startInTest(t, 'tcpretrans', ['--metrics', `127.0.0.1:${port}`]);
  const o = await lossyTransfer(t, pair, 6, async () => { await Promise.all([only6.ready, only4.ready, counts.ready, metrics.ready]); });
  const body = await scrape(port);
  await stopAll(only6, only4, counts, metrics);

  checkLossyRows(lossyRows(jsonRows(only6), o), o, only6.stderr);
  assert.deepEqual(otherRows(jsonRows(only6), o), []);
  assert.ok(jsonRows(only6).every((r) => r.ip === 6));
  assert.ok(jsonRows(only4).every((r) => r.ip === 4), only4.stdout);

  const perFlow = counts.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const ours = perFlow.filter((f) => [o.lossy.lport, o.control.lport, o.lossy.rport, o.control.rport].includes(f.lport as number));
  assert.deepEqual(ours, [{ ip: 6, laddr: o.local, lport: o.lossy.lport, raddr: o.remote, rport: o.lossy.rport, retransmits: o.retrans.lossy, loss_probes: 0 }]);

  const series = body.split('\n').filter((l) => l.startsWith('bpfkit_tcp_retransmits_total{') &&
    [o.lossy.lport, o.control.lport].some((p) => l.includes(`]:${p}"`)));
  assert.deepEqual(series, [`bpfkit_tcp_retransmits_total{laddr="[${o.local}]:${o.lossy.lport}",raddr="[${o.remote}]:${o.lossy.rport}"} ${o.retrans.lossy}`]);
  assert.match(body, /^bpfkit_lost_events_total\{tool="tcpretrans"\} 0$/m);
});

test('-l: tail loss probes from a kprobe where the kernel has kprobes, else one line and exit 2', async (t) => {
  if (!needsBpf(t)) return;
  if (!kprobesAvailable()) {
    const refused = await runToolToEnd('tcpretrans', ['-l']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.equal(refused.stderr, 'tcpretrans: -l needs a kprobe on tcp_send_loss_probe: this kernel has no kprobes, and no tracepoint marks a tail loss probe\n');
    assert.equal(refused.stdout, '');
    return;
  }
  const { chosen } = await explainedRun(t, 'tcpretrans', ['-l']);
  assert.equal(chosen['tail loss probes (-l)'], 'kprobe tcp_send_loss_probe');
});

test('tcpretrans --explain picks the attach points this kernel offers', async (t) => {
  if (!needsBpf(t)) return;
  const { chosen, stderr } = await explainedRun(t, 'tcpretrans', []);
  const btfOrHeaders = kernelBtfAvailable()
    ? "the running kernel's BTF" : "the kernel headers libbcc compiles with (right only when they are the running kernel's)";
  // The raw tracepoints hand over the socket alone: its fields are read at offsets.
  const readsSock = chosen['TCP retransmits']?.startsWith('raw ') || chosen['the process named in PID']?.startsWith('raw ');
  assert.deepEqual(chosen, {
    'TCP retransmits': firstUsable('TCP retransmits', [
      ['raw tracepoint tcp_retransmit_skb (sk, skb[, err]), the socket read at BTF offsets', () => rawTracepointSupported() && kernelBtfAvailable()],
      ['tracepoint tcp:tcp_retransmit_skb (skipped while another BPF tracing program runs on the CPU)', () => tracepointExists('tcp', 'tcp_retransmit_skb')],
      ["kprobe tcp_retransmit_skb (bcc's fallback: failed attempts count too)", () => kprobesAvailable()],
    ]),
    'tail loss probes (-l)': 'not traced',
    'the process named in PID': firstUsable('the process named in PID', [
      ["raw tracepoint inet_sock_set_state (the socket's owner, remembered at SYN_SENT inside connect())", () => rawTracepointSupported() && kernelBtfAvailable()],
      ['tracepoint sock:inet_sock_set_state (the same, skipped while another BPF tracing program runs)', () => tracepointExists('sock', 'inet_sock_set_state')],
      ["the process on the CPU at the retransmit (bcc's PID)", () => true],
    ]),
    ...(readsSock ? { 'struct sock field offsets': btfOrHeaders } : {}),
    'struct sk_buff fields (SEQ, segments)': btfOrHeaders,
    'event records': expectedEventRecords(),
  }, stderr);
  // The decision about -l is shown even without it, with what it would need here.
  assert.match(stderr, kprobesAvailable() ? /^ {4}not kprobe tcp_send_loss_probe: not asked for \(-l\)$/m
    : /^ {4}not kprobe tcp_send_loss_probe: not asked for \(-l\); this kernel has no kprobes, and no tracepoint marks a tail loss probe$/m);
  // The tracepoint's `err` (6.10+) says whether failed attempts reach the program, on either rung.
  const ebpf = await runToolToEnd('tcpretrans', ['--ebpf']);
  const hasErr = tracepointFields('tcp', 'tcp_retransmit_skb')?.includes('err') ?? false;
  const raw = chosen['TCP retransmits'].startsWith('raw ');
  assert.match(ebpf.stdout, new RegExp(`^#define TP_HAS_ERR ${!raw && hasErr ? 1 : 0}$`, 'm'));
  assert.match(ebpf.stdout, new RegExp(`^#define RAW_HAS_ERR ${raw && hasErr ? 1 : 0}$`, 'm'));
});

test('the kprobe fallbacks (bcc\'s tcp_retransmit_skb, and -l\'s tcp_send_loss_probe) pass the verifier', async (t) => {
  if (!needsBpf(t)) return;
  const live = { ...liveKernel(), tracepointFields };
  const program = configureTcpretrans({ events: true, count: true, lossprobe: true }, {
    ...live,
    tracepoint: (category, event) => !(category === 'tcp' && event === 'tcp_retransmit_skb') && live.tracepoint(category, event),
    rawTracepoints: () => false,
    kprobes: () => true,
    kernelFunction: () => true,
  });
  assert.equal(program.hook, 'kprobe');
  const p = buildProgram(program);
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    assert.deepEqual(bpf.functionNames().sort(), ['kprobe__tcp_retransmit_skb', 'kprobe__tcp_send_loss_probe', 'tracepoint__sock__inet_sock_set_state']);
    for (const name of ['kprobe__tcp_retransmit_skb', 'kprobe__tcp_send_loss_probe']) assert.ok(bpf.loadFunc(name, PROG_TYPE.KPROBE).fd >= 0, name);
  } finally {
    bpf.close();
  }
});

// --- the record contract: struct retrans_event in C is the truth ---

test('events.ts reads struct retrans_event at the offsets libbcc lays the C struct out with', async (t) => {
  if (!needsBpf(t)) return;
  const program = configureTcpretrans({ events: true, count: false, lossprobe: false });
  const p = buildProgram({ ...program, defines: { ...program.defines, LAYOUT_MAP: 1 } });
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    const fields = structFields(bpf, 'layout');
    assert.deepEqual(Object.fromEntries(fields.map((f) => [f.name, f.offset])), RETRANS_EVENT_OFFSETS);
    const comm = fields.find((f) => f.name === 'comm')!.layout;
    assert.equal(comm.kind === 'chararray' ? comm.length : -1, COMM_LEN);
    assert.equal(bpf.table('layout').info.leafSize, RECORD_SIZE);
  } finally {
    bpf.close();
  }
});
