// The course's steps 7 and 8 (examples/learn/) run as a reader runs them. Step 7's socket filter
// on lo counts exactly the workload's UDP datagrams to its port; step 8's XDP program drops
// exactly the N datagrams to the chosen port and passes the M others, the receiver gets M and 0,
// and no network namespace is left behind, whether the step ends by itself or by SIGTERM.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { namespacesNamed } from '../../examples/learn/lab-net.ts';
import { needsBpf } from '../helpers/kernel.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const children = new Set<ChildProcess>();
after(() => { for (const child of children) child.kill('SIGKILL'); });

function step(file: string, args: string[]) {
  // timeout: a safety net for a hung run, not an assertion.
  return spawnSync(process.execPath, ['--import', 'tsx', path.join('examples', 'learn', file), ...args],
    { cwd: root, encoding: 'utf8', timeout: 120_000 });
}

test('step 7: the socket filter counts exactly the workload\'s UDP datagrams to its port, and by protocol', async (t) => {
  if (!needsBpf(t)) return;
  const N = 700;
  const ran = step('07-sockets.ts', [String(N)]);
  assert.equal(ran.status, 0, ran.stderr);
  const out = ran.stdout;
  const port = /^workload: net-loop sent 700 UDP datagrams of 64 bytes to 127\.0\.0\.1:(\d+), one to closed port (\d+)/m.exec(out);
  assert.ok(port, out);
  assert.match(out, new RegExp(`^  UDP to port ${port[1]}: +counted ${N}, sent ${N}$`, 'm'));
  assert.match(out, new RegExp(`^  UDP to closed port ${port[2]}: +counted 1, sent 1 `, 'm'));
  // Other processes' loopback traffic can only add to the totals by protocol.
  const total = (name: string) => Number(new RegExp(`^  ${name} +(\\d+)$`, 'm').exec(out)?.[1]);
  assert.ok(total('UDP') >= N + 1, out);
  assert.ok(total('ICMP') >= 1, out);
  // A TCP connection is at least a three-way handshake, two data segments and a FIN each way.
  const tcp = /^  TCP \d+ <-> \d+: +counted (\d+) packets for one connection/m.exec(out);
  assert.ok(tcp && Number(tcp[1]) >= 7, out);
});

test('step 8: XDP drops exactly N, passes M, the receiver gets M and 0, and the namespaces are gone', async (t) => {
  if (!needsBpf(t)) return;
  const [N, M] = [150, 250];
  const ran = step('08-xdp.ts', [String(N), String(M)]);
  assert.equal(ran.status, 0, ran.stderr);
  const out = ran.stdout;
  assert.match(out, /^XDP program on veth0 in bpfkit-learn8-\d+-b: (native|generic) mode, attached by (bpf_link|netlink)$/m);
  assert.match(out, new RegExp(`^receiver in bpfkit-learn8-\\d+-b got: ${M} on port 7002, 0 on port 7001$`, 'm'));
  assert.match(out, new RegExp(`^  UDP to port 7001: ${N} seen, ${N} dropped$`, 'm'));
  assert.match(out, new RegExp(`^  UDP to port 7002: ${M} seen, 0 dropped$`, 'm'));
  // The namespaces carry nothing else over UDP: IPv6 is off in them, and nothing else sends.
  assert.match(out, new RegExp(`^  UDP +${N + M} +${N}$`, 'm'));
  assert.deepEqual(namespacesNamed(`bpfkit-learn8-${ran.pid}-`), []);
});

test('step 8: SIGTERM while it runs still deletes its namespaces', async (t) => {
  if (!needsBpf(t)) return;
  // 10000 datagrams each way take the sender a few hundred milliseconds (it pauses every 64), so
  // the signal, sent as soon as the program is attached, lands while the step is still running.
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/learn/08-xdp.ts', '10000', '10000'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const closed = once(child, 'close');
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (/^XDP program on veth0/m.test(out)) resolve();
    });
    void closed.then(() => reject(new Error(`08-xdp ended before it attached:\n${out}`)));
  });
  assert.equal(namespacesNamed(`bpfkit-learn8-${child.pid}-`).length, 2);
  child.kill('SIGTERM');
  const [status] = await closed;
  children.delete(child);
  // 143 unless the whole run beat the signal on a loaded machine: then it ended on its own, and
  // the namespaces must be gone all the same.
  assert.ok(status === 143 || (status === 0 && /^  UDP to port 7002: 10000 seen/m.test(out)), `status ${status}:\n${out}`);
  assert.deepEqual(namespacesNamed(`bpfkit-learn8-${child.pid}-`), []);
});

test('steps 7 and 8: bad numbers are one line on stderr and status 2, with no namespace made', () => {
  const seven = step('07-sockets.ts', ['0']);
  assert.equal(seven.status, 2);
  assert.equal(seven.stderr, 'learn 7: N must be a whole number from 1 to 100000\n');
  const eight = step('08-xdp.ts', ['10', 'x']);
  assert.equal(eight.status, 2);
  assert.equal(eight.stderr, 'learn 8: N and M must be whole numbers from 1 to 10000\n');
  assert.deepEqual(namespacesNamed(`bpfkit-learn8-${eight.pid}-`), []);
});
