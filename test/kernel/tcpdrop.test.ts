// tcpdrop against the real kernel: SYNs refused on loopback (no socket) and SYNs an nft rule drops
// in a network namespace, each seen exactly once with its reason, flags and a symbolised stack.
// Other tests make their own connections meanwhile: everything is matched by this test's ports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { BPF, PROG_TYPE, kernelBtf, rawTracepointSupported, ringBufferSupported, tracepointExists } from 'bcc-node-bindings';
import { needsBpf } from '../helpers/kernel.ts';
import { explainedRun, firstUsable } from '../helpers/attach.ts';
import { startInTest, type ToolRun } from '../helpers/tool.ts';
import { workload } from '../helpers/workloads.ts';
import { makeNetnsPair } from '../helpers/netns.ts';
import { freePort, scrape } from '../helpers/http.ts';
import { structFields } from '../helpers/bpf.ts';
import { buildProgram } from '../../lib/run/program.ts';
import { DROP_EVENT_OFFSETS, DROP_EVENT_SIZE } from '../../tools/tcpdrop/events.ts';
import { configureTcpdrop, liveTcpdropKernel, type DropHook, type TcpdropConfig } from '../../tools/tcpdrop/program.ts';

interface JsonDrop {
  time: string; pid: number; comm: string; ip: number; saddr: string; sport: number; daddr: string; dport: number;
  state: string | null; flags: string[]; reason: string | null; reason_code: number | null; stack: string[];
}

const jsonDrops = (run: ToolRun): JsonDrop[] => run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as JsonDrop);

/** The drops involving a port, in either direction. */
const touching = (drops: JsonDrop[], port: number) => drops.filter((d) => d.sport === port || d.dport === port);

/** Text output: one block per drop (bcc's row, then its frames), rows keyed by their first line. */
function textBlocks(stdout: string): Array<{ row: string; frames: string[] }> {
  const blocks: Array<{ row: string; frames: string[] }> = [];
  for (const line of stdout.split('\n').slice(1)) {
    if (line.startsWith('\t')) blocks.at(-1)?.frames.push(line.slice(1));
    else if (line) blocks.push({ row: line, frames: [] });
  }
  return blocks;
}

/** The value of enum skb_drop_reason's constant on this kernel. */
function reasonCode(name: string): number {
  return Number(kernelBtf().enumValues('skb_drop_reason')!.get(`SKB_DROP_REASON_${name}`));
}

/** Runs a workload to its end (status 0) and returns what it printed. */
async function runWorkload(argv: [string, string[]]): Promise<string> {
  const child = spawn(argv[0], argv[1], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, `${argv.join(' ')} exited ${code}`);
  return out;
}

const N = 3;

test('loopback: N refused connects (v4 and v6) are exactly N NO_SOCKET drops of SYNs each, with tcp_v4_rcv / tcp_v6_rcv in the stack; -6 sees only the v6 ones; --metrics counts them', async (t) => {
  if (!needsBpf(t)) return;
  const [port4, port6, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const json = startInTest(t, 'tcpdrop', ['--json']);
  const text = startInTest(t, 'tcpdrop', []);
  const only6 = startInTest(t, 'tcpdrop', ['-6', '--json']);
  const metrics = startInTest(t, 'tcpdrop', ['--metrics', `127.0.0.1:${metricsPort}`]);
  await Promise.all([json.ready, text.ready, only6.ready, metrics.ready]);

  const refused = workload('tcpflows');
  const out4 = await runWorkload([refused, ['refused', '127.0.0.1', String(port4), String(N)]]);
  const out6 = await runWorkload([refused, ['refused', '::1', String(port6), String(N)]]);
  const pid4 = Number(/^refused (\d+) /.exec(out4)![1]);
  const pid6 = Number(/^refused (\d+) /.exec(out6)![1]);
  const expected = (port: number) => new RegExp(`(?:"dport":${port},[^]*?){${N}}`);
  assert.ok(await json.waitForOutput(expected(port4)), json.stdout);
  assert.ok(await json.waitForOutput(expected(port6)), json.stdout);
  assert.ok(await only6.waitForOutput(expected(port6)), only6.stdout);
  assert.ok(await text.waitForOutput(new RegExp(`(?:::1:${port6} [^]*?){${N}}`)), text.stdout);
  const scraped = await scrape(metricsPort);
  for (const run of [json, text, only6, metrics]) assert.equal(await run.stop('SIGINT'), 0, run.stderr);

  for (const [ip, port, pid, addr, rcv] of [[4, port4, pid4, '127.0.0.1', 'tcp_v4_rcv'], [6, port6, pid6, '::1', 'tcp_v6_rcv']] as const) {
    const drops = touching(jsonDrops(json), port);
    assert.equal(drops.length, N, json.stdout);
    assert.equal(new Set(drops.map((d) => d.sport)).size, N, 'one SYN per connect, each from its own port');
    for (const d of drops) {
      const { time, pid: onCpu, comm, sport, stack, ...rest } = d;
      assert.deepEqual(rest, {
        ip, saddr: addr, daddr: addr, dport: port, state: null, flags: ['SYN'], reason: 'NO_SOCKET', reason_code: reasonCode('NO_SOCKET'),
      });
      assert.match(time, /^\d\d:\d\d:\d\d$/);
      assert.ok(sport > 0);
      // Loopback hands the SYN to the receive path in the connecting task's own softirq (the
      // stack shows connect()): the process on the CPU is the workload, unless ksoftirqd ran it.
      assert.ok((onCpu === pid && comm === 'tcpflows') || comm.startsWith('ksoftirqd/'), `${onCpu} ${comm}`);
      assert.ok(stack.some((f) => f.startsWith(`${rcv}+0x`)), stack.join('\n'));
      assert.ok(stack.every((f) => /^[\w.$]+\+0x[0-9a-f]+( \[[\w-]+\])?$|^\[unknown\]$/.test(f)), stack.join('\n'));
    }
    const blocks = textBlocks(text.stdout).filter((b) => b.row.includes(`${addr}:${port} `));
    assert.equal(blocks.length, N, text.stdout);
    for (const b of blocks) {
      assert.match(b.row, new RegExp(`^\\d\\d:\\d\\d:\\d\\d \\d+ +${ip}  ${addr.replaceAll('.', '\\.')}:\\d+ +> ${addr.replaceAll('.', '\\.')}:${port} +- \\(SYN\\) NO_SOCKET$`));
      assert.ok(b.frames.some((f) => f.startsWith(`${rcv}+0x`)), b.frames.join('\n'));
    }
  }
  assert.equal(text.stdout.split('\n')[0], 'TIME     PID     IP SADDR:SPORT          > DADDR:DPORT          STATE (FLAGS) REASON');
  assert.equal(touching(jsonDrops(only6), port6).length, N);
  assert.ok(jsonDrops(only6).every((d) => d.ip === 6), only6.stdout);

  const count = Number(/^bpfkit_tcp_drops_total\{reason="NO_SOCKET",state="-"\} (\d+)$/m.exec(scraped)?.[1] ?? -1);
  // System-wide: other tests' refused connects count too.
  assert.ok(count >= 2 * N, scraped);
  assert.match(scraped, /^# TYPE bpfkit_tcp_drops_total counter$/m);
});

function nft(ns: string, args: string[]): void {
  execFileSync('ip', ['netns', 'exec', ns, 'nft', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

test('veth pair: SYNs an nft rule drops in the peer namespace are NETFILTER_DROP, exactly once each; a control port\'s connections show nothing', async (t) => {
  if (!needsBpf(t)) return;
  const pair = makeNetnsPair(`tdrop${process.pid}`);
  t.after(() => pair.close());
  const [DROPPED, CONTROL] = [7777, 7778];
  nft(pair.b, ['add', 'table', 'inet', 'tcpdrop_test']);
  nft(pair.b, ['add', 'chain', 'inet', 'tcpdrop_test', 'input', '{ type filter hook input priority 0; policy accept; }']);
  nft(pair.b, ['add', 'rule', 'inet', 'tcpdrop_test', 'input', 'tcp', 'dport', String(DROPPED), 'drop']);

  const json = startInTest(t, 'tcpdrop', ['--json']);
  await json.ready;
  // The control: whole connections to a listener in b (data both ways, then close).
  const server = spawn(...pair.exec(pair.b, workload('tcpflows'), ['serve', '::', String(CONTROL), '2', '100', '100']), { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => server.kill('SIGKILL'));
  const serverExit = once(server, 'exit');
  let serverOut = '';
  server.stdout!.setEncoding('utf8').on('data', (d: string) => { serverOut += d; });
  while (!/^server /m.test(serverOut)) {
    assert.equal(server.exitCode, null, 'the control server ended before listening');
    await new Promise((r) => setTimeout(r, 20));
  }
  // Together: the server holds every connection open until both have moved their bytes.
  await Promise.all([pair.addrB4, pair.addrB6].map((addr) => runWorkload(pair.exec(pair.a, workload('tcpflows'), ['connect', addr, String(CONTROL), '1', '100', '100']))));
  const ports4 = (await runWorkload(pair.exec(pair.a, workload('tcpdrop-syn'), [pair.addrB4, String(DROPPED), String(N)]))).trim().split(' ').slice(2).map(Number);
  const ports6 = (await runWorkload(pair.exec(pair.a, workload('tcpdrop-syn'), [pair.addrB6, String(DROPPED), String(N)]))).trim().split(' ').slice(2).map(Number);
  assert.equal(ports4.length + ports6.length, 2 * N);
  assert.ok(await json.waitForOutput(new RegExp(`(?:"dport":${DROPPED},[^]*?){${2 * N}}`)), json.stdout);
  assert.equal((await serverExit)[0], 0);
  assert.equal(await json.stop('SIGINT'), 0, json.stderr);

  // The namespaces' addresses exist only here: every drop between them is this test's.
  const ours = jsonDrops(json).filter((d) => [pair.addrA4, pair.addrB4, pair.addrA6, pair.addrB6].includes(d.saddr));
  const reason = reasonCode('NETFILTER_DROP');
  const project = (d: JsonDrop) => ({ ip: d.ip, saddr: d.saddr, sport: d.sport, daddr: d.daddr, dport: d.dport, state: d.state, flags: d.flags, reason: d.reason, reason_code: d.reason_code });
  assert.deepEqual(ours.map(project).sort((a, b) => a.ip - b.ip || a.sport - b.sport), [
    ...ports4.sort((a, b) => a - b).map((sport) => ({ ip: 4, saddr: pair.addrA4, sport, daddr: pair.addrB4, dport: DROPPED, state: null, flags: ['SYN'], reason: 'NETFILTER_DROP', reason_code: reason })),
    ...ports6.sort((a, b) => a - b).map((sport) => ({ ip: 6, saddr: pair.addrA6, sport, daddr: pair.addrB6, dport: DROPPED, state: null, flags: ['SYN'], reason: 'NETFILTER_DROP', reason_code: reason })),
  ], json.stdout);
  for (const d of ours) assert.ok(d.stack.some((f) => f.startsWith('nf_hook_slow+0x')), d.stack.join('\n'));
  assert.deepEqual(touching(ours, CONTROL), []);
});

test('tcpdrop --explain picks the attach points this kernel offers', async (t) => {
  if (!needsBpf(t)) return;
  const { chosen, stderr } = await explainedRun(t, 'tcpdrop', []);
  assert.deepEqual(chosen, {
    'TCP drops': firstUsable('TCP drops', [
      ['tracepoint skb:kfree_skb', () => tracepointExists('skb', 'kfree_skb')],
      ['raw tracepoint kfree_skb', () => rawTracepointSupported()],
    ]),
    'drop reason names': "enum skb_drop_reason in the kernel's BTF",
    'struct sk_buff and sock field offsets': "the running kernel's BTF",
    'event records': ringBufferSupported() ? 'ring buffer' : 'perf buffer',
  }, stderr);
});

test('events.ts reads struct drop_event at the offsets libbcc lays the C struct out with', async (t) => {
  if (!needsBpf(t)) return;
  const p = buildProgram(configureTcpdrop({ events: true, count: false, }));
  // Under a perf buffer the record is built in a per-CPU scratch whose value type is the struct.
  const perf = buildProgram(configureTcpdrop({ events: true, count: false }, { ...liveTcpdropKernel(), ringBuffer: () => false }));
  const bpf = new BPF({ text: perf.text, includeDirs: perf.includeDirs, autoAttach: false });
  try {
    const fields = structFields(bpf, 'bpfkit_event_scratch');
    const { flow, ...scalars } = DROP_EVENT_OFFSETS;
    assert.deepEqual(Object.fromEntries(fields.map((f) => [f.name, f.offset])), { ...scalars, flow });
    assert.equal(bpf.table('bpfkit_event_scratch').info.leafSize, DROP_EVENT_SIZE);
  } finally {
    bpf.close();
  }
  assert.ok(p.text.includes('struct drop_event'));
});

test('the fallbacks compile and pass this kernel\'s verifier: the raw tracepoint, and each kprobe loaded as one', async (t) => {
  if (!needsBpf(t)) return;
  const live = liveTcpdropKernel();
  const cases: Array<[DropHook, Partial<typeof live>, string, number]> = [
    ['HOOK_RAW_TP', { tracepoint: () => false }, 'raw_tracepoint__kfree_skb', PROG_TYPE.RAW_TRACEPOINT],
    ['HOOK_KPROBE_SK_SKB_REASON_DROP', { tracepoint: () => false, rawTracepoints: () => false, kprobes: () => true, kernelFunction: (f) => f === 'sk_skb_reason_drop' }, 'kprobe_sk_skb_reason_drop', PROG_TYPE.KPROBE],
    ['HOOK_KPROBE_KFREE_SKB_REASON', { tracepoint: () => false, rawTracepoints: () => false, kprobes: () => true, kernelFunction: (f) => f === 'kfree_skb_reason' }, 'kprobe_kfree_skb_reason', PROG_TYPE.KPROBE],
    ['HOOK_KPROBE_TCP_DROP', { tracepoint: () => false, rawTracepoints: () => false, kprobes: () => true, kernelFunction: (f) => f === 'tcp_drop' }, 'kprobe_tcp_drop', PROG_TYPE.KPROBE],
  ];
  for (const config of [{ events: true, count: true }, { events: false, count: true }] as TcpdropConfig[]) {
    for (const [hook, overrides, fn, type] of cases) {
      const program = configureTcpdrop(config, { ...live, ...overrides });
      assert.equal(program.hook, hook);
      const p = buildProgram(program);
      const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
      try {
        assert.deepEqual(bpf.functionNames(), [fn]);
        assert.ok(bpf.loadFunc(fn, type).fd >= 0, `${hook} ${JSON.stringify(config)}`);
      } finally {
        bpf.close();
      }
    }
  }
});
