// tcptop against the real kernel: TCP connections that move exactly known byte counts
// (test/workloads/tcpflows.c), and the rows tcptop prints for them, to the byte.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { BPF, PROG_TYPE, fentryUsable, kernelBtf, kernelBtfAvailable, kprobesAvailable, tracepointExists } from 'bcc-node-bindings';
import { buildProgram } from '../../lib/run/program.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { configureTcptop } from '../../tools/tcptop/program.ts';
import { kernelFunctionExists } from '../../lib/kernel/kallsyms.ts';
import { needsBpf } from '../helpers/kernel.ts';
import { explainedRun, firstUsable } from '../helpers/attach.ts';
import { runToolToEnd, startTool, type ToolRun } from '../helpers/tool.ts';
import { workload } from '../helpers/workloads.ts';
import { startLineWorkload, stopLineWorkloads } from '../helpers/line-workload.ts';
import { makeNetnsPair } from '../helpers/netns.ts';
import { CGROUP_MAP, MNTNS_MAP } from '../../lib/kernel/pinned-maps.ts';
import { createPinnedHashMap, ensureBpffs, u64, updatePinnedMap } from '../helpers/bpffs.ts';
import { TIME_SCALE } from '../helpers/guest.ts';

// --- the workload: tcpflows prints "server PID PORT" and "client PID LPORT..." ---

interface Flows {
  proc: ChildProcess;
  server: Promise<{ pid: number; port: number }>;
  client: Promise<{ pid: number; ports: number[] }>;
  /** Lets a client waiting on stdin ("wait-connect" / "wait-transfer") go on. */
  go(): void;
  /** Exit code. */
  done: Promise<number>;
}

afterEach(stopLineWorkloads);

function startFlows(argv: [string, string[]]): Flows {
  const { proc, line, go, done } = startLineWorkload(argv[0], argv[1]);
  const server = line('server').then(([pid, port]) => ({ pid, port }));
  const client = line('client').then(([pid, ...ports]) => ({ pid, ports }));
  // A server-only or client-only process never prints the other line: not an error unless awaited.
  server.catch(() => {});
  client.catch(() => {});
  return { proc, server, client, go, done };
}

function pair(addr: string, n: number, a: number, b: number, when = 'wait-connect'): Flows {
  return startFlows([workload('tcpflows'), ['pair', addr, String(n), String(a), String(b), when]]);
}

// --- tcptop's output ---

interface JsonFlow {
  pid: number; comm: string; family: number; laddr: string; lport: number; raddr: string; rport: number;
  rx_bytes: number; tx_bytes: number; rx_kb: number; tx_kb: number;
}
interface JsonInterval { time: string; interval_s: number; loadavg: number[]; dropped: number; flows: JsonFlow[] }

function intervals(run: { stdout: string }): JsonInterval[] {
  return run.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as JsonInterval);
}

function flowsOf(interval: JsonInterval, pid: number): JsonFlow[] {
  return interval.flows.filter((f) => f.pid === pid);
}

/** bcc's formats: "%-7s %-12.12s %-21s %-21s %6s %6s" for IPv4, with 32-wide addresses for IPv6. */
function bccLine(width: 21 | 32, cols: Array<string | number>): string {
  const [pid, comm, l, r, rx, tx] = cols.map(String);
  return `${pid.padEnd(7)} ${comm.slice(0, 12).padEnd(12)} ${l.padEnd(width)} ${r.padEnd(width)} ${rx.padStart(6)} ${tx.padStart(6)}`;
}
function bccRow(width: 21 | 32, pid: number, comm: string, l: string, r: string, rx: number, tx: number): string {
  return bccLine(width, [pid, comm, l, r, rx, tx]);
}
const HEADER4 = bccLine(21, ['PID', 'COMM', 'LADDR', 'RADDR', 'RX_KB', 'TX_KB']);
const HEADER6 = bccLine(32, ['PID', 'COMM', 'LADDR6', 'RADDR6', 'RX_KB', 'TX_KB']);
const kb = (bytes: number) => Math.floor(bytes / 1024);

async function ready(...runs: ToolRun[]): Promise<void> {
  await Promise.all(runs.map((r) => r.ready));
}

/** Ctrl-C: tcptop prints the interval so far (as bcc's does) and exits 0. */
async function interrupted(run: ToolRun): Promise<void> {
  assert.equal(await run.stop('SIGINT'), 0, run.stderr);
}

async function ended(run: ToolRun): Promise<void> {
  const timer = setTimeout(() => run.child.kill('SIGKILL'), 30_000 * TIME_SCALE);
  const code = await run.exited;
  clearTimeout(timer);
  assert.equal(code, 0, `tcptop exited ${code}: ${run.stderr}`);
}

test('loopback IPv4 and IPv6 pairs: -C -S 1 1 prints bcc\'s tables with the right PIDs, comms, addresses and KB', async (t) => {
  if (!needsBpf(t)) return;
  const [A4, B4, A6, B6] = [300_000, 200_000, 123_456, 654_321];
  const v4 = pair('127.0.0.1', 1, A4, B4);
  const v6 = pair('::1', 1, A6, B6);
  const run = startTool('tcptop', ['-C', '-S', '1', '1']);
  await ready(run);
  v4.go();
  v6.go();
  const [s4, c4, s6, c6] = await Promise.all([v4.server, v4.client, v6.server, v6.client]);
  assert.deepEqual(await Promise.all([v4.done, v6.done]), [0, 0]);
  await ended(run);

  const lines = run.stdout.split('\n');
  assert.equal(lines[0], 'Tracing... Output every 1 secs. Hit Ctrl-C to end');
  assert.equal(lines[1], '', 'the -C separator is an empty line');
  assert.equal(lines[2], HEADER4);
  const cl4 = `127.0.0.1:${c4.ports[0]}`;
  const sv4 = `127.0.0.1:${s4.port}`;
  const cl6 = `::1:${c6.ports[0]}`;
  const sv6 = `::1:${s6.port}`;
  // Both ends of a connection move A + B bytes: equal totals, so the lower PID (server) first.
  const ours4 = [
    bccRow(21, s4.pid, 'tcpflows-srv', sv4, cl4, kb(A4), kb(B4)),
    bccRow(21, c4.pid, 'tcpflows-cli', cl4, sv4, kb(B4), kb(A4)),
  ];
  const ours6 = [
    bccRow(32, s6.pid, 'tcpflows-srv', sv6, cl6, kb(A6), kb(B6)),
    bccRow(32, c6.pid, 'tcpflows-cli', cl6, sv6, kb(B6), kb(A6)),
  ];
  // Other TCP traffic on the machine may add rows; ours must be there, in order, in their table.
  const v6At = lines.indexOf(HEADER6);
  assert.ok(v6At > 3, `an IPv6 table:\n${run.stdout}`);
  assert.equal(lines[v6At - 1], '', 'an empty line before the IPv6 table');
  const mine = (pids: number[], from: number, to: number) => lines.slice(from, to).filter((l) => pids.includes(Number(l.split(' ')[0])));
  assert.deepEqual(mine([s4.pid, c4.pid], 3, v6At - 1), ours4);
  assert.deepEqual(mine([s6.pid, c6.pid], v6At + 1, lines.length), ours6);
  assert.equal(lines.at(-1), '', 'output ends with a newline');
});

test('--json reports the exact bytes of each end, and a connection opened before tcptop started (addresses read at BTF offsets)', async (t) => {
  if (!needsBpf(t)) return;
  const [A, B] = [70_000, 1_500];
  const fresh = pair('127.0.0.1', 1, A, B);
  // Connected (and accepted) before tcptop loads: no state change will ever describe it.
  const old4 = pair('127.0.0.1', 1, B, A, 'wait-transfer');
  const old6 = pair('::1', 1, A + 1, B + 1, 'wait-transfer');
  const [o4, o6] = await Promise.all([old4.client, old6.client]);
  const run = startTool('tcptop', ['--json', '60']);
  await ready(run);
  fresh.go();
  old4.go();
  old6.go();
  const [sf, cf, so4, so6] = await Promise.all([fresh.server, fresh.client, old4.server, old6.server]);
  assert.deepEqual(await Promise.all([fresh.done, old4.done, old6.done]), [0, 0, 0]);
  await interrupted(run);

  const [interval] = intervals(run);
  assert.equal(interval.interval_s, 60);
  assert.equal(interval.dropped, 0);
  const strip = (f: JsonFlow) => ({ ...f, pid: 0 });
  const flow = (family: number, comm: string, laddr: string, lport: number, raddr: string, rport: number, rx: number, tx: number) => ({
    pid: 0, comm, family, laddr, lport, raddr, rport, rx_bytes: rx, tx_bytes: tx, rx_kb: kb(rx), tx_kb: kb(tx),
  });
  assert.deepEqual(flowsOf(interval, sf.pid).map(strip), [flow(4, 'tcpflows-srv', '127.0.0.1', sf.port, '127.0.0.1', cf.ports[0], A, B)]);
  assert.deepEqual(flowsOf(interval, cf.pid).map(strip), [flow(4, 'tcpflows-cli', '127.0.0.1', cf.ports[0], '127.0.0.1', sf.port, B, A)]);
  assert.deepEqual(flowsOf(interval, so4.pid).map(strip), [flow(4, 'tcpflows-srv', '127.0.0.1', so4.port, '127.0.0.1', o4.ports[0], B, A)]);
  assert.deepEqual(flowsOf(interval, o4.pid).map(strip), [flow(4, 'tcpflows-cli', '127.0.0.1', o4.ports[0], '127.0.0.1', so4.port, A, B)]);
  assert.deepEqual(flowsOf(interval, so6.pid).map(strip), [flow(6, 'tcpflows-srv', '::1', so6.port, '::1', o6.ports[0], A + 1, B + 1)]);
  assert.deepEqual(flowsOf(interval, o6.pid).map(strip), [flow(6, 'tcpflows-cli', '::1', o6.ports[0], '::1', so6.port, B + 1, A + 1)]);

  // The struct reads use this kernel's BTF offsets, passed to the program as numbers.
  const ebpf = await runToolToEnd('tcptop', ['--ebpf']);
  const btf = kernelBtf();
  for (const [define, field] of [['SOCK_DADDR_OFFSET', 'skc_daddr'], ['SOCK_RCV_SADDR_OFFSET', 'skc_rcv_saddr'], ['SOCK_DPORT_OFFSET', 'skc_dport'],
    ['SOCK_NUM_OFFSET', 'skc_num'], ['SOCK_FAMILY_OFFSET', 'skc_family'], ['SOCK_V6_DADDR_OFFSET', 'skc_v6_daddr'], ['SOCK_V6_RCV_SADDR_OFFSET', 'skc_v6_rcv_saddr']]) {
    assert.match(ebpf.stdout, new RegExp(`^#define ${define} ${btf.offsetOf('sock', `__sk_common.${field}`)}$`, 'm'));
  }
});

test('the kprobe rung (tracepoints and fexit avoided) counts the same exact bytes, or, without kprobes, tcptop says why in one line', async (t) => {
  if (!needsBpf(t)) return;
  // Kernels with fentry never reach it on their own: BPFKIT_AVOID makes this one take it.
  const env = { BPFKIT_AVOID: 'tracepoint,fentry' };
  if (!kprobesAvailable()) {
    const refused = await runToolToEnd('tcptop', ['1', '1'], { env });
    assert.equal(refused.code, 1, refused.stderr); // as biolatency's: the kernel, not the user, lacks something
    assert.match(refused.stderr, /^tcptop: no way to trace bytes sent and received on this kernel: .*excluded by BPFKIT_AVOID=tracepoint,fentry.*kprobes on entry and return of tcp_sendmsg \+ tcp_recvmsg: this kernel has no kprobes\n$/);
    return;
  }
  const [A, B] = [70_000, 1_500];
  const flows = pair('127.0.0.1', 1, A, B);
  const run = startTool('tcptop', ['--json', '--explain', '600'], { env });
  await ready(run);
  flows.go();
  const [server, client] = await Promise.all([flows.server, flows.client]);
  assert.equal(await flows.done, 0);
  await interrupted(run);
  assert.match(run.stderr, /^ {2}bytes sent and received: kprobes on entry and return of tcp_sendmsg \+ tcp_recvmsg$/m);
  const [interval] = intervals(run);
  assert.deepEqual(flowsOf(interval, server.pid).map((f) => [f.lport, f.rport, f.rx_bytes, f.tx_bytes]), [[server.port, client.ports[0], A, B]]);
  assert.deepEqual(flowsOf(interval, client.pid).map((f) => [f.lport, f.rport, f.rx_bytes, f.tx_bytes]), [[client.ports[0], server.port, B, A]]);
});

test('-p, -4 and -6 filter exactly, and an idle interval prints an empty table, not the last rows', async (t) => {
  if (!needsBpf(t)) return;
  const v4 = pair('127.0.0.1', 1, 4096, 8192);
  const v6 = pair('::1', 1, 10_240, 2_048);
  const [s4, s6] = await Promise.all([v4.server, v6.server]);
  // -4 and -6 print one interval when stopped (Ctrl-C); the -p run, ready last, has two:
  // the traffic falls in its first, none in its second.
  const only4 = startTool('tcptop', ['-4', '--json', '60']);
  const only6 = startTool('tcptop', ['-6', '--json', '60']);
  await ready(only4, only6);
  const byPid = startTool('tcptop', ['-C', '-S', '-p', String(s4.pid), '2', '2']);
  await ready(byPid);
  v4.go();
  v6.go();
  const [c4, c6] = await Promise.all([v4.client, v6.client]);
  assert.deepEqual(await Promise.all([v4.done, v6.done]), [0, 0]);
  await Promise.all([interrupted(only4), interrupted(only6)]);
  await ended(byPid);

  // One process, two intervals: its row, then an empty table (the processes have exited).
  assert.equal(byPid.stdout, [
    'Tracing... Output every 2 secs. Hit Ctrl-C to end', '',
    HEADER4, bccRow(21, s4.pid, 'tcpflows-srv', `127.0.0.1:${s4.port}`, `127.0.0.1:${c4.ports[0]}`, 4, 8), '',
    HEADER4, '',
  ].join('\n'));

  const [i4] = intervals(only4);
  assert.ok(i4.flows.every((f) => f.family === 4), 'only IPv4 rows with -4');
  assert.equal(flowsOf(i4, s4.pid).length, 1);
  assert.equal(flowsOf(i4, c4.pid).length, 1);
  assert.equal(flowsOf(i4, s6.pid).length + flowsOf(i4, c6.pid).length, 0);
  const [i6] = intervals(only6);
  assert.ok(i6.flows.every((f) => f.family === 6), 'only IPv6 rows with -6');
  assert.deepEqual(flowsOf(i6, s6.pid).map((f) => [f.rx_bytes, f.tx_bytes]), [[10_240, 2_048]]);
  assert.deepEqual(flowsOf(i6, c6.pid).map((f) => [f.rx_bytes, f.tx_bytes]), [[2_048, 10_240]]);
  assert.equal(flowsOf(i6, s4.pid).length + flowsOf(i6, c4.pid).length, 0);
});

test('between two network namespaces joined by a veth pair, rows show the namespaces\' own addresses', async (t) => {
  if (!needsBpf(t)) return;
  const ns = makeNetnsPair(`bpfkit-tcptop${process.pid}`);
  t.after(() => ns.close());
  const bin = workload('tcpflows');
  const run = startTool('tcptop', ['--json', '60']);
  await ready(run);
  const results: Array<{ server: { pid: number; port: number }; client: { pid: number; ports: number[] }; family: number; srv: string; cli: string }> = [];
  for (const [family, srv, cli] of [[4, ns.addrA4, ns.addrB4], [6, ns.addrA6, ns.addrB6]] as const) {
    const server = startFlows(ns.exec(ns.a, bin, ['serve', srv, '0', '1', '5000', '9000']));
    const { pid, port } = await server.server;
    const client = startFlows(ns.exec(ns.b, bin, ['connect', srv, String(port), '1', '5000', '9000']));
    const c = await client.client;
    assert.deepEqual(await Promise.all([server.done, client.done]), [0, 0]);
    results.push({ server: { pid, port }, client: c, family, srv, cli });
  }
  await interrupted(run);
  const [interval] = intervals(run);
  for (const r of results) {
    assert.deepEqual(flowsOf(interval, r.server.pid).map((f) => [f.family, f.laddr, f.lport, f.raddr, f.rport, f.rx_bytes, f.tx_bytes]),
      [[r.family, r.srv, r.server.port, r.cli, r.client.ports[0], 5000, 9000]]);
    assert.deepEqual(flowsOf(interval, r.client.pid).map((f) => [f.family, f.laddr, f.lport, f.raddr, f.rport, f.rx_bytes, f.tx_bytes]),
      [[r.family, r.cli, r.client.ports[0], r.srv, r.server.port, 9000, 5000]]);
  }
});

test('2,000 concurrent loopback connections: every flow of both ends is reported, none dropped', async (t) => {
  if (!needsBpf(t)) return;
  const N = 2000;
  const flows = pair('127.0.0.1', N, 1000, 3000);
  const server = await flows.server;
  // One interval, ended by Ctrl-C once the flows are done: under emulation they take longer than
  // a fixed interval would wait.
  const run = startTool('tcptop', ['--json', '600']);
  await ready(run);
  flows.go();
  const client = await flows.client;
  assert.equal(await flows.done, 0);
  await interrupted(run);

  const [interval] = intervals(run);
  assert.equal(interval.dropped, 0);
  const cli = flowsOf(interval, client.pid);
  const srv = flowsOf(interval, server.pid);
  assert.equal(cli.length, N);
  assert.equal(srv.length, N);
  assert.deepEqual(cli.map((f) => f.lport).sort(), [...client.ports].sort());
  assert.deepEqual(srv.map((f) => f.rport).sort(), [...client.ports].sort());
  assert.ok(cli.every((f) => f.rport === server.port && f.tx_bytes === 1000 && f.rx_bytes === 3000 && f.laddr === '127.0.0.1'));
  assert.ok(srv.every((f) => f.lport === server.port && f.rx_bytes === 1000 && f.tx_bytes === 3000 && f.raddr === '127.0.0.1'));
});

test('a full flow table is reported on stderr and in JSON; Ctrl-C prints the interval so far and exits 0', async (t) => {
  if (!needsBpf(t)) return;
  const N = 20; // 40 flows (both ends) for a table of 16
  const flows = pair('127.0.0.1', N, 1000, 1000);
  const server = await flows.server;
  const run = startTool('tcptop', ['--max-flows', '16', '--json', '30']);
  await ready(run);
  flows.go();
  const client = await flows.client;
  assert.equal(await flows.done, 0);
  await interrupted(run);

  const [interval] = intervals(run);
  const ours = flowsOf(interval, server.pid).length + flowsOf(interval, client.pid).length;
  assert.ok(ours >= 1 && interval.flows.length <= 16, `${interval.flows.length} flows in a table of 16`);
  assert.ok(interval.dropped >= 2 * N * 2 - 16 * 2, `every send or receive of a flow left out is dropped (${interval.dropped})`);
  assert.match(run.stderr, new RegExp(`^tcptop: ${interval.dropped} sends/receives not counted: the flow table is full \\(16 flows in one interval\\)$`, 'm'));
});

test('the fallbacks for kernels without the sock tracepoints compile, and the kprobe one passes this kernel\'s verifier', async (t) => {
  if (!needsBpf(t)) return;
  // What configureTcptop chooses on kernels without the sock tracepoints, with fentry (fexit) or
  // only kprobes, before and after 5.19. Where this kernel has neither kprobes nor fentry to attach
  // them to, loading still runs the verifier.
  const ebpf = await runToolToEnd('tcptop', ['--ebpf']);
  const defines = Object.fromEntries([...ebpf.stdout.matchAll(/^#define ([A-Z_0-9]+) (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
  const sockTracepoints = tracepointExists('sock', 'sock_send_length') && tracepointExists('sock', 'sock_recv_length');
  assert.equal(defines.BYTES_FROM_SOCK_TP === 1, sockTracepoints, 'the sock tracepoints are chosen where they exist');
  const live = liveKernel();
  const noSockTp = (v: Partial<KernelView>): KernelView => ({
    ...live, tracepoint: (c, e) => !['sock_send_length', 'sock_recv_length'].includes(e) && live.tracepoint(c, e), kernelFunction: () => true, ...v,
  });
  for (const [kernel, functions] of [
    [{ fentry: () => true }, ['kretfunc__tcp_recvmsg', 'kretfunc__tcp_sendmsg']],
    [{ fentry: () => false, kprobes: () => true }, ['kprobe__tcp_recvmsg', 'kprobe__tcp_sendmsg', 'kretprobe__tcp_recvmsg', 'kretprobe__tcp_sendmsg']],
  ] as const) {
    for (const release of ['5.15.0', '6.18.0']) {
      const config = configureTcptop({ maxFlows: 65536 }, noSockTp({ ...kernel, release }));
      assert.equal(config.defines!.TCP_RECVMSG_NONBLOCK, release === '5.15.0');
      const program = buildProgram(config);
      const bpf = new BPF({ text: program.text, includeDirs: program.includeDirs, autoAttach: false });
      try {
        // Newer bcc names fexit programs kretfunc__vmlinux__<function>.
        const names = bpf.functionNames().filter((n) => !n.startsWith('tracepoint__')).map((n) => n.replace('__vmlinux__', '__'));
        assert.deepEqual(names.sort(), [...functions]);
        if (config.defines!.BYTES_FROM_KPROBES) for (const name of functions) assert.ok(bpf.loadFunc(name, PROG_TYPE.KPROBE).fd >= 0, name);
      } finally {
        bpf.close();
      }
    }
  }
});

// --- container filters: bcc's pinned maps ---

function cgroup2Root(): string | null {
  for (const line of fs.readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const [, dir, type] = line.split(' ');
    if (type === 'cgroup2') return dir;
  }
  return null;
}

test('--cgroupmap and --mntnsmap count only processes whose cgroup or mount namespace is in the pinned map', async (t) => {
  if (!needsBpf(t)) return;
  const root = cgroup2Root();
  assert.ok(root, 'a cgroup2 hierarchy is mounted');
  const mounted = ensureBpffs();
  const tag = `bpfkit-tcptop-${process.pid}`;
  const cgroupDir = `${root}/${tag}`;
  const paths = [`/sys/fs/bpf/${tag}-cgroups`, `/sys/fs/bpf/${tag}-mntns`];
  t.after(() => {
    for (const p of paths) fs.rmSync(p, { force: true });
    try { fs.rmdirSync(cgroupDir); } catch { /* never made, or still busy */ }
    if (mounted) execFileSync('umount', ['/sys/fs/bpf']);
  });
  const cgroupFd = createPinnedHashMap(paths[0], CGROUP_MAP, 16);
  const mntnsFd = createPinnedHashMap(paths[1], MNTNS_MAP, 16);

  // The client runs in its own mount namespace (unshare -m execs it: same PID) and cgroup.
  const server = startFlows([workload('tcpflows'), ['serve', '127.0.0.1', '0', '1', '3000', '6000']]);
  const { pid: serverPid, port } = await server.server;
  const client = startFlows(['unshare', ['-m', workload('tcpflows'), 'connect', '127.0.0.1', String(port), '1', '3000', '6000', 'wait-connect']]);
  const clientPid = client.proc.pid!;
  fs.mkdirSync(cgroupDir);
  fs.writeFileSync(`${cgroupDir}/cgroup.procs`, String(clientPid));
  // Wait until unshare has become tcpflows in its new namespace.
  for (let i = 0; i < 200 && fs.readlinkSync(`/proc/${clientPid}/ns/mnt`) === fs.readlinkSync('/proc/self/ns/mnt'); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  updatePinnedMap(cgroupFd, u64(fs.statSync(cgroupDir).ino), u64(1));
  const inum = Buffer.alloc(4);
  inum.writeUInt32LE(1);
  updatePinnedMap(mntnsFd, u64(fs.statSync(`/proc/${clientPid}/ns/mnt`).ino), inum);
  fs.closeSync(cgroupFd);
  fs.closeSync(mntnsFd);

  const byCgroup = startTool('tcptop', ['--cgroupmap', paths[0], '--json', '60']);
  const byMntns = startTool('tcptop', ['--mntnsmap', paths[1], '--json', '60']);
  await ready(byCgroup, byMntns);
  client.go();
  assert.deepEqual(await Promise.all([server.done, client.done]), [0, 0]);
  await Promise.all([interrupted(byCgroup), interrupted(byMntns)]);

  for (const run of [byCgroup, byMntns]) {
    const [interval] = intervals(run);
    assert.deepEqual(interval.flows.map((f) => [f.pid, f.rport, f.rx_bytes, f.tx_bytes]), [[clientPid, port, 6000, 3000]]);
    assert.equal(flowsOf(interval, serverPid).length, 0);
  }
});

test('a pinned map of the wrong shape, or a path outside /sys/fs/bpf, is refused before anything loads', async (t) => {
  if (!needsBpf(t)) return;
  const mounted = ensureBpffs();
  const path = `/sys/fs/bpf/bpfkit-tcptop-${process.pid}-wrong`;
  t.after(() => {
    fs.rmSync(path, { force: true });
    if (mounted) execFileSync('umount', ['/sys/fs/bpf']);
  });
  fs.closeSync(createPinnedHashMap(path, { option: 'test', keySize: 8, valueSize: 8 }, 4));
  const wrong = await runToolToEnd('tcptop', ['--mntnsmap', path]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /^tcptop: --mntnsmap: .*value 8 B \(want 4\)/m);
  const outside = await runToolToEnd('tcptop', ['--cgroupmap', '/tmp/x"; evil']);
  assert.equal(outside.code, 2);
  assert.match(outside.stderr, /pinned map path under \/sys\/fs\/bpf\//);
});

test('tcptop --explain picks the attach points this kernel offers', async (t) => {
  if (!needsBpf(t)) return;
  const { chosen, stderr } = await explainedRun(t, 'tcptop', []);
  const tcpFunctions = () => kernelFunctionExists('tcp_sendmsg') && kernelFunctionExists('tcp_recvmsg');
  assert.deepEqual(chosen, {
    // The sock tracepoints arrived in 6.3: before, fexit where the kernel allows it, else kprobes.
    'bytes sent and received': firstUsable('bytes', [
      ['tracepoints sock:sock_send_length + sock:sock_recv_length',
        () => tracepointExists('sock', 'sock_send_length') && tracepointExists('sock', 'sock_recv_length')],
      ['fexit tcp_sendmsg + tcp_recvmsg', () => fentryUsable() && tcpFunctions()],
      ['kprobes on entry and return of tcp_sendmsg + tcp_recvmsg', () => kprobesAvailable() && tcpFunctions()],
    ]),
    'connection addresses': tracepointExists('sock', 'inet_sock_set_state')
      ? 'tracepoint sock:inet_sock_set_state (cached per socket), struct sock for older sockets'
      : 'struct sock fields, read at the first send or receive',
    'struct sock field offsets': kernelBtfAvailable()
      ? "the running kernel's BTF" : "the kernel headers libbcc compiles with (right only when they are the running kernel's)",
  }, stderr);
});
