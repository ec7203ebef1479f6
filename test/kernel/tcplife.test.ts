// tcplife against the real kernel: loopback connections that move exactly known byte counts
// (test/workloads/tcpflows.c) and live a known time (test/workloads/tcplife-hold.c), and the row
// tcplife prints for each end when it closes: its owner, its exact bytes, its duration. Other
// tests make their own loopback connections meanwhile: rows are picked by the workloads' ports.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { BPF, PROG_TYPE, kprobesAvailable, rawTracepointSupported, tracepointExists } from 'bcc-node-bindings';
import { buildProgram } from '../../lib/run/program.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { configureTcplife } from '../../tools/tcplife/program.ts';
import { COMM_LEN, LIFE_EVENT_OFFSETS, LIFE_EVENT_SIZE } from '../../tools/tcplife/events.ts';
import { needsBpf } from '../helpers/kernel.ts';
import { expectedEventRecords, explainedRun, firstUsable } from '../helpers/attach.ts';
import { startInTest, stopAll, type ToolRun } from '../helpers/tool.ts';
import { workload } from '../helpers/workloads.ts';
import { startLineWorkload, stopLineWorkloads } from '../helpers/line-workload.ts';
import { structFields } from '../helpers/bpf.ts';
import { syscallFunction } from '../../lib/kernel/kallsyms.ts';
import { freePort, scrape } from '../helpers/http.ts';

// --- the workloads: lines "server PID PORT", "client PID LPORT...", "span US" ---

interface Workload {
  server: Promise<{ pid: number; port: number }>;
  client: Promise<{ pid: number; ports: number[] }>;
  /** tcplife-hold: the client's measure of the connection's life, in µs. */
  span: Promise<number>;
  /** Lets a tcpflows client waiting on stdin go on. */
  go(): void;
  done: Promise<number>;
}

afterEach(stopLineWorkloads);

function start(file: string, args: string[]): Workload {
  const { line, go, done } = startLineWorkload(file, args);
  const w: Workload = {
    server: line('server').then(([pid, port]) => ({ pid, port })),
    client: line('client').then(([pid, ...ports]) => ({ pid, ports })),
    span: line('span').then(([us]) => us),
    go,
    done,
  };
  for (const p of [w.server, w.client, w.span]) p.catch(() => {});
  return w;
}

/** tcpflows pair: N connections, each A bytes client → server and B bytes back. */
const pair = (addr: string, n: number, a: number, b: number) => start(workload('tcpflows'), ['pair', addr, String(n), String(a), String(b), 'wait-connect']);
/** tcplife-hold: one connection of A and B bytes, held HOLD ms, ended by FIN or by a reset. */
const hold = (addr: string, a: number, b: number, ms: number, reset = false) =>
  start(workload('tcplife-hold'), [addr, String(a), String(b), String(ms), ...(reset ? ['reset'] : [])]);

// --- tcplife's output ---

interface Row {
  pid: number; comm: string; owner: string; ip: number; laddr: string; lport: number; raddr: string; rport: number;
  tx_bytes: number; rx_bytes: number; tx_kb: number; rx_kb: number; span_us: number; ms: number; time: string; timestamp: number;
}

const jsonRows = (run: ToolRun): Row[] => run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
/** The rows of connections to or from one of these ports, without the time fields. */
function rowsAt(run: ToolRun, ports: number[]): Array<Omit<Row, 'time' | 'timestamp' | 'span_us' | 'ms'>> {
  return jsonRows(run).filter((r) => ports.includes(r.lport) || ports.includes(r.rport))
    .map(({ time: _t, timestamp: _s, span_us: _u, ms: _m, ...rest }) => rest);
}
const textRowsAt = (run: ToolRun, ports: number[]) => run.stdout.split('\n').filter((l) => ports.some((p) => new RegExp(`[ ,]${p}[ ,]`).test(l)));
const kb = (bytes: number) => Math.floor(bytes / 1024);

/** The row each end of a tcpflows connection gets: the client's, then the server's. */
function ends(ip: 4 | 6, addr: string, srv: { pid: number; port: number }, cli: { pid: number }, lport: number, a: number, b: number) {
  return [
    { pid: cli.pid, comm: 'tcpflows-cli', owner: 'connect', ip, laddr: addr, lport, raddr: addr, rport: srv.port, tx_bytes: a, rx_bytes: b, tx_kb: kb(a), rx_kb: kb(b) },
    { pid: srv.pid, comm: 'tcpflows-srv', owner: 'accept', ip, laddr: addr, lport: srv.port, raddr: addr, rport: lport, tx_bytes: b, rx_bytes: a, tx_kb: kb(b), rx_kb: kb(a) },
  ];
}
const byPorts = (a: { lport: number; rport: number; pid: number }, b: { lport: number; rport: number; pid: number }) =>
  a.lport + a.rport - (b.lport + b.rport) || a.pid - b.pid;

test('IPv4 and IPv6 pairs: one row per closed end, exact bytes in --json, bcc\'s KB and columns in text, owners from connect() and accept()', async (t) => {
  if (!needsBpf(t)) return;
  const [A4, B4, A6, B6] = [300_000, 200_000, 123_456, 6_543];
  const json = startInTest(t, 'tcplife', ['--json']);
  const text = startInTest(t, 'tcplife', []);
  const wide = startInTest(t, 'tcplife', ['-w']);
  await Promise.all([json.ready, text.ready, wide.ready]);
  const v4 = pair('127.0.0.1', 2, A4, B4);
  const v6 = pair('::1', 2, A6, B6);
  v4.go();
  v6.go();
  const [s4, c4, s6, c6] = await Promise.all([v4.server, v4.client, v6.server, v6.client]);
  assert.deepEqual(await Promise.all([v4.done, v6.done]), [0, 0]);
  // Both ends have closed once the workloads exit; Ctrl-C prints what is still buffered.
  await json.waitForOutput(new RegExp(`"rport":${c6.ports[1]},`), 5_000);
  await stopAll(json, text, wide);

  const expected4 = c4.ports.flatMap((p) => ends(4, '127.0.0.1', s4, c4, p, A4, B4)).sort(byPorts);
  const expected6 = c6.ports.flatMap((p) => ends(6, '::1', s6, c6, p, A6, B6)).sort(byPorts);
  // Each family by its own rows: the v4 and v6 listeners can be given the same port number.
  assert.deepEqual(rowsAt(json, [s4.port]).filter((r) => r.ip === 4).sort(byPorts), expected4);
  assert.deepEqual(rowsAt(json, [s6.port]).filter((r) => r.ip === 6).sort(byPorts), expected6);

  // Text: bcc's header and widths, COMM cut to 10 (16 with -w), KB as bcc truncates them.
  assert.equal(text.stdout.split('\n')[0], 'PID   COMM       LADDR           LPORT RADDR           RPORT TX_KB RX_KB MS');
  const msOf = (line: string) => line.split(/ +/).at(-1)!;
  const cut = (rows: string[]) => rows.map((l) => l.slice(0, l.lastIndexOf(' '))).sort();
  const line = (pid: number, comm: string, l: string, lp: number, r: string, rp: number, tx: number, rx: number) =>
    `${String(pid).padEnd(5)} ${comm.slice(0, 10).padEnd(10)} ${l.padEnd(15)} ${String(lp).padEnd(5)} ${r.padEnd(15)} ${String(rp).padEnd(5)} ${String(kb(tx)).padStart(5)} ${String(kb(rx)).padStart(5)}`;
  const v4Rows = (run: ToolRun) => textRowsAt(run, [s4.port]).filter((l) => l.includes(' 127.0.0.1 '));
  assert.deepEqual(cut(v4Rows(text)), c4.ports.flatMap((p) => [
    line(c4.pid, 'tcpflows-cli', '127.0.0.1', p, '127.0.0.1', s4.port, A4, B4), line(s4.pid, 'tcpflows-srv', '127.0.0.1', s4.port, '127.0.0.1', p, B4, A4),
  ]).sort());
  for (const l of v4Rows(text)) assert.match(msOf(l), /^\d+\.\d\d$/);
  const wideLine = (pid: number, comm: string, l: string, lp: number, r: string, rp: number, tx: number, rx: number) =>
    `${String(pid).padEnd(5)} ${comm.padEnd(16)} 6  ${l.padEnd(26)} ${String(lp).padEnd(5)} ${r.padEnd(26)} ${String(rp).padEnd(5)} ${String(kb(tx)).padStart(6)} ${String(kb(rx)).padStart(6)}`;
  assert.deepEqual(cut(textRowsAt(wide, [s6.port]).filter((l) => l.includes(' 6  '))), c6.ports.flatMap((p) => [
    wideLine(c6.pid, 'tcpflows-cli', '::1', p, '::1', s6.port, A6, B6), wideLine(s6.pid, 'tcpflows-srv', '::1', s6.port, '::1', p, B6, A6),
  ]).sort());
});

test('durations: a connection held 300 ms is reported within 20 ms of the client\'s own measure, at both ends, IPv4 and IPv6', async (t) => {
  if (!needsBpf(t)) return;
  const json = startInTest(t, 'tcplife', ['--json']);
  await json.ready;
  const runs = [hold('127.0.0.1', 7_000, 9_000, 300), hold('::1', 7_000, 9_000, 300)];
  const spans = await Promise.all(runs.map((w) => w.span));
  assert.deepEqual(await Promise.all(runs.map((w) => w.done)), [0, 0]);
  const servers = await Promise.all(runs.map((w) => w.server));
  const clients = await Promise.all(runs.map((w) => w.client));
  await json.waitForOutput(new RegExp(`"lport":${servers[1].port},`), 5_000);
  await stopAll(json);
  for (const [i, srv] of servers.entries()) {
    const rows = jsonRows(json).filter((r) => r.lport === srv.port || r.rport === srv.port);
    assert.deepEqual(rows.map((r) => [r.comm, r.pid, r.tx_bytes, r.rx_bytes]).sort(),
      [['tcplife-cli', clients[i].pid, 7_000, 9_000], ['tcplife-srv', srv.pid, 9_000, 7_000]].sort());
    for (const r of rows) {
      assert.ok(Math.abs(r.span_us - spans[i]) <= 20_000, `${r.comm}: tcplife says ${r.span_us} µs, the client measured ${spans[i]} µs`);
      assert.equal(r.ms, r.span_us / 1000);
      assert.ok(r.span_us >= 300_000, `${r.comm} lived at least the 300 ms it was held: ${r.span_us} µs`);
    }
  }
});

test('a passive end reset by its peer dies in softirq, yet is named after the process that accepted it (bcc names whoever ran)', async (t) => {
  if (!needsBpf(t)) return;
  const json = startInTest(t, 'tcplife', ['--json']);
  await json.ready;
  const w = hold('127.0.0.1', 5_000, 3_000, 50, true);
  const [srv, cli] = await Promise.all([w.server, w.client]);
  assert.equal(await w.done, 0);
  await json.waitForOutput(new RegExp(`"lport":${srv.port},`), 5_000);
  await stopAll(json);
  const rows = jsonRows(json).filter((r) => r.lport === srv.port || r.rport === srv.port);
  const server = rows.filter((r) => r.lport === srv.port);
  const client = rows.filter((r) => r.rport === srv.port);
  assert.deepEqual(server.map((r) => [r.pid, r.comm, r.owner, r.rx_bytes]), [[srv.pid, 'tcplife-srv', 'accept', 5_000]]);
  // The client's own end: its bytes exact, its RST no FIN (the server's TX may miss the last ACKs).
  assert.deepEqual(client.map((r) => [r.pid, r.comm, r.owner, r.tx_bytes, r.rx_bytes, r.lport]), [[cli.pid, 'tcplife-cli', 'connect', 5_000, 3_000, cli.ports[0]]]);
});

test('filters are exact: -p the server, -L its port, -D its port, -4, -6 — each keeps its rows and none of the control\'s', async (t) => {
  if (!needsBpf(t)) return;
  const v4 = pair('127.0.0.1', 1, 2_000, 3_000);
  const v6 = pair('::1', 1, 4_000, 5_000);
  const [s4, s6] = await Promise.all([v4.server, v6.server]);
  const runs = {
    pid: startInTest(t, 'tcplife', ['--json', '-p', String(s4.pid)]),
    lport: startInTest(t, 'tcplife', ['--json', '-L', `${s4.port},1`]),
    rport: startInTest(t, 'tcplife', ['--json', '-D', `1,${s4.port}`]),
    v4: startInTest(t, 'tcplife', ['--json', '-4']),
    v6: startInTest(t, 'tcplife', ['--json', '-6']),
  };
  await Promise.all(Object.values(runs).map((r) => r.ready));
  v4.go();
  v6.go();
  const [c4, c6] = await Promise.all([v4.client, v6.client]);
  assert.deepEqual(await Promise.all([v4.done, v6.done]), [0, 0]);
  await Promise.all([runs.v4, runs.v6].map((r) => r.waitForOutput(/tcpflows-srv/, 5_000)));
  await new Promise((r) => setTimeout(r, 300));
  await stopAll(...Object.values(runs));
  const [cli4, srv4] = ends(4, '127.0.0.1', s4, c4, c4.ports[0], 2_000, 3_000);
  const [cli6, srv6] = ends(6, '::1', s6, c6, c6.ports[0], 4_000, 5_000);
  const ours = [s4.port, s6.port];
  assert.deepEqual(rowsAt(runs.pid, ours), [srv4]);
  assert.deepEqual(rowsAt(runs.lport, ours), [srv4]);
  assert.deepEqual(rowsAt(runs.rport, ours), [cli4]);
  assert.deepEqual(rowsAt(runs.v4, ours).sort(byPorts), [cli4, srv4].sort(byPorts));
  assert.deepEqual(rowsAt(runs.v6, ours).sort(byPorts), [cli6, srv6].sort(byPorts));
});

test('the raw tracepoint rung (BPFKIT_AVOID=tracepoint): socket fields at BTF offsets, the same exact rows, passive ends owned by the closing process', async (t) => {
  if (!needsBpf(t)) return;
  const run = startInTest(t, 'tcplife', ['--json', '--explain'], { env: { BPFKIT_AVOID: 'tracepoint' } });
  await run.ready;
  assert.match(run.stderr, /^ {2}TCP state changes: raw tracepoint inet_sock_set_state \(socket fields at BTF offsets\)$/m);
  const v4 = pair('127.0.0.1', 1, 10_000, 20_000);
  const v6 = pair('::1', 1, 30_000, 40_000);
  v4.go();
  v6.go();
  const [s4, c4, s6, c6] = await Promise.all([v4.server, v4.client, v6.server, v6.client]);
  assert.deepEqual(await Promise.all([v4.done, v6.done]), [0, 0]);
  await run.waitForOutput(new RegExp(`"lport":${s6.port},`), 5_000);
  await new Promise((r) => setTimeout(r, 200));
  await stopAll(run);
  // Without syscall tracepoints (avoided) nor kprobes, the server is named where it closes.
  const closer = kprobesAvailable() ? 'accept' : 'close';
  const expect = (rows: ReturnType<typeof ends>) => rows.map((r) => (r.comm === 'tcpflows-srv' ? { ...r, owner: closer } : r)).sort(byPorts);
  assert.deepEqual(rowsAt(run, [s4.port]).sort(byPorts), expect(ends(4, '127.0.0.1', s4, c4, c4.ports[0], 10_000, 20_000)));
  assert.deepEqual(rowsAt(run, [s6.port]).sort(byPorts), expect(ends(6, '::1', s6, c6, c6.ports[0], 30_000, 40_000)));
});

test('--metrics counts each closed end by its owner\'s command: sessions, exact bytes, and its duration in the histogram', async (t) => {
  if (!needsBpf(t)) return;
  const port = await freePort();
  const run = startInTest(t, 'tcplife', ['--metrics', String(port)]);
  await run.ready;
  const runs = [hold('127.0.0.1', 1_000, 2_000, 20), hold('::1', 30_000, 40_000, 20)];
  assert.deepEqual(await Promise.all(runs.map((w) => w.done)), [0, 0]);
  const text = await scrape(port);
  await stopAll(run);
  const value = (series: string) => new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1];
  assert.deepEqual(['tcplife-cli', 'tcplife-srv'].map((comm) => [
    value(`bpfkit_tcp_sessions_total{comm="${comm}"}`),
    value(`bpfkit_tcp_session_sent_bytes_total{comm="${comm}"}`),
    value(`bpfkit_tcp_session_received_bytes_total{comm="${comm}"}`),
    value(`bpfkit_tcp_session_duration_seconds_count{comm="${comm}"}`),
    value(`bpfkit_tcp_session_duration_seconds_bucket{comm="${comm}",le="0.008192"}`),
  ]), [['2', '31000', '42000', '2', '0'], ['2', '42000', '31000', '2', '0']]);
  assert.equal(run.stdout, '', 'with --metrics alone nothing is printed');
});

// --- the record contract and the fallbacks this kernel does not need ---

test('events.ts reads struct life_event at the offsets libbcc lays the C struct out with', async (t) => {
  if (!needsBpf(t)) return;
  // With a perf buffer, each CPU fills its record in bpfkit_event_scratch, whose value is the struct.
  const view: KernelView = { ...liveKernel(), ringBuffer: () => false };
  const p = buildProgram(configureTcplife({}, view));
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    const fields = structFields(bpf, 'bpfkit_event_scratch');
    assert.deepEqual(Object.fromEntries(fields.map((f) => [f.name, f.offset])), LIFE_EVENT_OFFSETS);
    const comm = fields.find((f) => f.name === 'comm')!.layout;
    assert.equal(comm.kind === 'chararray' ? comm.length : -1, COMM_LEN);
    assert.equal(bpf.table('bpfkit_event_scratch').info.leafSize, LIFE_EVENT_SIZE);
  } finally {
    bpf.close();
  }
});

test('the kprobe fallbacks (tcp_set_state, accept kretprobes) with a perf buffer and every filter pass this kernel\'s verifier', async (t) => {
  if (!needsBpf(t)) return;
  const view: KernelView = {
    ...liveKernel(),
    tracepoint: (category, event) => !(category === 'sock' || category === 'syscalls') && tracepointExists(category, event),
    rawTracepoints: () => false,
    kprobes: () => true,
    ringBuffer: () => false,
  };
  const program = configureTcplife({ pid: 1, family: 6, localPorts: [80], remotePorts: [443, 8080] }, view);
  assert.deepEqual([program.defines!.STATE_KPROBE, program.defines!.ACCEPT_KPROBE], [true, true]);
  const p = buildProgram(program);
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    assert.deepEqual(bpf.functionNames().sort(), ['accept_return', 'kprobe__tcp_set_state']);
    for (const name of bpf.functionNames()) assert.ok(bpf.loadFunc(name, PROG_TYPE.KPROBE).fd >= 0, name);
  } finally {
    bpf.close();
  }
});

test('tcplife --explain picks the attach points this kernel offers', async (t) => {
  if (!needsBpf(t)) return;
  const { chosen, stderr } = await explainedRun(t, 'tcplife', []);
  const acceptTps = tracepointExists('syscalls', 'sys_exit_accept4') && tracepointExists('syscalls', 'sys_exit_accept');
  assert.deepEqual(chosen, {
    'TCP state changes': firstUsable('TCP state changes', [
      ['tracepoint sock:inet_sock_set_state', () => tracepointExists('sock', 'inet_sock_set_state')],
      ['raw tracepoint inet_sock_set_state (socket fields at BTF offsets)', () => rawTracepointSupported() && tracepointExists('sock', 'inet_sock_set_state')],
      ['kprobe tcp_set_state (socket fields at BTF offsets)', () => kprobesAvailable()],
    ]),
    'owners of passive sockets': firstUsable('owners of passive sockets', [
      ['tracepoints syscalls:sys_exit_accept4 and sys_exit_accept (fd → socket at BTF offsets)', () => acceptTps],
      [() => `kretprobes on ${['accept4', 'accept'].map((c) => syscallFunction(c)).filter(Boolean).join(' and ')} (fd → socket at BTF offsets)`, () => kprobesAvailable()],
      ['none: the task that closes or shuts down the socket', () => true],
    ]),
    'event records': expectedEventRecords(),
  }, stderr);
});
