// The binding's per-event cost, Node side (event_cost.py is the same with bcc's Python module).
// Loads event-cost.bpf.c, follows PID's getppid() calls, counts the events it receives.
//   node --import tsx test/bench/event-cost.ts ring|perf PID N
// Prints "ready" once the program is attached and the buffer open, then, once N events are
// received or dropped (or "end" arrives on stdin), one JSON line {"received","drops"}; exits when
// stdin closes. The bench reads this process's CPU time between the two lines.
import fs from 'node:fs';
import path from 'node:path';
import { BPF, type ArrayTable, type PerfEventArray, type RingBufTable } from 'bcc-node-bindings';

const [kind, pidText, countText] = process.argv.slice(2);
const target = Number(pidText);
const expected = Number(countText);
if (!['ring', 'perf'].includes(kind) || !Number.isInteger(target) || !Number.isInteger(expected)) {
  process.stderr.write('usage: event-cost.ts ring|perf PID N\n');
  process.exit(2);
}
const GETPPID_NR = process.arch === 'arm64' ? 173 : 110;
const bpf = new BPF({
  text: fs.readFileSync(path.join(import.meta.dirname, 'event-cost.bpf.c'), 'utf8'),
  cflags: [`-DUSE_RINGBUF=${kind === 'ring' ? 1 : 0}`, `-DGETPPID_NR=${GETPPID_NR}`],
});
bpf.table<ArrayTable<number>>('target').set(0, target);
const drops = bpf.table<ArrayTable<bigint>>('drops');

type Event = { ts: bigint; pid: number; seq: number };
let received = 0;
const onEvent = (e: Event) => { if (e.pid === target) received++; };
if (kind === 'ring') bpf.table<RingBufTable<Event>>('events').open(onEvent);
else bpf.table<PerfEventArray<Event>>('events').open(onEvent, { pageCount: 2048, onLost: () => {} });

let reported = false;
const report = () => {
  if (reported) return;
  reported = true;
  clearInterval(timer);
  process.stdout.write(`${JSON.stringify({ received, drops: Number(drops.get(0) ?? 0n) })}\n`);
};
const timer = setInterval(() => { if (received + Number(drops.get(0) ?? 0n) >= expected) report(); }, 20);
process.stdin.setEncoding('utf8').on('data', (d: string) => { if (d.includes('end')) report(); });
process.stdin.on('end', () => { report(); bpf.close(); process.exit(0); });
process.stdout.write('ready\n');
