// tcpconnect against the real kernel: TCP connects from known processes (test/workloads/tcpflows.c)
// to local listeners and to closed ports, and exactly the rows tcpconnect prints for them.
// Other tests make their own loopback connections meanwhile: rows are picked by our PIDs and ports.
import { afterEach, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { BPF, PROG_TYPE, kernelBtfAvailable, kprobesAvailable, rawTracepointSupported, tracepointExists } from 'bcc-node-bindings';
import { buildProgram } from '../../lib/run/program.ts';
import { liveKernel } from '../../lib/kernel/view.ts';
import { configureTcpconnect } from '../../tools/tcpconnect/program.ts';
import { CONNECT_EVENT_OFFSETS } from '../../tools/tcpconnect/events.ts';
import { needsBpf } from '../helpers/kernel.ts';
import { structFields } from '../helpers/bpf.ts';
import { expectedEventRecords, explainedRun } from '../helpers/attach.ts';
import { runToolToEnd, startInTest, type ToolRun } from '../helpers/tool.ts';
import { workload } from '../helpers/workloads.ts';
import { startLineWorkload, stopLineWorkloads, type LineWorkload } from '../helpers/line-workload.ts';
import { makeNetnsPair } from '../helpers/netns.ts';

// --- workloads: each prints lines "WORD N N..." (tcpflows: server, client, refused) ---

type Proc = LineWorkload;
afterEach(stopLineWorkloads);

const start = ([file, args]: [string, string[]], uid?: number): Proc => startLineWorkload(file, args, uid);

const flows = (...args: string[]): [string, string[]] => [workload('tcpflows'), args];

/** A loopback port nothing listens on: bound, then released (connects to it are refused). */
async function closedPort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// --- tcpconnect's output ---

interface Row { time: string; timestamp: number; pid: number; comm: string; uid: number; ip: number; saddr: string; lport: number; daddr: string; dport: number }

function rows(run: ToolRun): Row[] {
  return run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
}

const pick = (all: Row[], pid: number) => all.filter((r) => r.pid === pid);
const flowOf = (r: Row) => [r.comm, r.ip, r.saddr, r.daddr, r.dport];

async function stopped(run: ToolRun): Promise<void> {
  assert.equal(await run.stop('SIGINT'), 0, run.stderr);
}

/** N connects each way (v4, v6) to a listener and M refused: the processes, their ports. */
async function connectsAndRefusals(n: number, m: number) {
  const pair4 = start(flows('pair', '127.0.0.1', String(n), '1', '1', 'wait-connect'));
  const pair6 = start(flows('pair', '::1', String(n), '1', '1', 'wait-connect'));
  const [closed4, closed6] = await Promise.all([closedPort('127.0.0.1'), closedPort('::1')]);
  const refused4 = start(flows('refused', '127.0.0.1', String(closed4), String(m), 'wait-connect'));
  const refused6 = start(flows('refused', '::1', String(closed6), String(m), 'wait-connect'));
  const [[srv4, port4], [srv6, port6]] = await Promise.all([pair4.line('server'), pair6.line('server')]);
  return {
    servers: [srv4, srv6],
    closed: [closed4, closed6],
    ports: [port4, port6],
    async run() {
      for (const p of [pair4, pair6, refused4, refused6]) p.go();
      const [[cli4, ...lports4], [cli6, ...lports6], [ref4], [ref6]] = await Promise.all([
        pair4.line('client'), pair6.line('client'), refused4.line('refused'), refused6.line('refused')]);
      assert.deepEqual(await Promise.all([pair4.done, pair6.done, refused4.done, refused6.done]), [0, 0, 0, 0]);
      return { cli4, lports4, cli6, lports6, ref4, ref6 };
    },
  };
}

test('N connects each way to a listener and M refused ones: exactly those attempts, with PID, comm, addresses and ports (--json)', async (t) => {
  if (!needsBpf(t)) return;
  const [N, M] = [5, 3];
  const w = await connectsAndRefusals(N, M);
  const run = startInTest(t, 'tcpconnect', ['--json']);
  await run.ready;
  const r = await w.run();
  await stopped(run);
  const all = rows(run);
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

  const c4 = pick(all, r.cli4);
  assert.deepEqual(c4.map(flowOf), Array(N).fill(['tcpflows-cli', 4, '127.0.0.1', '127.0.0.1', w.ports[0]]));
  assert.deepEqual(sorted(c4.map((x) => x.lport)), sorted(r.lports4));
  const c6 = pick(all, r.cli6);
  assert.deepEqual(c6.map(flowOf), Array(N).fill(['tcpflows-cli', 6, '::1', '::1', w.ports[1]]));
  assert.deepEqual(sorted(c6.map((x) => x.lport)), sorted(r.lports6));
  // Refused (a RST answered the SYN): still attempts, each from its own local port.
  for (const [pid, ip, addr, port] of [[r.ref4, 4, '127.0.0.1', w.closed[0]], [r.ref6, 6, '::1', w.closed[1]]] as const) {
    const ref = pick(all, pid);
    assert.deepEqual(ref.map(flowOf), Array(M).fill(['tcpflows', ip, addr, addr, port]));
    assert.equal(new Set(ref.map((x) => x.lport)).size, M);
    assert.ok(ref.every((x) => x.lport > 0 && x.uid === 0));
  }
  // The servers accepted (passive opens in softirq on the clients' CPU): not connects.
  for (const pid of w.servers) assert.equal(pick(all, pid).length, 0);
  assert.ok([...c4, ...c6].every((x) => x.uid === 0 && /^\d\d:\d\d:\d\d$/.test(x.time) && x.timestamp >= 0));
});

test('text output: bcc\'s columns, with -U and -L exactly, and -t\'s TIME(s) first', async (t) => {
  if (!needsBpf(t)) return;
  const w = await connectsAndRefusals(2, 1);
  const run = startInTest(t, 'tcpconnect', ['-U', '-L']);
  const timed = startInTest(t, 'tcpconnect', ['-t', '-P', String(w.ports[0])]);
  await Promise.all([run.ready, timed.ready]);
  const r = await w.run();
  await Promise.all([stopped(run), stopped(timed)]);
  const lines = run.stdout.split('\n');
  assert.equal(lines[0], 'Tracing connect ... Hit Ctrl-C to end');
  assert.equal(lines[1], 'UID   PID     COMM         IP SADDR            LPORT  DADDR            DPORT ');
  const row = (pid: number, comm: string, ip: number, addr: string, lport: number, dport: number) =>
    `${'0'.padEnd(6)}${String(pid).padEnd(7)} ${comm.padEnd(12)} ${String(ip).padEnd(2)} ${addr.padEnd(16)} ${String(lport).padEnd(6)} ${addr.padEnd(16)} ${String(dport).padEnd(6)}`;
  const mine = (pid: number) => lines.filter((l) => l.slice(6).startsWith(`${pid} `));
  assert.deepEqual(mine(r.cli4).sort(), r.lports4.map((p) => row(r.cli4, 'tcpflows-cli', 4, '127.0.0.1', p, w.ports[0])).sort());
  assert.deepEqual(mine(r.cli6).sort(), r.lports6.map((p) => row(r.cli6, 'tcpflows-cli', 6, '::1', p, w.ports[1])).sort());
  assert.equal(mine(r.ref4).length, 1);
  assert.match(mine(r.ref4)[0], new RegExp(`^0     ${r.ref4} +tcpflows +4  127\\.0\\.0\\.1 +\\d+ +127\\.0\\.0\\.1 +${w.closed[0]} *$`));

  const timedLines = timed.stdout.split('\n').filter(Boolean);
  assert.deepEqual(timedLines.slice(0, 2), ['Tracing connect ... Hit Ctrl-C to end', 'TIME(s)  PID     COMM         IP SADDR            DADDR            DPORT ']);
  // -P alone: only the v4 listener's two connects; TIME(s) counts from the first one shown.
  assert.equal(timedLines.length, 4, timed.stdout);
  assert.match(timedLines[2], new RegExp(`^0\\.000    ${r.cli4} +tcpflows-cli 4  127\\.0\\.0\\.1 +127\\.0\\.0\\.1 +${w.ports[0]} *$`));
  assert.match(timedLines[3], new RegExp(`^\\d+\\.\\d{3} +${r.cli4} +tcpflows-cli`));
});

test('-p, -P, -4/-6 and -u filter exactly: a control process connecting meanwhile is absent', async (t) => {
  if (!needsBpf(t)) return;
  const N = 3;
  const server = start(flows('serve', '127.0.0.1', '0', String(3 * N), '1', '1'));
  const [, port] = await server.line('server');
  const [closed, closed6] = await Promise.all([closedPort('127.0.0.1'), closedPort('::1')]);
  const target = start(flows('connect', '127.0.0.1', String(port), String(N), '1', '1', 'wait-connect'));
  // The control: same server and kind of connect, as user nobody, and refused connects elsewhere.
  const control = start(flows('connect', '127.0.0.1', String(port), String(N), '1', '1', 'wait-connect'), 65534);
  const other = start(flows('connect', '127.0.0.1', String(port), String(N), '1', '1', 'wait-connect'));
  const refused = start(flows('refused', '127.0.0.1', String(closed), '2', 'wait-connect'));
  const refused6 = start(flows('refused', '::1', String(closed6), '2', 'wait-connect'));
  const byPid = startInTest(t, 'tcpconnect', ['--json', '-p', String(target.proc.pid)]);
  const byPort = startInTest(t, 'tcpconnect', ['--json', '-P', `${closed},${closed6}`]);
  const byUid = startInTest(t, 'tcpconnect', ['--json', '-u', '65534', '-U']);
  const only6 = startInTest(t, 'tcpconnect', ['--json', '-6', '-P', `${closed},${closed6}`]);
  await Promise.all([byPid.ready, byPort.ready, byUid.ready, only6.ready]);
  for (const p of [target, control, other, refused, refused6]) p.go();
  await Promise.all([target.line('client'), control.line('client'), other.line('client'), refused.line('refused'), refused6.line('refused')]);
  assert.deepEqual(await Promise.all([server.done, target.done, control.done, other.done, refused.done, refused6.done]), [0, 0, 0, 0, 0, 0]);
  await Promise.all([byPid, byPort, byUid, only6].map(stopped));

  assert.deepEqual(rows(byPid).map((r) => [r.pid, r.dport]), Array(N).fill([target.proc.pid, port]));
  assert.deepEqual(rows(byPort).map((r) => [r.pid, r.ip, r.dport]).sort(),
    [...Array(2).fill([refused.proc.pid, 4, closed]), ...Array(2).fill([refused6.proc.pid, 6, closed6])].sort());
  assert.deepEqual(rows(byUid).map((r) => [r.pid, r.uid, r.dport]), Array(N).fill([control.proc.pid, 65534, port]));
  assert.deepEqual(rows(only6).map((r) => [r.pid, r.ip, r.dport]), Array(2).fill([refused6.proc.pid, 6, closed6]));
});

test('-c counts connects per source, destination and port exactly, printed at Ctrl-C as bcc does (and as JSON)', async (t) => {
  if (!needsBpf(t)) return;
  const [N, M] = [4, 3];
  const w = await connectsAndRefusals(N, M);
  const ports = [...w.ports, ...w.closed].join(',');
  const text = startInTest(t, 'tcpconnect', ['-c', '-P', ports]);
  const json = startInTest(t, 'tcpconnect', ['-c', '--json', '-P', ports]);
  await Promise.all([text.ready, json.ready]);
  await w.run();
  await Promise.all([stopped(text), stopped(json)]);
  const line = (a: string, port: number, n: number) => `${a.padEnd(25)} ${a.padEnd(25)} ${String(port).padEnd(20)} ${String(n).padEnd(10)}`;
  // Counts first, then address order among equals: IPv4 rows, then IPv6.
  assert.equal(text.stdout, [
    'Tracing connect ... Hit Ctrl-C to end', '',
    `LADDR${' '.repeat(21)}RADDR${' '.repeat(21)}RPORT${' '.repeat(16)}CONNECTS  `,
    line('127.0.0.1', w.ports[0], N), line('127.0.0.1', w.closed[0], M),
    line('::1', w.ports[1], N), line('::1', w.closed[1], M), '',
  ].join('\n'));
  assert.deepEqual(text.stderr.includes('not counted'), false);
  assert.deepEqual(json.stdout.trim().split('\n').map((l) => JSON.parse(l)), [
    { ip: 4, saddr: '127.0.0.1', daddr: '127.0.0.1', dport: w.ports[0], connects: N },
    { ip: 4, saddr: '127.0.0.1', daddr: '127.0.0.1', dport: w.closed[0], connects: M },
    { ip: 6, saddr: '::1', daddr: '::1', dport: w.ports[1], connects: N },
    { ip: 6, saddr: '::1', daddr: '::1', dport: w.closed[1], connects: M },
  ]);
});

test('a non-blocking connect whose SYN is dropped is shown when connect() returns, with its local port', async (t) => {
  if (!needsBpf(t)) return;
  const ns = makeNetnsPair(`tcpcn${process.pid}`);
  t.after(() => ns.close());
  // Every SYN to port 9 in namespace A is dropped: the client stays in SYN_SENT until it closes.
  execFileSync('ip', ['netns', 'exec', ns.a, 'nft', 'add table inet bpfkit; add chain inet bpfkit in { type filter hook input priority 0; }; add rule inet bpfkit in tcp dport 9 drop']);
  const run = startInTest(t, 'tcpconnect', ['--json', '-P', '9']);
  await run.ready;
  for (const [ip, srv, cli] of [[4, ns.addrA4, ns.addrB4], [6, ns.addrA6, ns.addrB6]] as const) {
    const nb = start(ns.exec(ns.b, workload('tcpconnect-nb'), [srv, '9']));
    const [pid, lport] = await nb.line('nb');
    // Shown while the socket is still connecting: before the test lets the client close it.
    assert.ok(await run.waitForOutput(new RegExp(`"pid":${pid},`)), run.stdout);
    nb.go();
    assert.equal(await nb.done, 0);
    const [row] = pick(rows(run), pid);
    assert.deepEqual([row.comm, row.ip, row.saddr, row.lport, row.daddr, row.dport], ['tcpconnect-nb', ip, cli, lport, srv, 9]);
  }
  await stopped(run);
  assert.equal(rows(run).length, 2, run.stdout);
});

test('the raw tracepoint rung (tracepoints avoided) shows the same exact attempts, refused ones included', async (t) => {
  if (!needsBpf(t)) return;
  const env = { BPFKIT_AVOID: 'tracepoint' };
  if (!rawTracepointSupported()) {
    const refused = await runToolToEnd('tcpconnect', [], { env });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /^tcpconnect: no way to trace connect attempts on this kernel: /);
    return;
  }
  const [N, M] = [3, 2];
  const w = await connectsAndRefusals(N, M);
  const run = startInTest(t, 'tcpconnect', ['--json', '--explain'], { env });
  await run.ready;
  const r = await w.run();
  await stopped(run);
  assert.match(run.stderr, /^ {2}connect attempts: raw tracepoint inet_sock_set_state \(socket fields at BTF offsets\)$/m);
  assert.match(run.stderr, /^ {2}non-blocking connects \(the port, when connect\(\) returns\): none: /m);
  const all = rows(run);
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  assert.deepEqual(pick(all, r.cli4).map(flowOf), Array(N).fill(['tcpflows-cli', 4, '127.0.0.1', '127.0.0.1', w.ports[0]]));
  assert.deepEqual(sorted(pick(all, r.cli4).map((x) => x.lport)), sorted(r.lports4));
  assert.deepEqual(pick(all, r.cli6).map(flowOf), Array(N).fill(['tcpflows-cli', 6, '::1', '::1', w.ports[1]]));
  assert.deepEqual(sorted(pick(all, r.cli6).map((x) => x.lport)), sorted(r.lports6));
  assert.deepEqual(pick(all, r.ref4).map(flowOf), Array(M).fill(['tcpflows', 4, '127.0.0.1', '127.0.0.1', w.closed[0]]));
  assert.deepEqual(pick(all, r.ref6).map(flowOf), Array(M).fill(['tcpflows', 6, '::1', '::1', w.closed[1]]));
  assert.ok(pick(all, r.ref4).every((x) => x.lport > 0), 'a refused socket keeps inet_sport');
});

test('the kprobe rung compiles and passes this kernel\'s verifier; with -c, so do the others', async (t) => {
  if (!needsBpf(t)) return;
  const live = liveKernel();
  for (const [view, type, names] of [
    [{ ...live, tracepoint: () => false, kprobes: () => true, kernelFunction: () => true }, PROG_TYPE.KPROBE, ['trace_connect_entry', 'trace_connect_return']],
    [live, PROG_TYPE.TRACEPOINT, ['tracepoint__sock__inet_sock_set_state', 'tracepoint__syscalls__sys_exit_connect']],
  ] as const) {
    for (const count of [false, true]) {
      const program = buildProgram(configureTcpconnect({ count, portFilter: true, pid: 1, uid: 0, family: 4 }, view));
      const bpf = new BPF({ text: program.text, includeDirs: program.includeDirs, autoAttach: false });
      try {
        assert.deepEqual(bpf.functionNames().sort(), [...names].sort());
        for (const name of names) assert.ok(bpf.loadFunc(name, type).fd >= 0, name);
      } finally {
        bpf.close();
      }
    }
  }
});

test('struct connect_event: tools/tcpconnect/events.ts reads it at the offsets libbcc lays it out at', async (t) => {
  if (!needsBpf(t)) return;
  const program = buildProgram(configureTcpconnect({}));
  const bpf = new BPF({ text: program.text, includeDirs: program.includeDirs, autoAttach: false });
  try {
    const fields = structFields(bpf, 'pending');
    assert.deepEqual(Object.fromEntries(fields.map((f) => [f.name, f.offset])), CONNECT_EVENT_OFFSETS);
  } finally {
    bpf.close();
  }
});

test('tcpconnect --explain picks the attach points this kernel offers', async (t: TestContext) => {
  if (!needsBpf(t)) return;
  const { chosen, stderr } = await explainedRun(t, 'tcpconnect', []);
  const stateTp = tracepointExists('sock', 'inet_sock_set_state');
  assert.deepEqual(chosen, {
    'connect attempts': stateTp ? 'tracepoint sock:inet_sock_set_state (SYN_SENT, in the connecting task)'
      : rawTracepointSupported() ? 'raw tracepoint inet_sock_set_state (socket fields at BTF offsets)'
      : kprobesAvailable() ? 'kprobes on entry and return of tcp_v4_connect + tcp_v6_connect' : 'none',
    ...(stateTp || rawTracepointSupported() ? {
      'non-blocking connects (the port, when connect() returns)': tracepointExists('syscalls', 'sys_exit_connect')
        ? 'tracepoint syscalls:sys_exit_connect' : "none: reported at the socket's next state change (answered, refused or timed out)",
    } : {}),
    'struct sock field offsets': kernelBtfAvailable()
      ? "the running kernel's BTF" : "the kernel headers libbcc compiles with (right only when they are the running kernel's)",
    'event records': expectedEventRecords(),
  }, stderr);
});
