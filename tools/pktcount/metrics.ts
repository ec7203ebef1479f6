// pktcount's metrics: packets, bytes and drops per protocol and destination port on the
// interface, read from the `counts` map of pktcount.bpf.c at scrape time.
//
//   bpfkit_packets_total{interface,proto,port}
//   bpfkit_packet_bytes_total{interface,proto,port}        whole frames, Ethernet header included
//   bpfkit_packets_dropped_total{interface,proto,port}     by --drop rules (XDP_DROP)
//
// One series-limit unit is one (proto, port) pair. With --metrics alone the map is never
// drained, so it holds totals; with --metrics-and-print the interval output drains it and hands
// what it drained to absorb(). Packets the full map could not count are
// bpfkit_lost_events_total{tool="pktcount"}.
import type { BPF, PerCpuTable } from 'bcc-node-bindings';
import { DrainedTotals, SeriesBook, counterFamily, type Collector } from '../../lib/metrics/agent.ts';
import type { MetricFamily } from '../../lib/metrics/exposition.ts';
import { rowsFrom, type PktKey, type PktVal, type Row } from './rows.ts';

export interface PktcountMetrics extends Collector {
  /** The interval output drained these rows: keep them in the totals. */
  absorb(rows: Row[]): void;
}

const add = (a: Row, b: Row): Row => ({ ...a, packets: a.packets + b.packets, bytes: a.bytes + b.bytes, dropped: a.dropped + b.dropped });

export function pktcountCollector(bpf: BPF, ifname: string, seriesLimit: number): PktcountMetrics {
  const counts = bpf.table<PerCpuTable<PktKey, PktVal>>('counts');
  const missed = bpf.table<PerCpuTable<number, bigint>>('missed');
  const book = new SeriesBook(seriesLimit);
  const drained = new DrainedTotals<Row>(add);
  const id = (r: Row) => `${r.proto}|${r.port}`;
  return {
    tool: 'pktcount',
    absorb(rows) {
      for (const r of rows) drained.absorb(id(r), r);
    },
    collect(): MetricFamily[] {
      const all = new DrainedTotals<Row>(add);
      for (const [key, r] of drained.entries()) all.absorb(key, r);
      for (const r of rowsFrom(counts.entries())) all.absorb(id(r), r);
      const packets = counterFamily('bpfkit_packets_total', 'Packets received on the interface, by protocol and destination port (XDP)', []);
      const bytes = counterFamily('bpfkit_packet_bytes_total', 'Bytes of those packets, whole frames', []);
      const dropped = counterFamily('bpfkit_packets_dropped_total', 'Packets dropped by a --drop rule (XDP_DROP)', []);
      for (const [key, r] of all.entries()) {
        if (!book.admit(key)) continue;
        const labels = { interface: ifname, proto: r.proto, port: String(r.port) };
        packets.samples.push({ labels, value: book.monotonic(`p|${key}`, r.packets) });
        bytes.samples.push({ labels, value: book.monotonic(`b|${key}`, r.bytes) });
        dropped.samples.push({ labels, value: book.monotonic(`d|${key}`, r.dropped) });
      }
      return [packets, bytes, dropped];
    },
    lost: () => missed.sum(0) ?? 0n,
    dropped: () => book.dropped,
  };
}
