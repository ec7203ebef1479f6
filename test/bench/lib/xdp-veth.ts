// pktcount through a veth pair: the packet path XDP is for. Two namespaces joined by a veth pair
// (test/helpers/netns.ts: addresses exist only inside them, and go with them); a UDP flood from
// one to the other (workloads/udpflood.c `to`), untraced and with pktcount on the receiving veth
// in native mode and in generic mode (-S), the three interleaved so that the machine's drift
// falls on all of them alike. Sending into a veth runs the peer's receive path, and so the XDP
// program, in the sender's softirq: the sender's ns per datagram includes it.
import { makeNetnsPair } from '../../helpers/netns.ts';
import { Proc, programIds } from './proc.ts';
import { summarize, type Summary } from './stats.ts';
import { medMin, fixed, type Table } from './table.ts';
import { Work } from './workloads.ts';
import type { Bench } from './phases.ts';
import type { ToolBench } from './tracers.ts';

/** Datagrams per run: ~1 s of flooding at this machine's rate. */
const DATAGRAMS = 300_000;
/** A port nothing listens on in the receiving namespace: each datagram ends at the UDP lookup. */
const PORT = 9;

export interface XdpRow {
  /** "none", "native XDP", "generic XDP". */
  config: string;
  nsPerPacket: Summary | null;
  /** What pktcount counted for the flood's port in its last run (the check that it saw them). */
  counted?: number;
  error?: string;
}

const CONFIGS = [
  { config: 'none', args: null },
  { config: 'native XDP', args: [] as string[] },
  { config: 'generic XDP', args: ['-S'] },
];

export async function xdpVeth(bench: Bench, tool: ToolBench): Promise<XdpRow[]> {
  const tracer = tool.tracers.find((t) => t.kind === 'bpfkit')!;
  const pair = makeNetnsPair(`bkx${process.pid}`);
  const samples = new Map<string, number[]>(CONFIGS.map((c) => [c.config, []]));
  const counted = new Map<string, number>();
  const errors = new Map<string, string>();
  try {
    for (let rep = 0; rep < bench.opts.reps; rep++) {
      for (const { config, args } of CONFIGS) {
        if (errors.has(config)) continue;
        let proc: Proc | null = null;
        if (args) {
          const cmd = tracer.command(bench.setup, { mode: 'default', path: bench.setup.installDir ? 'installed' : 'tsx', cacheDir: bench.warmCache });
          // --json: one object per interval, whose rows say what was counted.
          proc = new Proc(`pktcount:${config}`, { ...cmd, file: 'ip', args: ['netns', 'exec', pair.b, cmd.file, ...args, '--json', 'veth0'] });
          const ready = await proc.ready(tracer.ready);
          if (ready instanceof Error) { errors.set(config, ready.message); continue; }
          for (const id of programIds(proc.pid)) bench.programs.set(id, `pktcount:${config}`);
        }
        try {
          const [file, argv] = pair.exec(pair.a, bench.setup.bin.udpflood, ['to', pair.addrB4, String(PORT), String(DATAGRAMS)]);
          const result = await new Work(`udpflood:${config}`, file, argv).run();
          samples.get(config)!.push(result.nsPerOp);
        } catch (err) {
          errors.set(config, (err as Error).message);
        } finally {
          if (proc) {
            await proc.stop();
            counted.set(config, countedFor(proc.stdout));
          }
        }
      }
    }
  } finally {
    pair.close();
  }
  return CONFIGS.map(({ config, args }) => ({
    config,
    nsPerPacket: summarize(samples.get(config)!),
    ...(args ? { counted: counted.get(config) } : {}),
    ...(errors.has(config) ? { error: errors.get(config) } : {}),
  }));
}

/** The datagrams to the flood's port pktcount reported over its intervals. */
function countedFor(stdout: string): number {
  let total = 0;
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const interval = JSON.parse(line) as { rows?: Array<{ proto: string; port: number; packets: number }> };
      for (const row of interval.rows ?? []) if (row.proto === 'udp' && row.port === PORT) total += row.packets;
    } catch { /* a partial line at exit */ }
  }
  return total;
}

export function xdpVethTable(rows: XdpRow[]): Table {
  const base = rows.find((r) => r.config === 'none')?.nsPerPacket;
  return {
    title: `pktcount: UDP through a veth pair between two namespaces (${DATAGRAMS.toLocaleString('en-US')} 64-byte datagrams a run)`,
    columns: ['XDP program on the receiving veth', 'ns per datagram (median, min)', 'datagrams/s', 'added ns per datagram', 'counted by pktcount (last run)'],
    right: [1, 2, 3, 4],
    rows: rows.map((r) => [
      r.error ? `${r.config}: ${r.error}` : r.config,
      medMin(r.nsPerPacket, 0),
      r.nsPerPacket ? Math.round(1e9 / r.nsPerPacket.median).toLocaleString('en-US') : null,
      r.config === 'none' || !base || !r.nsPerPacket ? null : fixed(r.nsPerPacket.median - base.median, 0),
      r.counted === undefined ? null : r.counted.toLocaleString('en-US'),
    ]),
    notes: ['Sending into a veth runs the peer\'s receive path (and its XDP program) in the sender\'s softirq, so the sender\'s time per datagram includes the program.'],
  };
}
