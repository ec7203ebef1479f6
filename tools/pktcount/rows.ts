// pktcount's rows: the `counts` map of pktcount.bpf.c decoded, summed across CPUs, and printed
// as a table or as JSON.
import { sumValues } from 'bcc-node-bindings';

export type ProtoName = 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'other';

/** The key's `proto`: IP protocol numbers, 0 for everything else (see pktcount.bpf.c). */
export const PROTO_NUMBERS: Record<ProtoName, number> = { other: 0, icmp: 1, tcp: 6, udp: 17, icmpv6: 58 };
const PROTO_NAMES = new Map<number, ProtoName>(Object.entries(PROTO_NUMBERS).map(([name, n]) => [n, name as ProtoName]));

/** struct pkt_key and struct pkt_val as the binding decodes them (padding is a named field). */
export interface PktKey { proto: number; pad: number; port: number }
export interface PktVal { packets: bigint; bytes: bigint; dropped: bigint }

export interface Row {
  proto: ProtoName;
  port: number;
  packets: bigint;
  bytes: bigint;
  dropped: bigint;
}

export function protoName(n: number): ProtoName {
  return PROTO_NAMES.get(n) ?? 'other';
}

export function keyOf(proto: ProtoName, port: number): PktKey {
  return { proto: PROTO_NUMBERS[proto], pad: 0, port };
}

/** Rows from drained per-CPU entries, the busiest first (then by protocol and port, for stable output). */
export function rowsFrom(entries: Array<[PktKey, PktVal[]]>): Row[] {
  const rows = entries.map(([key, perCpu]) => {
    const v = sumValues(perCpu) as PktVal;
    return { proto: protoName(key.proto), port: key.port, packets: v.packets, bytes: v.bytes, dropped: v.dropped };
  });
  return rows.sort((a, b) => (a.packets === b.packets ? 0 : a.packets > b.packets ? -1 : 1) ||
    a.proto.localeCompare(b.proto) || a.port - b.port);
}

/** bcc-style columns, right-aligned numbers. */
export function rowsTable(rows: Row[]): string {
  const lines = [`${'PROTO'.padEnd(7)} ${'PORT'.padStart(5)} ${'PACKETS'.padStart(12)} ${'BYTES'.padStart(14)} ${'DROPPED'.padStart(12)}`];
  for (const r of rows) {
    lines.push(`${r.proto.padEnd(7)} ${String(r.port).padStart(5)} ${String(r.packets).padStart(12)} ${String(r.bytes).padStart(14)} ${String(r.dropped).padStart(12)}`);
  }
  return lines.join('\n');
}

/** One interval's JSON object: {"time":…,"rows":[{"proto":"udp","port":5001,"packets":N,"bytes":N,"dropped":N},…]}. */
export function intervalJson(time: string, rows: Row[]): { time: string; rows: Row[] } {
  return { time, rows: rows.map((r) => ({ proto: r.proto, port: r.port, packets: r.packets, bytes: r.bytes, dropped: r.dropped })) };
}
