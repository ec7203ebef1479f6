// Step 7: a socket filter on a raw socket. The program runs for every packet the loopback
// interface carries and counts them by protocol and destination port; a workload sends known
// traffic on lo (N UDP datagrams, one to a closed port, one TCP connection) and the counts are
// printed beside what it sent. Socket filters need no kprobes: they are the oldest BPF use.
// Run: sudo bpfkit learn 7 [N]
import { BPF, type HashTable } from 'bcc-node-bindings';
import { courseFile, run, sleep, stepOptions, usageError, workload } from './lab.ts';
import { byProtocol, parseLoopReport } from './lab-net.ts';

const { rest } = stepOptions('learn 7', 'usage: bpfkit learn 7 [N datagrams, default 1000]', null);
const N = Number(rest[0] ?? 1000);
if (rest.length > 1 || !Number.isInteger(N) || N < 1 || N > 100_000) usageError('learn 7', 'N must be a whole number from 1 to 100000');

const bpf = new BPF({ srcFile: courseFile('07-sockets.bpf.c'), autoAttach: false });
bpf.attachRawSocket('count_packets', 'lo');   // a new AF_PACKET socket on lo, the program as its filter
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { bpf.close(); process.exit(sig === 'SIGINT' ? 130 : 143); });

const done = await run(workload('net-loop'), [String(N), '64']);
if (done.status !== 0) throw new Error(`net-loop failed (status ${done.status})`);
await sleep(100);   // the last TCP acknowledgements, sent from softirq after the workload's close()
const sent = parseLoopReport(done.stdout);
type Key = { proto: number; ipv6: number; port: number };
const counts = bpf.table<HashTable<Key, bigint>>('counts').entries();
bpf.close();

console.log(`workload: net-loop sent ${N} UDP datagrams of 64 bytes to 127.0.0.1:${sent.udpPort}, one to closed port ` +
  `${sent.closedPort}, and made one TCP connection (${sent.clientPort} -> ${sent.tcpPort}, 4 bytes each way)\n`);
console.log('every packet received on lo while it ran (all processes; the outgoing copies skipped):');
for (const [name, n] of byProtocol(counts)) console.log(`  ${name.padEnd(8)} ${String(n).padStart(7)}`);

const at = (proto: number, port: number) => counts.filter(([k]) => k.proto === proto && k.port === port)
  .reduce((sum, [, n]) => sum + n, 0n);
console.log('\nthe workload\'s own packets, by port:');
console.log(`  UDP to port ${sent.udpPort}:`.padEnd(34) + `counted ${at(17, sent.udpPort)}, sent ${N}`);
console.log(`  UDP to closed port ${sent.closedPort}:`.padEnd(34) + `counted ${at(17, sent.closedPort)}, sent 1 (the kernel's answer is the ICMP above)`);
const tcp = at(6, sent.tcpPort) + at(6, sent.clientPort);
console.log(`  TCP ${sent.clientPort} <-> ${sent.tcpPort}:`.padEnd(34) + `counted ${tcp} packets for one connection (handshake, data, acks, close)`);
