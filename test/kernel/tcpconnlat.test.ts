// tcpconnlat against the real kernel: connects whose count, processes, addresses and ports are
// known (test/workloads/tcpconnlat-timed.c times each connect() call; tcpflows makes refused
// ones), and the one row tcpconnlat prints per established connection.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { BPF, PROG_TYPE, kernelBtfAvailable, kprobesAvailable, rawTracepointSupported, tracepointExists } from 'bcc-node-bindings';
import { buildProgram } from '../../lib/run/program.ts';
import { liveKernel } from '../../lib/kernel/view.ts';
import { configureTcpconnlat } from '../../tools/tcpconnlat/program.ts';
import { CONNLAT_EVENT_OFFSETS, COMM_LEN, RECORD_SIZE } from '../../tools/tcpconnlat/events.ts';
import { kernelFunctionExists } from '../../lib/kernel/kallsyms.ts';
import { FLOW_SIZE } from '../../lib/output/inet.ts';
import { needsBpf } from '../helpers/kernel.ts';
import { structFields } from '../helpers/bpf.ts';
import { expectedEventRecords, explainedRun, firstUsable } from '../helpers/attach.ts';
import { startInTest, type ToolRun } from '../helpers/tool.ts';
import { workload } from '../helpers/workloads.ts';
import { makeNetnsPair } from '../helpers/netns.ts';
import { freePort } from '../helpers/http.ts';

// --- the workloads ---

const running = new Set<ChildProcess>();
afterEach(() => {
  for (const proc of running) proc.kill('SIGKILL');
  running.clear();
});

function spawnWorkload(argv: [string, string[]]): { proc: ChildProcess; out: () => string; line: (re: RegExp) => Promise<RegExpExecArray>; done: Promise<number> } {
  const proc = spawn(argv[0], argv[1], { stdio: ['pipe', 'pipe', 'inherit'] });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  let out = '';
  let closed = false;
  const waiters: Array<() => void> = [];
  const wake = () => { for (const w of waiters.splice(0)) w(); };
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; wake(); });
  // 'close', not 'exit': only then has everything it printed been read.
  const done = once(proc, 'close').then(([code]) => { closed = true; wake(); return code as number; });
  const line = (re: RegExp) => new Promise<RegExpExecArray>((resolve, reject) => {
    const check = () => {
      const m = re.exec(out);
      if (m) resolve(m);
      else if (closed) reject(new Error(`${argv[0]} exited without ${re}:\n${out}`));
      else waiters.push(check);
    };
    check();
  });
  return { proc, out: () => out, line, done };
}

interface Conn { lport: number; ns: number }
interface Timed {
  pid: number;
  port: number;
  /** Lets it connect; resolves with each connect's local port and connect() duration. */
  go(): Promise<Conn[]>;
}

/** tcpconnlat-timed ADDR PORT N (in a namespace when `wrap` says how), listening and waiting. */
async function timed(addr: string, port: number, n: number, wrap = (cmd: string, args: string[]): [string, string[]] => [cmd, args]): Promise<Timed> {
  const w = spawnWorkload(wrap(workload('tcpconnlat-timed'), [addr, String(port), String(n)]));
  const [, pid, listening] = await w.line(/^listening (\d+) (\d+)$/m);
  return {
    pid: Number(pid),
    port: Number(listening),
    go: async () => {
      w.proc.stdin!.write('go\n');
      assert.equal(await w.done, 0);
      return [...w.out().matchAll(/^conn (\d+) (\d+)$/gm)].map((m) => ({ lport: Number(m[1]), ns: Number(m[2]) }));
    },
  };
}

/** tcpflows refused: N connects answered by a RST; resolves with its PID. */
async function refused(addr: string, port: number, n: number): Promise<number> {
  const w = spawnWorkload([workload('tcpflows'), ['refused', addr, String(port), String(n)]]);
  const [, pid] = await w.line(/^refused (\d+) \d+$/m);
  assert.equal(await w.done, 0);
  return Number(pid);
}

// --- tcpconnlat's output ---

interface Row { timestamp: number; time: string; pid: number; comm: string; ip: number; saddr: string; lport: number; daddr: string; dport: number; lat_ms: number; latency_ns: number }

function jsonRows(run: ToolRun, pid?: number): Row[] {
  const rows = run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
  return pid === undefined ? rows : rows.filter((r) => r.pid === pid);
}

async function stopped(...runs: ToolRun[]): Promise<void> {
  for (const run of runs) assert.equal(await run.stop('SIGINT'), 0, run.stderr);
}

/** Each row of the connects of `w`, in order: the right process, flow, and a latency within its connect() call. */
function assertRows(rows: Row[], w: Timed, conns: Conn[], ip: 4 | 6, addr: string): void {
  assert.deepEqual(rows.map((r) => [r.pid, r.comm, r.ip, r.saddr, r.lport, r.daddr, r.dport]),
    conns.map((c) => [w.pid, 'connlat-cli', ip, addr, c.lport, addr, w.port]));
  for (const [i, r] of rows.entries()) {
    assert.ok(r.latency_ns > 0 && r.latency_ns <= conns[i].ns, `latency ${r.latency_ns} ns within connect()'s ${conns[i].ns} ns`);
    assert.equal(r.lat_ms, Number((Math.floor(r.latency_ns / 1000) / 1000).toFixed(2)));
  }
}

test('one row per established connect, IPv4 and IPv6, with the caller\'s PID and comm; none for refused connects; -4 and -6 exact', async (t) => {
  if (!needsBpf(t)) return;
  const N = 5;
  const closed = await freePort();
  const [v4, v6] = await Promise.all([timed('127.0.0.1', 0, N), timed('::1', 0, N)]);
  const all = startInTest(t, 'tcpconnlat', ['--json']);
  const text = startInTest(t, 'tcpconnlat', ['-t', '-L']);
  const only4 = startInTest(t, 'tcpconnlat', ['-4', '--json']);
  const only6 = startInTest(t, 'tcpconnlat', ['-6', '--json']);
  await Promise.all([all.ready, text.ready, only4.ready, only6.ready]);
  const [c4, c6] = await Promise.all([v4.go(), v6.go()]);
  const [r4, r6] = await Promise.all([refused('127.0.0.1', closed, 3), refused('::1', closed, 3)]);
  await stopped(all, text, only4, only6);

  assertRows(jsonRows(all, v4.pid), v4, c4, 4, '127.0.0.1');
  assertRows(jsonRows(all, v6.pid), v6, c6, 6, '::1');
  assert.deepEqual(jsonRows(all).filter((r) => r.pid === r4 || r.pid === r6 || r.dport === closed), []);
  assertRows(jsonRows(only4, v4.pid), v4, c4, 4, '127.0.0.1');
  assertRows(jsonRows(only6, v6.pid), v6, c6, 6, '::1');
  assert.ok(jsonRows(only4).every((r) => r.ip === 4) && jsonRows(only6).every((r) => r.ip === 6));

  // bcc's columns: "%-9.3f" TIME(s), then "%-7d %-12.12s %-2d %-16s %-6d %-16s %-5d %.2f".
  const lines = text.stdout.split('\n');
  assert.equal(lines[0], 'TIME(s)  PID     COMM         IP SADDR            LPORT  DADDR            DPORT LAT(ms)');
  for (const [w, conns, ip, addr] of [[v4, c4, 4, '127.0.0.1'], [v6, c6, 6, '::1']] as const) {
    const mine = lines.filter((l) => l.slice(9, 17).trim() === String(w.pid));
    assert.equal(mine.length, N, text.stdout);
    for (const [i, l] of mine.entries()) {
      const prefix = `${String(w.pid).padEnd(7)} connlat-cli  ${ip}  ${addr.padEnd(16)} ${String(conns[i].lport).padEnd(6)} ${addr.padEnd(16)} ${String(w.port).padEnd(5)} `;
      assert.match(l, /^\d+\.\d{3} +/);
      assert.equal(l.slice(9, 9 + prefix.length), prefix);
      const ms = Number(l.slice(9 + prefix.length));
      assert.ok(ms <= conns[i].ns / 1e6 + 0.005, `${l}: within ${conns[i].ns} ns`);
    }
  }
});

test('-p shows the connects of that process only; a control connecting meanwhile is absent', async (t) => {
  if (!needsBpf(t)) return;
  const [target, control] = await Promise.all([timed('127.0.0.1', 0, 4), timed('::1', 0, 3)]);
  const run = startInTest(t, 'tcpconnlat', ['-p', String(target.pid), '--json']);
  const everyone = startInTest(t, 'tcpconnlat', ['--json']);
  await Promise.all([run.ready, everyone.ready]);
  const [conns, controlConns] = await Promise.all([target.go(), control.go()]);
  await stopped(run, everyone);
  assert.deepEqual(jsonRows(run).map((r) => r.pid), [target.pid, target.pid, target.pid, target.pid]);
  assertRows(jsonRows(run), target, conns, 4, '127.0.0.1');
  // The control was there to be seen.
  assertRows(jsonRows(everyone, control.pid), control, controlConns, 6, '::1');
});

test('duration_ms: connects whose first SYN was dropped (1 s retransmit) pass a 500 ms minimum, fast ones do not; 60000 shows none', async (t) => {
  if (!needsBpf(t)) return;
  const ns = makeNetnsPair(`tcl${process.pid}`);
  t.after(() => ns.close());
  const SLOW_PORT = 5555;
  // Every other SYN to SLOW_PORT is dropped: each connect's first SYN, never its retransmit.
  execFileSync('ip', ['netns', 'exec', ns.a, 'nft', '-f', '-'], {
    input: ['table inet tcpconnlat {', '  chain in {', '    type filter hook input priority 0;',
      `    tcp dport ${SLOW_PORT} tcp flags & (syn|ack) == syn numgen inc mod 2 == 0 drop`, '  }', '}', ''].join('\n'),
  });
  const inNs = (cmd: string, args: string[]) => ns.exec(ns.a, cmd, args);
  const [slow, fast] = await Promise.all([timed('127.0.0.1', SLOW_PORT, 2, inNs), timed('127.0.0.1', 0, 3, inNs)]);
  const over500 = startInTest(t, 'tcpconnlat', ['--json', '500']);
  const fraction = startInTest(t, 'tcpconnlat', ['--json', '0.001']);
  const over60s = startInTest(t, 'tcpconnlat', ['--json', '60000']);
  await Promise.all([over500.ready, fraction.ready, over60s.ready]);
  const fastConns = await fast.go();
  const slowConns = await slow.go();
  await stopped(over500, fraction, over60s);

  assert.ok(slowConns.every((c) => c.ns >= 1e9), 'each slow connect waited for a retransmitted SYN');
  assertRows(jsonRows(over500, slow.pid), slow, slowConns, 4, '127.0.0.1');
  assert.ok(jsonRows(over500, slow.pid).every((r) => r.latency_ns >= 1e9));
  assert.deepEqual(jsonRows(over500, fast.pid), []);
  assertRows(jsonRows(fraction, fast.pid), fast, fastConns, 4, '127.0.0.1');
  assertRows(jsonRows(fraction, slow.pid), slow, slowConns, 4, '127.0.0.1');
  assert.deepEqual(jsonRows(over60s).filter((r) => r.pid === slow.pid || r.pid === fast.pid), []);
});

test('--metrics: the latency histogram of a command has exactly the connects --json printed, in exact log2 buckets', async (t) => {
  if (!needsBpf(t)) return;
  const w = await timed('127.0.0.1', 0, 6);
  const port = await freePort();
  // One run prints and serves: the same records (another run would time each connect a few
  // hundred nanoseconds apart from this one).
  const run = startInTest(t, 'tcpconnlat', ['-p', String(w.pid), '--json', '--metrics', `127.0.0.1:${port}`, '--metrics-and-print']);
  await run.ready;
  await w.go();
  const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  await stopped(run);
  const latencies = jsonRows(run).map((r) => r.latency_ns);
  assert.equal(latencies.length, 6);
  const series = body.split('\n').filter((l) => l.startsWith('bpfkit_tcp_connect_latency_seconds'));
  const top = Math.max(1, ...latencies.map((ns) => ns.toString(2).length));
  const expected = [
    ...Array.from({ length: top }, (_, i) => i + 1).map((i) =>
      `bpfkit_tcp_connect_latency_seconds_bucket{comm="connlat-cli",le="${2 ** i * 1e-9}"} ${latencies.filter((ns) => ns < 2 ** i).length}`),
    'bpfkit_tcp_connect_latency_seconds_bucket{comm="connlat-cli",le="+Inf"} 6',
    `bpfkit_tcp_connect_latency_seconds_sum{comm="connlat-cli"} ${latencies.reduce((a, b) => a + b, 0) * 1e-9}`,
    'bpfkit_tcp_connect_latency_seconds_count{comm="connlat-cli"} 6',
  ];
  assert.deepEqual(series, expected);
});

test('the raw tracepoint rung (tracepoints avoided) prints the same exact rows, reading the socket at BTF offsets', async (t) => {
  if (!needsBpf(t)) return;
  const [v4, v6] = await Promise.all([timed('127.0.0.1', 0, 3), timed('::1', 0, 3)]);
  const run = startInTest(t, 'tcpconnlat', ['--json', '--explain'], { env: { BPFKIT_AVOID: 'tracepoint' } });
  await run.ready;
  const [c4, c6] = await Promise.all([v4.go(), v6.go()]);
  await stopped(run);
  assert.match(run.stderr, /^ {2}TCP state changes \(SYN_SENT, ESTABLISHED, CLOSE\): raw tracepoint inet_sock_set_state$/m);
  assertRows(jsonRows(run, v4.pid), v4, c4, 4, '127.0.0.1');
  assertRows(jsonRows(run, v6.pid), v6, c6, 6, '::1');
});

test('refused and established connects leave no entry behind in the table of pending connects', async (t) => {
  if (!needsBpf(t)) return;
  const program = configureTcpconnlat({ minLatencyNs: 0 });
  const built = buildProgram(program);
  const bpf = new BPF({ text: built.text, includeDirs: built.includeDirs, autoAttach: false });
  t.after(() => bpf.close());
  program.attach(bpf);
  const w = await timed('::1', 0, 3);
  await w.go();
  const refusedPid = await refused('127.0.0.1', await freePort(), 4);
  const left = bpf.table('pending').entries() as Array<[bigint, { pid: number }]>;
  assert.deepEqual(left.filter(([, v]) => v.pid === w.pid || v.pid === refusedPid), []);
});

test('events.ts reads struct connlat_event at the offsets libbcc lays the C struct out with', async (t) => {
  if (!needsBpf(t)) return;
  // With a perf buffer the record is built in a per-CPU map, whose value type libbcc describes.
  const p = buildProgram(configureTcpconnlat({ minLatencyNs: 0 }, { ...liveKernel(), ringBuffer: () => false }));
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    const fields = structFields(bpf, 'bpfkit_event_scratch');
    assert.deepEqual(Object.fromEntries(fields.map((f) => [f.name, f.offset])), CONNLAT_EVENT_OFFSETS);
    const comm = fields.find((f) => f.name === 'comm')!.layout;
    assert.equal(comm.kind === 'chararray' ? comm.length : -1, COMM_LEN);
    assert.equal(bpf.table('bpfkit_event_scratch').info.leafSize, RECORD_SIZE);
    assert.equal(RECORD_SIZE - CONNLAT_EVENT_OFFSETS.flow, FLOW_SIZE);
  } finally {
    bpf.close();
  }
});

test('the kprobe fallback (tcp_set_state) compiles and passes this kernel\'s verifier', async (t) => {
  if (!needsBpf(t)) return;
  const kernel = { ...liveKernel(), tracepoint: () => false, rawTracepoints: () => false, kprobes: () => true, kernelFunction: () => true };
  const program = configureTcpconnlat({ minLatencyNs: 1_000_000, pid: 1, family: 6 }, kernel);
  assert.equal(program.defines!.STATE_FROM_KPROBE, true);
  const p = buildProgram(program);
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    assert.deepEqual(bpf.functionNames(), ['kprobe_tcp_set_state']);
    assert.ok(bpf.loadFunc('kprobe_tcp_set_state', PROG_TYPE.KPROBE).fd >= 0);
  } finally {
    bpf.close();
  }
});

test('tcpconnlat --explain picks the attach points this kernel offers', async (t) => {
  if (!needsBpf(t)) return;
  const { chosen, stderr } = await explainedRun(t, 'tcpconnlat', []);
  const hook = firstUsable('TCP state changes', [
    ['tracepoint sock:inet_sock_set_state', () => tracepointExists('sock', 'inet_sock_set_state')],
    ['raw tracepoint inet_sock_set_state', () => rawTracepointSupported() && tracepointExists('sock', 'inet_sock_set_state')],
    ['kprobe tcp_set_state', () => kprobesAvailable() && kernelFunctionExists('tcp_set_state')],
  ]);
  assert.deepEqual(chosen, {
    'TCP state changes (SYN_SENT, ESTABLISHED, CLOSE)': hook,
    ...(hook === 'tracepoint sock:inet_sock_set_state' ? {} : {
      'struct sock field offsets': kernelBtfAvailable()
        ? "the running kernel's BTF" : "the kernel headers libbcc compiles with (right only when they are the running kernel's)",
    }),
    'event records': expectedEventRecords(),
  }, stderr);
});
