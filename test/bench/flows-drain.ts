// tcptop's interval work at 10,000 flows, through the binding: a hash map with tcptop's own key
// and value structs (copied from tools/tcptop/tcptop.bpf.c at run time, so they cannot drift), filled with
// N flows from user space, then drained (lookup-and-delete batch), turned into rows, sorted and
// formatted as tcptop does each interval (tools/tcptop/flows.ts). tcptop prints no timing of its own,
// so this is its interval read time, measured the way it reads.
//   node --import tsx test/bench/flows-drain.ts [N] [REPS]      prints one JSON line
import fs from 'node:fs';
import path from 'node:path';
import { BPF, batchOpsSupported, type HashTable } from 'bcc-node-bindings';
import { flowRows, flowTables, sortRows, type FlowKey, type FlowValue } from '../../tools/tcptop/flows.ts';

const n = Number(process.argv[2] ?? 10_000);
const reps = Number(process.argv[3] ?? 5);
const source = fs.readFileSync(path.resolve(import.meta.dirname, '../../tools/tcptop/tcptop.bpf.c'), 'utf8');
const structs = ['addrs_t', 'flow_key_t', 'flow_val_t'].map((name) => {
  const m = new RegExp(`struct ${name} \\{[\\s\\S]*?\\n\\};`).exec(source);
  if (!m) throw new Error(`struct ${name} not found in tools/tcptop/tcptop.bpf.c`);
  return m[0];
});
const bpf = new BPF({
  text: `${structs.join('\n')}
BPF_F_TABLE("hash", struct flow_key_t, struct flow_val_t, flows, ${2 * n}, BPF_F_NO_PREALLOC);`,
});

const flows = bpf.table<HashTable<FlowKey & { addrs: { pad?: number } }, FlowValue>>('flows');
const ip = (a: number, b: number, c: number, d: number) => [a, b, c, d, ...new Array(12).fill(0)];
function fill(): void {
  for (let i = 0; i < n; i++) {
    flows.set(
      { pid: 1000 + (i % 64), addrs: { family: 2, lport: 1024 + (i % 60000), dport: 443, pad: 0, saddr: ip(10, 0, i >> 8 & 255, i & 255), daddr: ip(127, 0, 0, 1) } },
      { rx_bytes: BigInt(i * 7), tx_bytes: BigInt(i * 3), comm: 'bench' },
    );
  }
}

const drainMs: number[] = [];
const intervalMs: number[] = [];
let rowsSeen = 0;
for (let r = 0; r < reps; r++) {
  fill();
  let t0 = performance.now();
  const entries = flows.drain();
  drainMs.push(performance.now() - t0);
  // The rest of an interval: rows, sort, table text (timed from a second fill).
  fill();
  t0 = performance.now();
  const rows = sortRows(flowRows(flows.drain()), 'total');
  const text = flowTables(rows, 4).join('\n');
  intervalMs.push(performance.now() - t0);
  if (!text) throw new Error('no table');
  rowsSeen = Math.min(entries.length, rows.length);
}
bpf.close();
process.stdout.write(`${JSON.stringify({ flows: n, rows: rowsSeen, batch: batchOpsSupported(), drainMs, intervalMs })}\n`);
