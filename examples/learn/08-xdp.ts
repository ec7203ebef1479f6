// Step 8: XDP, the packet as the event. Two network namespaces joined by a veth pair; an XDP
// program on the receiving end counts packets by protocol and drops UDP to one port. A sender
// sends N datagrams to the dropped port and M to another; the receiver reports what arrived.
// The namespaces are deleted at the end, on Ctrl-C too. Run: sudo bpfkit learn 8 [N] [M]
import { BPF, type ArrayTable, type HashTable } from 'bcc-node-bindings';
import { courseFile, run, stepOptions, usageError, workload } from './lab.ts';
import { byProtocol, insideNetns, makeNetnsPair, parseReceived, startUntil, type Started } from './lab-net.ts';

const usage = 'usage: bpfkit learn 8 [--seconds S] [N to the dropped port, default 200] [M to the other, default 300]';
const { seconds, rest } = stepOptions('learn 8', usage, { default: 15, help: 'the longest the receiver waits for its datagrams' });
const [N, M] = [rest[0] ?? '200', rest[1] ?? '300'].map(Number);
if (rest.length > 2 || ![N, M].every((n) => Number.isInteger(n) && n >= 1 && n <= 10_000)) usageError('learn 8', 'N and M must be whole numbers from 1 to 10000');
const DROP = 7001;
const PASS = 7002;
const bin = workload('net-udp');

const bpf = new BPF({ srcFile: courseFile('08-xdp.bpf.c'), autoAttach: false });
bpf.table<ArrayTable<number>>('drop_port').set(0, DROP);   // configuration, from user space
const pair = makeNetnsPair(`bpfkit-learn8-${process.pid}`);
let receiver: Started | undefined;
const cleanUp = () => { receiver?.kill(); bpf.close(); pair.close(); };
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { cleanUp(); process.exit(sig === 'SIGINT' ? 130 : 143); });
try {
  // Interface names belong to a namespace: attach from inside the receiver's.
  const xdp = insideNetns(pair.b, () => bpf.attachXdp('count_and_drop', pair.ifname));
  console.log(`namespaces ${pair.a} (${pair.addrA}) and ${pair.b} (${pair.addrB}), joined by veth0`);
  console.log(`XDP program on veth0 in ${pair.b}: ${xdp.mode} mode, attached by ${xdp.mechanism === 'link' ? 'bpf_link' : 'netlink'}`);

  receiver = startUntil(...pair.exec(pair.b, bin, ['recv', String(DROP), String(PASS), String(M)]), /^ready$/m, seconds);
  await receiver.ready;
  for (const [port, n] of [[DROP, N], [PASS, M]]) {
    const sent = await run(...pair.exec(pair.a, bin, ['send', pair.addrB, String(port), String(n)]));
    if (sent.status !== 0) throw new Error(`net-udp send failed (status ${sent.status})`);
  }
  const got = parseReceived((await receiver.finished).stdout);
  console.log(`workload: sent ${N} UDP datagrams to ${pair.addrB}:${DROP} (the dropped port), then ${M} to ${pair.addrB}:${PASS}`);
  console.log(`receiver in ${pair.b} got: ${got.get(PASS)} on port ${PASS}, ${got.get(DROP)} on port ${DROP}\n`);

  type Key = { proto: number; dropped: number; port: number };
  const counts = bpf.table<HashTable<Key, bigint>>('counts').entries();
  const dropped = counts.filter(([k]) => k.dropped === 1);
  console.log('the XDP program\'s counters (every packet arriving on veth0):\n  protocol   packets  dropped');
  const droppedBy = new Map(byProtocol(dropped));
  for (const [name, n] of byProtocol(counts)) console.log(`  ${name.padEnd(8)} ${String(n).padStart(9)} ${String(droppedBy.get(name)).padStart(8)}`);
  for (const port of [DROP, PASS]) {
    const at = counts.filter(([k]) => k.proto === 17 && k.port === port);
    const sum = (rows: typeof at) => rows.reduce((s, [, n]) => s + n, 0n);
    console.log(`  UDP to port ${port}: ${sum(at)} seen, ${sum(at.filter(([k]) => k.dropped === 1))} dropped`);
  }
} finally {
  cleanUp();
}
