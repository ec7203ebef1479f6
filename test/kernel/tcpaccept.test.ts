// tcpaccept against the real kernel: known servers accept known connections while the tool runs,
// and each accept is reported once, named after the SERVER (the process that called accept(),
// not the client, nor whatever ran when the handshake completed in softirq), with the client's
// address and port as remote and the listening port as local.
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BPF, PROG_TYPE, kernelBtfAvailable, kprobesAvailable, tracepointExists } from 'bcc-node-bindings';
import { buildProgram } from '../../lib/run/program.ts';
import { liveKernel } from '../../lib/kernel/view.ts';
import { configureTcpaccept } from '../../tools/tcpaccept/program.ts';
import { ACCEPT_EVENT_OFFSETS, ACCEPT_EVENT_SIZE, COMM_LEN } from '../../tools/tcpaccept/events.ts';
import { FLOW_SIZE } from '../../lib/output/inet.ts';
import { kernelFunctionExists } from '../../lib/kernel/kallsyms.ts';
import { needsBpf } from '../helpers/kernel.ts';
import { structFields } from '../helpers/bpf.ts';
import { expectedEventRecords, explainedRun, firstUsable } from '../helpers/attach.ts';
import { runToolToEnd, startInTest, stopAll, type ToolRun } from '../helpers/tool.ts';
import { workload } from '../helpers/workloads.ts';
import { freePort, scrape } from '../helpers/http.ts';
import { makeNetnsPair } from '../helpers/netns.ts';
import { cgroupV2Mount } from '../../lib/kernel/cgroups.ts';
import { CGROUP_MAP, MNTNS_MAP } from '../../lib/kernel/pinned-maps.ts';
import { createPinnedHashMap, ensureBpffs, u64, updatePinnedMap } from '../helpers/bpffs.ts';
import { execFileSync } from 'node:child_process';

// The server runs as "tcpaccept-srv" (a link to tcpflows: the name the kernel gives the process),
// the clients as "tcpflows": a row with the client's name or PID would be wrong.
const SERVER_COMM = 'tcpaccept-srv';
const LINK_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'bpfkit-tcpaccept-'));
after(() => fs.rmSync(LINK_DIR, { recursive: true, force: true }));
function serverBinary(): string {
  const link = path.join(LINK_DIR, SERVER_COMM);
  if (!fs.existsSync(link)) fs.symlinkSync(workload('tcpflows'), link);
  return link;
}

// --- the workloads: tcpflows serve / connect print "server PID PORT" and "client PID LPORT..." ---

interface Proc { proc: ChildProcess; line: Promise<number[]>; done: Promise<number> }

function startProc(t: TestContext, argv: [string, string[]], word: string): Proc {
  const proc = spawn(argv[0], argv[1], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); });
  let out = '';
  const line = new Promise<number[]>((resolve, reject) => {
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = new RegExp(`^${word}((?: \\d+)+)\\n`, 'm').exec(out);
      if (m) resolve(m[1].trim().split(' ').map(Number));
    });
    // 'close', not 'exit': a client that ends at once may exit before its stdout has been read.
    proc.once('close', () => reject(new Error(`${argv[0]} exited without a "${word}" line`)));
  });
  line.catch(() => {});
  return { proc, line, done: once(proc, 'exit').then(([code]) => code as number) };
}

interface Accepted { server: { pid: number; port: number }; client: { pid: number; ports: number[] }; addr: string }

/** A server process accepting n connections on addr, and a client process making them. */
async function accepts(t: TestContext, addr: string, n: number, wrap: (cmd: string, args: string[]) => [string, string[]] = (c, a) => [c, a],
  clientAddr = addr, connectTo = addr): Promise<Accepted> {
  const server = startProc(t, wrap(serverBinary(), ['serve', addr, '0', String(n), '100', '100']), 'server');
  const [pid, port] = await server.line;
  const client = startProc(t, wrap(workload('tcpflows'), ['connect', connectTo, String(port), String(n), '100', '100']), 'client');
  const [cpid, ...ports] = await client.line;
  assert.deepEqual(await Promise.all([server.done, client.done]), [0, 0]);
  return { server: { pid, port }, client: { pid: cpid, ports }, addr: clientAddr };
}

// --- tcpaccept's output ---

interface JsonAccept { time: string; timestamp: number; pid: number; comm: string; ip: number; raddr: string; rport: number; laddr: string; lport: number }

function jsonRows(run: ToolRun): JsonAccept[] {
  return run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as JsonAccept);
}

/** bcc's "%-7d %-12.12s %-2d %-16s %-5d %-16s %-5d". */
function bccRow(pid: number, comm: string, ip: number, raddr: string, rport: number, laddr: string, lport: number): string {
  return `${String(pid).padEnd(7)} ${comm.slice(0, 12).padEnd(12)} ${String(ip).padEnd(2)} ${raddr.padEnd(16)} ${String(rport).padEnd(5)} ${laddr.padEnd(16)} ${String(lport).padEnd(5)}`;
}
const HEADER = 'PID     COMM         IP RADDR            RPORT LADDR            LPORT';

const expectedJson = (a: Accepted, ip: number, laddr = a.addr) => a.client.ports.map((rport) => ({
  pid: a.server.pid, comm: SERVER_COMM, ip, raddr: a.addr, rport, laddr, lport: a.server.port,
}));
const mineJson = (run: ToolRun, ...servers: Accepted[]) => jsonRows(run)
  .filter((r) => servers.some((s) => s.server.pid === r.pid || s.client.pid === r.pid))
  .map(({ time: _t, timestamp: _s, ...r }) => r);
const sorted = <T extends { rport: number; lport: number }>(rows: T[]) => [...rows].sort((a, b) => a.lport - b.lport || a.rport - b.rport);

test('N IPv4 and IPv6 accepts: exactly N rows each, with the server\'s PID and comm, the client\'s port as remote and the listening port as local', async (t) => {
  if (!needsBpf(t)) return;
  const N = 25;
  const text = startInTest(t, 'tcpaccept', ['-t']);
  const json = startInTest(t, 'tcpaccept', ['--json']);
  await Promise.all([text.ready, json.ready]);
  const v4 = await accepts(t, '127.0.0.1', N);
  const v6 = await accepts(t, '::1', N);
  await stopAll(text, json);

  const lines = text.stdout.split('\n');
  assert.equal(lines[0], `TIME(s)  ${HEADER}`);
  assert.equal(lines.at(-1), '', 'output ends with a newline');
  const ours = (pid: number) => lines.slice(1).filter((l) => l.slice(9).startsWith(`${String(pid).padEnd(7)} `)).map((l) => l.slice(9));
  assert.deepEqual(ours(v4.server.pid), v4.client.ports.map((p) => bccRow(v4.server.pid, SERVER_COMM, 4, '127.0.0.1', p, '127.0.0.1', v4.server.port)));
  assert.deepEqual(ours(v6.server.pid), v6.client.ports.map((p) => bccRow(v6.server.pid, SERVER_COMM, 6, '::1', p, '::1', v6.server.port)));
  for (const l of lines.slice(1, -1)) assert.match(l, /^\d+\.\d{3} +\d+ /, 'TIME(s) first, in seconds with milliseconds');
  assert.equal(ours(v4.client.pid).length + ours(v6.client.pid).length, 0, 'the clients accepted nothing');

  assert.deepEqual(sorted(mineJson(json, v4, v6)), sorted([...expectedJson(v4, 4), ...expectedJson(v6, 6)]));
});

test('accept4() is traced as accept() is (Python\'s socket.accept calls accept4)', async (t) => {
  if (!needsBpf(t)) return;
  const json = startInTest(t, 'tcpaccept', ['--json', '-4']);
  await json.ready;
  const N = 3;
  const py = `import os, socket, sys
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(${N})
print('server', os.getpid(), s.getsockname()[1], flush=True)
for _ in range(${N}): s.accept()[0].close()`;
  const server = startProc(t, ['python3', ['-c', py]], 'server');
  const [pid, port] = await server.line;
  const client = startProc(t, [workload('tcpflows'), ['connect', '127.0.0.1', String(port), String(N), '0', '0']], 'client');
  const [, ...ports] = await client.line;
  assert.deepEqual(await Promise.all([server.done, client.done]), [0, 0]);
  await stopAll(json);
  assert.deepEqual(sorted(jsonRows(json).filter((r) => r.pid === pid).map(({ time: _t, timestamp: _s, ...r }) => r)),
    sorted(ports.map((rport) => ({ pid, comm: 'python3', ip: 4, raddr: '127.0.0.1', rport, laddr: '127.0.0.1', lport: port }))));
});

test('-p, -P, -4 and -6 filter exactly: what they select is all there, the control is absent', async (t) => {
  if (!needsBpf(t)) return;
  // Servers that exist before the tools start (-p needs a live PID): each waits for its clients.
  const N = 4;
  const s4 = startProc(t, [serverBinary(), ['serve', '127.0.0.1', '0', String(N), '10', '10']], 'server');
  const s6 = startProc(t, [serverBinary(), ['serve', '::1', '0', String(N), '10', '10']], 'server');
  const [[pid4, port4], [pid6, port6]] = await Promise.all([s4.line, s6.line]);
  const byPid = startInTest(t, 'tcpaccept', ['--json', '-p', String(pid4)]);
  const byPort = startInTest(t, 'tcpaccept', ['--json', '-P', `${port6},1`]);
  const only4 = startInTest(t, 'tcpaccept', ['--json', '-4']);
  const only6 = startInTest(t, 'tcpaccept', ['--json', '-6']);
  await Promise.all([byPid.ready, byPort.ready, only4.ready, only6.ready]);
  const c4 = startProc(t, [workload('tcpflows'), ['connect', '127.0.0.1', String(port4), String(N), '10', '10']], 'client');
  const c6 = startProc(t, [workload('tcpflows'), ['connect', '::1', String(port6), String(N), '10', '10']], 'client');
  const [[, ...ports4], [, ...ports6]] = await Promise.all([c4.line, c6.line]);
  assert.deepEqual(await Promise.all([s4.done, s6.done, c4.done, c6.done]), [0, 0, 0, 0]);
  await stopAll(byPid, byPort, only4, only6);

  const a4: Accepted = { server: { pid: pid4, port: port4 }, client: { pid: 0, ports: ports4 }, addr: '127.0.0.1' };
  const a6: Accepted = { server: { pid: pid6, port: port6 }, client: { pid: 0, ports: ports6 }, addr: '::1' };
  const rows = (run: ToolRun) => sorted(mineJson(run, a4, a6));
  assert.deepEqual(jsonRows(byPid).map((r) => r.pid).filter((p) => p !== pid4), [], '-p: no other process');
  assert.deepEqual(rows(byPid), sorted(expectedJson(a4, 4)));
  assert.deepEqual(jsonRows(byPort).map((r) => r.lport).filter((p) => p !== port6), [], '-P: no other port');
  assert.deepEqual(rows(byPort), sorted(expectedJson(a6, 6)));
  assert.deepEqual(jsonRows(only4).filter((r) => r.ip !== 4), [], '-4: IPv4 only');
  assert.deepEqual(rows(only4), sorted(expectedJson(a4, 4)));
  assert.deepEqual(jsonRows(only6).filter((r) => r.ip !== 6), [], '-6: IPv6 only');
  assert.deepEqual(rows(only6), sorted(expectedJson(a6, 6)));
});

test('between two network namespaces: the client\'s own address is the remote one, the server\'s the local one', async (t) => {
  if (!needsBpf(t)) return;
  const ns = makeNetnsPair(`bpfkit-tacc${process.pid}`);
  t.after(() => ns.close());
  const json = startInTest(t, 'tcpaccept', ['--json']);
  await json.ready;
  const results: Array<[Accepted, number, string]> = [];
  for (const [ip, srv, cli] of [[4, ns.addrA4, ns.addrB4], [6, ns.addrA6, ns.addrB6]] as const) {
    const server = startProc(t, ns.exec(ns.a, serverBinary(), ['serve', srv, '0', '2', '10', '10']), 'server');
    const [pid, port] = await server.line;
    const client = startProc(t, ns.exec(ns.b, workload('tcpflows'), ['connect', srv, String(port), '2', '10', '10']), 'client');
    const [cpid, ...ports] = await client.line;
    assert.deepEqual(await Promise.all([server.done, client.done]), [0, 0]);
    results.push([{ server: { pid, port }, client: { pid: cpid, ports }, addr: cli }, ip, srv]);
  }
  await stopAll(json);
  for (const [a, ip, srv] of results) assert.deepEqual(sorted(mineJson(json, a)), sorted(expectedJson(a, ip, srv)));
});

test('--metrics counts accepts by the server\'s comm and the listening port', async (t) => {
  if (!needsBpf(t)) return;
  const port = await freePort();
  const tool = startInTest(t, 'tcpaccept', ['--metrics', `127.0.0.1:${port}`]);
  await tool.ready;
  const N = 7;
  const a = await accepts(t, '127.0.0.1', N);
  const text = await scrape(port);
  await stopAll(tool);
  assert.match(text, new RegExp(`^bpfkit_tcp_accepts_total\\{comm="${SERVER_COMM}",lport="${a.server.port}"\\} ${N}$`, 'm'));
  assert.match(text, /^bpfkit_lost_events_total\{tool="tcpaccept"\} 0$/m);
  assert.equal(tool.stdout, '', 'nothing printed with --metrics alone');
});

test('--cgroupmap and --mntnsmap report only servers whose cgroup or mount namespace is in the pinned map', async (t) => {
  if (!needsBpf(t)) return;
  const root = cgroupV2Mount();
  assert.ok(root, 'a cgroup2 hierarchy is mounted');
  const mounted = ensureBpffs();
  const tag = `bpfkit-tcpaccept-${process.pid}`;
  const cgroupDir = `${root}/${tag}`;
  const paths = [`/sys/fs/bpf/${tag}-cgroups`, `/sys/fs/bpf/${tag}-mntns`];
  t.after(() => {
    for (const p of paths) fs.rmSync(p, { force: true });
    try { fs.rmdirSync(cgroupDir); } catch { /* never made, or still busy */ }
    if (mounted) execFileSync('umount', ['/sys/fs/bpf']);
  });
  const cgroupFd = createPinnedHashMap(paths[0], CGROUP_MAP, 16);
  const mntnsFd = createPinnedHashMap(paths[1], MNTNS_MAP, 16);

  // The traced server runs in its own mount namespace (unshare -m execs it: same PID) and cgroup;
  // the control server beside it in neither.
  const N = 3;
  const inside = startProc(t, ['unshare', ['-m', serverBinary(), 'serve', '127.0.0.1', '0', String(N), '10', '10']], 'server');
  const control = startProc(t, [serverBinary(), ['serve', '127.0.0.1', '0', String(N), '10', '10']], 'server');
  const [[pidIn, portIn], [, portOut]] = await Promise.all([inside.line, control.line]);
  fs.mkdirSync(cgroupDir);
  fs.writeFileSync(`${cgroupDir}/cgroup.procs`, String(pidIn));
  updatePinnedMap(cgroupFd, u64(fs.statSync(cgroupDir).ino), u64(1));
  const inum = Buffer.alloc(4);
  inum.writeUInt32LE(1);
  updatePinnedMap(mntnsFd, u64(fs.statSync(`/proc/${pidIn}/ns/mnt`).ino), inum);
  fs.closeSync(cgroupFd);
  fs.closeSync(mntnsFd);
  assert.notEqual(fs.readlinkSync(`/proc/${pidIn}/ns/mnt`), fs.readlinkSync('/proc/self/ns/mnt'), 'the server has its own mount namespace');

  const byCgroup = startInTest(t, 'tcpaccept', ['--cgroupmap', paths[0], '--json']);
  const byMntns = startInTest(t, 'tcpaccept', ['--mntnsmap', paths[1], '--json']);
  await Promise.all([byCgroup.ready, byMntns.ready]);
  const clients = [portIn, portOut].map((port) => startProc(t, [workload('tcpflows'), ['connect', '127.0.0.1', String(port), String(N), '10', '10']], 'client'));
  const [[, ...portsIn]] = await Promise.all(clients.map((c) => c.line));
  assert.deepEqual(await Promise.all([inside.done, control.done, ...clients.map((c) => c.done)]), [0, 0, 0, 0]);
  await stopAll(byCgroup, byMntns);

  const traced: Accepted = { server: { pid: pidIn, port: portIn }, client: { pid: 0, ports: portsIn }, addr: '127.0.0.1' };
  for (const run of [byCgroup, byMntns]) {
    // Every row is the traced server's: the control server's accepts, and the rest of the machine's, are filtered out.
    assert.deepEqual(sorted(jsonRows(run).map(({ time: _t, timestamp: _s, ...r }) => r)), sorted(expectedJson(traced, 4)), run.stderr);
  }
});

// --- the record contract and the fallback this kernel does not need ---

test('events.ts reads struct accept_event at the offsets libbcc lays the C struct out with', async (t) => {
  if (!needsBpf(t)) return;
  // With a perf buffer each CPU builds its record in bpfkit_event_scratch, whose value is the struct.
  const p = buildProgram(configureTcpaccept({}, { ...liveKernel(), ringBuffer: () => false }));
  const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
  try {
    assert.equal(bpf.table('bpfkit_event_scratch').info.leafSize, ACCEPT_EVENT_SIZE);
    const fields = structFields(bpf, 'bpfkit_event_scratch');
    assert.deepEqual(Object.fromEntries(fields.map((f) => [f.name, f.offset])), ACCEPT_EVENT_OFFSETS);
    const comm = fields.find((f) => f.name === 'comm')!.layout;
    assert.equal(comm.kind === 'chararray' ? comm.length : -1, COMM_LEN);
    assert.equal(ACCEPT_EVENT_SIZE - ACCEPT_EVENT_OFFSETS.flow >= FLOW_SIZE, true);
  } finally {
    bpf.close();
  }
});

test('the kretprobe fallback (kernels without syscall tracepoints) passes the verifier, with every filter, and with a pre-5.6 sk_protocol', async (t) => {
  if (!needsBpf(t)) return;
  const live = liveKernel();
  const noSyscallTp = { ...live, tracepoint: (c: string, e: string) => c !== 'syscalls' && live.tracepoint(c, e), kprobes: () => true, kernelFunction: () => true, ringBuffer: () => false };
  // Before 5.6 sk_type was the byte after sk_protocol's: the protocol is read as one byte.
  const bitfield = { ...noSyscallTp, offset: (s: string, f: string) => (s === 'sock' && f === 'sk_type' ? live.offset('sock', 'sk_protocol')! + 1 : live.offset(s, f)) };
  for (const [kernel, size] of [[noSyscallTp, 2], [bitfield, 1]] as const) {
    const program = configureTcpaccept({ pid: process.pid, family: 6, ports: [22, 80] }, kernel);
    assert.deepEqual([program.defines!.ACCEPT_KPROBE, program.defines!.ACCEPT_TRACEPOINTS, program.defines!.SK_PROTOCOL_SIZE], [true, false, size]);
    const p = buildProgram(program);
    const bpf = new BPF({ text: p.text, includeDirs: p.includeDirs, autoAttach: false });
    try {
      assert.deepEqual(bpf.functionNames(), ['accept_return']);
      assert.ok(bpf.loadFunc('accept_return', PROG_TYPE.KPROBE).fd >= 0);
    } finally {
      bpf.close();
    }
  }
});

test('the kretprobe rung by BPFKIT_AVOID=tracepoint: the same rows where kprobes exist, else one line saying why', async (t) => {
  if (!needsBpf(t)) return;
  const env = { BPFKIT_AVOID: 'tracepoint' };
  if (!kprobesAvailable()) {
    const refused = await runToolToEnd('tcpaccept', [], { env });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /^tcpaccept: no way to trace accepted connections on this kernel: .*excluded by BPFKIT_AVOID=tracepoint; kretprobe on inet_csk_accept: this kernel has no kprobes\n$/);
    return;
  }
  const json = startInTest(t, 'tcpaccept', ['--json'], { env });
  await json.ready;
  const a = await accepts(t, '127.0.0.1', 5);
  await stopAll(json);
  assert.deepEqual(sorted(mineJson(json, a)), sorted(expectedJson(a, 4)));
});

test('tcpaccept --explain picks the attach points this kernel offers', async (t) => {
  if (!needsBpf(t)) return;
  const { chosen, stderr } = await explainedRun(t, 'tcpaccept', []);
  const live = liveKernel();
  const walk = ([['task_struct', 'files'], ['files_struct', 'fdt'], ['fdtable', 'max_fds'], ['fdtable', 'fd'], ['file', 'private_data'], ['socket', 'sk']] as const)
    .every(([s, f]) => live.offset(s, f) !== undefined);
  const accept = tracepointExists('syscalls', 'sys_exit_accept');
  assert.deepEqual(chosen, {
    'accepted connections': firstUsable('accepts', [
      [`${accept ? 'tracepoints syscalls:sys_exit_accept4 and sys_exit_accept' : 'tracepoint syscalls:sys_exit_accept4'} (the socket of the returned fd, at BTF offsets)`,
        () => tracepointExists('syscalls', 'sys_exit_accept4') && walk],
      ['kretprobe on inet_csk_accept', () => kprobesAvailable() && kernelFunctionExists('inet_csk_accept')],
    ]),
    'struct sock field offsets': kernelBtfAvailable()
      ? "the running kernel's BTF" : "the kernel headers libbcc compiles with (right only when they are the running kernel's)",
    'event records': expectedEventRecords(),
  }, stderr);
});
