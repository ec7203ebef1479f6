// make test-vm's own logic, without a guest: reading node's TAP, attributing tests to tools,
// the results tables, the README's generated part, and the initramfs's module load order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseTap, toolOf } from '../vm/tap.ts';
import { BEGIN, END, renderTables, replaceBetweenMarkers, summarize, type KernelRun } from '../vm/report.ts';
import { loadOrder } from '../vm/initramfs.ts';

const TAP = `TAP version 13
# Subtest: -p counts exactly the N getppid() calls
ok 1 - -p counts exactly the N getppid() calls
  ---
  duration_ms: 1500.5
  ...
# Subtest: tcptop --explain picks the attach points this kernel offers
ok 2 - tcptop --explain picks the attach points this kernel offers
  ---
  duration_ms: 2500
  ...
# attach[tcptop] bytes sent and received: fexit tcp_sendmsg + tcp_recvmsg
# attach[tcptop] connection addresses: tracepoint sock:inet_sock_set_state (cached per socket), struct sock for older sockets
# Subtest: a name with \\# in it
not ok 3 - a name with \\# in it
  ---
  duration_ms: 10
  ...
# Subtest: skipped one
ok 4 - skipped one # SKIP needs root
  ---
  duration_ms: 1
  ...
1..4
# tests 4
`;

test('parseTap reads top-level outcomes, durations and attach reports (splitting at the first ": ")', () => {
  const tap = parseTap(TAP);
  assert.deepEqual(tap.tests, [
    { name: '-p counts exactly the N getppid() calls', outcome: 'pass', ms: 1500.5 },
    { name: 'tcptop --explain picks the attach points this kernel offers', outcome: 'pass', ms: 2500 },
    { name: 'a name with # in it', outcome: 'fail', ms: 10 },
    { name: 'skipped one', outcome: 'skip', ms: 1 },
  ]);
  assert.deepEqual(tap.attach, [
    { tool: 'tcptop', purpose: 'bytes sent and received', chosen: 'fexit tcp_sendmsg + tcp_recvmsg' },
    { tool: 'tcptop', purpose: 'connection addresses', chosen: 'tracepoint sock:inet_sock_set_state (cached per socket), struct sock for older sockets' },
  ]);
});

test('toolOf: a tool\'s own file, else the tool the test\'s name starts with', () => {
  const tools = ['syscount', 'tcptop', 'opensnoop'];
  assert.equal(toolOf('tcptop.test.ts', 'anything', tools), 'tcptop');
  assert.equal(toolOf('conventions.test.ts', 'opensnoop: --explain names programs', tools), 'opensnoop');
  assert.equal(toolOf('conventions.test.ts', 'syscount --no-such-option: one line', tools), 'syscount');
  assert.equal(toolOf('conventions.test.ts', 'a tool run by a user without root', tools), null);
});

function run(kernel: string, how: KernelRun['how'], chosen: string, failed = 0): KernelRun {
  const tap = parseTap(TAP.replace('fexit tcp_sendmsg + tcp_recvmsg', chosen).replace('not ok 3', failed ? 'not ok 3' : 'ok 3'));
  return {
    kernel, title: kernel === 'host' ? 'this machine' : 'Debian 12 (bookworm)', release: kernel === 'host' ? '6.18.1' : '6.1.0-57-amd64',
    packages: [], date: '2026-12-06', how, cpus: 2, bootSeconds: how === 'host' ? null : 11, wallSeconds: 125, files: [],
    ...summarize([{ file: 'tcptop.test.ts', tap }], ['syscount', 'tcptop']),
  };
}

test('the tables: outcome per tool and kernel, and attach points with the differing ones in bold', () => {
  const text = renderTables([run('host', 'host', 'tracepoints sock:sock_send_length + sock:sock_recv_length'), run('debian12', 'qemu-tcg', 'fexit tcp_sendmsg + tcp_recvmsg', 1)], ['syscount', 'tcptop']);
  const lines = text.split('\n');
  assert.ok(lines.includes('| tool | this machine (6.18.1) | Debian 12 (bookworm) (6.1.0-57-amd64) |'), text);
  assert.ok(lines.includes('| syscount | not run | not run |'), text);
  assert.ok(lines.includes('| tcptop | pass 3, 1 skipped, 4 s | **FAIL** 1 of 4, 4 s |'), text);
  assert.ok(lines.includes('| *whole run* | all passed, 2 min 05 s | **1 failed**, 2 min 05 s (boot 11 s) |'), text);
  assert.ok(lines.includes('| tcptop | bytes sent and received | **tracepoints sock:sock_send_length + sock:sock_recv_length** | **fexit tcp_sendmsg + tcp_recvmsg** |'), text);
  assert.ok(lines.includes('| tcptop | connection addresses | tracepoint sock:inet_sock_set_state (cached per socket), struct sock for older sockets | tracepoint sock:inet_sock_set_state (cached per socket), struct sock for older sockets |'), text);
});

test('the README keeps its own text around the generated part, and gains the markers once', () => {
  const first = replaceBetweenMarkers('# Title\n\nProse.\n', 'TABLE 1\n');
  assert.equal(first, `# Title\n\nProse.\n\n${BEGIN}\nTABLE 1\n${END}\n`);
  const second = replaceBetweenMarkers(`${first}After.\n`, 'TABLE 2\n');
  assert.equal(second, `# Title\n\nProse.\n\n${BEGIN}\nTABLE 2\n${END}\nAfter.\n`);
});

test('loadOrder puts each module\'s dependencies first, once, and passes over built-in ones', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpfkit-modules-'));
  try {
    fs.writeFileSync(path.join(dir, 'modules.dep'), [
      'kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/netfs/netfs.ko',
      'kernel/net/9p/9pnet.ko:',
      'kernel/fs/netfs/netfs.ko:',
      'kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio_ring.ko',
      'kernel/drivers/virtio/virtio_ring.ko:',
      'kernel/fs/overlayfs/overlay.ko.xz:',
      '',
    ].join('\n'));
    fs.writeFileSync(path.join(dir, 'modules.builtin'), 'kernel/drivers/virtio/virtio_pci.ko\n');
    assert.deepEqual(loadOrder(dir, ['virtio_pci', '9pnet_virtio', '9p', 'overlay']), [
      'kernel/drivers/virtio/virtio_ring.ko', 'kernel/net/9p/9pnet.ko', 'kernel/net/9p/9pnet_virtio.ko',
      'kernel/fs/netfs/netfs.ko', 'kernel/fs/9p/9p.ko', 'kernel/fs/overlayfs/overlay.ko.xz',
    ]);
    assert.throws(() => loadOrder(dir, ['no_such_module']), /the kernel has no module no_such_module/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
