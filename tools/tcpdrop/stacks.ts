// Kernel stacks of the drops: read from the `stacks` map by the id a record carries, symbolised
// through /proc/kallsyms (lib/kernel/ksyms.ts), and freed.
//
// bcc's tcpdrop never frees a stack, so once its 1024 buckets hold other stacks a new one may
// collide and be lost (-EEXIST). Freeing each stack once read keeps the map for the stacks in
// flight. Two drops with the same stack share one entry: the second may arrive after the first
// freed it, so the frames last read for each id are kept and used when the entry is gone.
import type { StackTraceTable } from 'bcc-node-bindings';

// Drops come in floods of the same few paths: each address is named once (a binary search and a
// string per frame otherwise, 24 frames a drop), up to this many addresses.
const MAX_NAMED = 65536;

export class StackReader {
  private readonly lastFrames = new Map<number, string[]>();
  private readonly named = new Map<bigint, string>();

  constructor(private readonly table: StackTraceTable, private readonly symbolise: (addr: bigint) => string) {}

  private name(addr: bigint): string {
    let text = this.named.get(addr);
    if (text === undefined) {
      if (this.named.size >= MAX_NAMED) this.named.clear();
      text = this.symbolise(addr);
      this.named.set(addr, text);
    }
    return text;
  }

  /** The frames of a stack, innermost first; empty when the kernel could not record it. */
  frames(stackId: number): string[] {
    if (stackId < 0) return [];
    const addrs = this.table.walk(stackId);
    if (addrs.length === 0) return this.lastFrames.get(stackId) ?? [];
    const frames = addrs.map((a) => this.name(a));
    this.lastFrames.set(stackId, frames);
    this.table.delete(stackId);
    return frames;
  }
}
