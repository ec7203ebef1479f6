// The binding's XDP attach against the real kernel, on a veth pair in namespaces the test makes:
// what it chose and why, detach on close() and on SIGTERM, and what SIGKILL leaves behind — nothing
// for a bpf_link, the program for a netlink attachment (the reason links come first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { XdpAttachment } from 'bcc-node-bindings';
import { needsBpf } from '../helpers/kernel.ts';
import { makeNetnsPair, type NetnsPair } from '../helpers/netns.ts';
import { REPO } from '../helpers/tool.ts';

const HOLD = path.join(REPO, 'test/fixtures/xdp/hold.ts');

function netns(t: TestContext, tag: string): NetnsPair {
  const pair = makeNetnsPair(`${tag}${process.pid}`);
  t.after(() => pair.close());
  return pair;
}

/** `ip -d link show` of veth0 in the namespace: "xdp" (native), "xdpgeneric", or none. */
function xdpOn(ns: string): 'native' | 'generic' | null {
  const text = execFileSync('ip', ['-n', ns, 'link', 'show', 'veth0'], { encoding: 'utf8' });
  if (/ xdpgeneric /.test(text)) return 'generic';
  return / xdp /.test(text) ? 'native' : null;
}

interface Holder { child: ChildProcess; attachment: XdpAttachment; output(): string }

async function hold(t: TestContext, pair: NetnsPair, mode: string, mechanism: string): Promise<Holder> {
  const [cmd, args] = pair.exec(pair.b, process.execPath, ['--import', 'tsx', HOLD, 'veth0', mode, mechanism]);
  const child = spawn(cmd, args, { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    child.once('exit', (code) => reject(new Error(`hold.ts exited (${code}):\n${err}`)));
  });
  return { child, attachment: JSON.parse(line) as XdpAttachment, output: () => out };
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
}

test('attachXdp on a veth: native mode through a bpf_link, and close() takes it off', async (t) => {
  if (!needsBpf(t)) return;
  const pair = netns(t, 'xdpa');
  const h = await hold(t, pair, 'auto', 'auto');
  // veth has native XDP (ndo_bpf) and this kernel has XDP links (5.9+): the first rungs of both ladders.
  assert.equal(h.attachment.mode, 'native');
  assert.equal(h.attachment.mechanism, 'link');
  assert.deepEqual(h.attachment.attempts, [{ mechanism: 'link', mode: 'native', error: null }]);
  assert.equal(h.attachment.ifname, 'veth0');
  assert.equal(xdpOn(pair.b), 'native');
  // The link is the holder's: its fdinfo names it.
  const fdinfo = execFileSync('sh', ['-c', `cat /proc/${h.child.pid}/fdinfo/*`], { encoding: 'utf8' });
  assert.match(fdinfo, /link_type:\txdp/);
  h.child.stdin!.write('close\n');
  await exited(h.child);
  assert.match(h.output(), /closed\n/);
  assert.equal(xdpOn(pair.b), null);
});

test('attachXdp mode generic and mechanism netlink: as asked, and close() takes it off', async (t) => {
  if (!needsBpf(t)) return;
  const pair = netns(t, 'xdpb');
  const h = await hold(t, pair, 'generic', 'netlink');
  assert.equal(h.attachment.mode, 'generic');
  assert.equal(h.attachment.mechanism, 'netlink');
  assert.equal(xdpOn(pair.b), 'generic');
  h.child.stdin!.write('close\n');
  await exited(h.child);
  assert.equal(xdpOn(pair.b), null);
});

test('attachXdp refuses an interface that already has an XDP program, and leaves that one in place', async (t) => {
  if (!needsBpf(t)) return;
  const pair = netns(t, 'xdpc');
  const first = await hold(t, pair, 'auto', 'auto');
  await assert.rejects(hold(t, pair, 'auto', 'auto'), /veth0 already has an XDP program/);
  assert.equal(xdpOn(pair.b), 'native');
  first.child.kill('SIGKILL');
  await exited(first.child);
});

test('kill -9 of a process that attached by bpf_link leaves no XDP program on the interface', async (t) => {
  if (!needsBpf(t)) return;
  const pair = netns(t, 'xdpd');
  const h = await hold(t, pair, 'auto', 'link');
  assert.equal(xdpOn(pair.b), 'native');
  h.child.kill('SIGKILL');
  await exited(h.child);
  // The kernel closed the process's files before reporting its death: the link is gone already.
  assert.equal(xdpOn(pair.b), null);
});

test('a netlink attachment: SIGTERM detaches it (exit hook); kill -9 cannot, the program stays', async (t) => {
  if (!needsBpf(t)) return;
  const pair = netns(t, 'xdpe');
  const term = await hold(t, pair, 'auto', 'netlink');
  assert.equal(term.attachment.mechanism, 'netlink');
  assert.equal(xdpOn(pair.b), 'native');
  term.child.kill('SIGTERM');
  await exited(term.child);
  assert.equal(xdpOn(pair.b), null);

  const killed = await hold(t, pair, 'auto', 'netlink');
  killed.child.kill('SIGKILL');
  await exited(killed.child);
  assert.equal(xdpOn(pair.b), 'native');
  execFileSync('ip', ['-n', pair.b, 'link', 'set', 'dev', 'veth0', 'xdp', 'off']);
  assert.equal(xdpOn(pair.b), null);
});
