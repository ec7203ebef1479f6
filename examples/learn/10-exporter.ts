// Step 10, maps to Prometheus: step 2's program (02-maps.bpf.c) loaded again, and an HTTP
// endpoint that reads its map at every scrape and answers in Prometheus's text format, one counter
// per field with pid and comm labels. The step runs the sendrecv workload, scrapes itself once to
// show what Prometheus would get, then keeps serving until --seconds have passed.
// Run: sudo bpfkit learn 10 [--port N], and meanwhile: curl http://127.0.0.1:9436/metrics
import http from 'node:http';
import { BPF, type HashTable } from 'bcc-node-bindings';
import { courseFile, sleep, stepOptions, workload } from './lab.ts';
import { parseTotals, start, takePort, totalsLine, type Stats } from './lab-maps.ts';

const port = takePort('learn 10', 9436);
const { seconds } = stepOptions('learn 10',
  'usage: bpfkit learn 10 [--port N] [--seconds N]\n  --port N      serve /metrics on 127.0.0.1:N (default 9436)',
  { default: 10, help: 'how long to serve /metrics' });
const started = Date.now();

const bpf = new BPF({ srcFile: courseFile('02-maps.bpf.c') });
const stats = bpf.table<HashTable<number, Stats>>('stats');

// --- the exporter: 20 lines ---
const COUNTERS = [
  ['sendmsg', 'bpfkit_learn_sendmsg_calls_total', 'sendmsg() system calls, failed ones included.'],
  ['recvmsg', 'bpfkit_learn_recvmsg_calls_total', 'recvmsg() system calls, failed ones included.'],
  ['bytes_sent', 'bpfkit_learn_sent_bytes_total', 'Bytes sent by successful sendmsg() calls.'],
  ['bytes_recv', 'bpfkit_learn_received_bytes_total', 'Bytes received by successful recvmsg() calls.'],
] as const;
// A label value is quoted: a comm may hold any byte but NUL, quotes and backslashes included.
const quoted = (text: string): string => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

function exposition(): string {
  const entries = stats.entries();           // the map as it is now: the counters only grow
  return COUNTERS.map(([field, name, help]) => [`# HELP ${name} ${help}`, `# TYPE ${name} counter`,
    ...entries.map(([pid, s]) => `${name}{pid="${pid}",comm=${quoted(s.comm)}} ${s[field]}`)].join('\n')).join('\n') + '\n';
}

const server = http.createServer((req, res) => {
  if (req.method !== 'GET' || req.url !== '/metrics') { res.writeHead(404).end('see /metrics\n'); return; }
  res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(exposition());
});
server.on('error', (err) => { process.stderr.write(`learn 10: cannot serve on 127.0.0.1:${port}: ${err.message}\n`); process.exit(1); });
await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
console.log(`serving http://127.0.0.1:${port}/metrics for ${seconds} s`);
// --- end of the exporter ---

const job = start(workload('sendrecv'), ['6', '300']);
const { status, stdout } = await job.exited;
if (status !== 0) throw new Error(`the workload failed (status ${status})`);
const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();   // as Prometheus would
const lines = body.trimEnd().split('\n');
const mine = lines.filter((l) => l.startsWith('#') || l.includes(`{pid="${job.pid}",`));
console.log(`\nscraped once, after the workload (pid ${job.pid}) ended; its series, and the HELP and TYPE lines:`);
console.log(mine.join('\n'));
console.log(`(${lines.length - mine.length} series of other processes left out)`);
console.log(`\nthe workload did: ${totalsLine(parseTotals(stdout))}`);
await sleep(Math.max(0, seconds * 1000 - (Date.now() - started)));
server.close();
server.closeAllConnections();
bpf.close();
