// Step 2, the classic picture live: a program in the kernel (02-maps.bpf.c, on the sendmsg and
// recvmsg syscall tracepoints) counts calls and bytes per process in a hash map; this program,
// in user space, reads the map every second and prints it. The known workload (sendrecv.c) makes
// 21 sendmsg and 27 recvmsg calls moving 9100 bytes each way over 2.5 s; the last lines put its
// own count beside the map's. Run: sudo bpfkit learn 2
import { BPF, type HashTable } from 'bcc-node-bindings';
import { courseFile, sleep, stepOptions, workload } from './lab.ts';
import { parseTotals, start, statsTable, totalsLine, type Stats, type Totals } from './lab-maps.ts';

const { seconds } = stepOptions('learn 2', 'usage: bpfkit learn 2 [--seconds N]', { default: 4, help: 'how long to read the map, once a second' });

// Compile the C, load it (the verifier checks it) and attach it to its four tracepoints. From
// here on it runs in the kernel on every sendmsg/recvmsg of every process, with nobody waiting.
const bpf = new BPF({ srcFile: courseFile('02-maps.bpf.c') });
const stats = bpf.table<HashTable<number, Stats>>('stats');   // the map, seen from user space

// 6 rounds, 500 ms apart: round r sends and receives r messages of 100*r bytes.
const job = start(workload('sendrecv'), ['6', '500']);
let finished = false;
void job.exited.then(() => { finished = true; });

for (let t = 1; t <= seconds || !finished; t++) {
  await sleep(1000);
  const entries = stats.entries();          // one read of the whole map (a batch lookup)
  console.log(`\nafter ${t} s: ${entries.length} process${entries.length === 1 ? '' : 'es'} in the map; the busiest, and the workload:`);
  console.log(statsTable(entries, job.pid));
}

const { status, stdout } = await job.exited;
if (status !== 0) throw new Error(`the workload failed (status ${status})`);
const seen = stats.get(job.pid);            // one lookup by key, as the program does
const none: Totals = { sendmsg: 0n, recvmsg: 0n, bytes_sent: 0n, bytes_recv: 0n };
console.log(`\nthe workload (pid ${job.pid}) did: ${totalsLine(parseTotals(stdout))}`);
console.log(`the map holds for it:        ${totalsLine(seen ?? none)}`);
bpf.close();                                // detach, unload, free the map
