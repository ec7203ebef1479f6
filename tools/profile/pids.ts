// Processes sampled during the run, each made known to the symboliser while it still exists.
//
// The stacks are named at the end, from each process's /proc/PID/maps and the files it maps; a
// process that exited meanwhile (a build's compilers, a test's workers) would leave only
// [unknown] frames. Reading the counts map's keys once a second finds the new processes while
// they run: a batch read of at most a few thousand 32-byte keys, and remember() is paid once
// per process, not per sample. A process that lives less than a second may still be missed.
import type { HashTable } from 'bcc-node-bindings';
import type { CountKey } from './output.ts';

export class NewPids {
  private readonly known = new Set<number>();

  constructor(private readonly counts: HashTable<CountKey, bigint>, private readonly onNew: (pid: number) => void) {}

  /** Calls onNew for each process in the counts not seen before; returns how many there were. */
  poll(): number {
    // Raw, in the kernel's batches (values too: a keys-only read walks the map key by key); the
    // pid is the first u32 of struct key_t, so no key is decoded.
    const { keys, count } = this.counts.readAll();
    const keySize = count ? keys.length / count : 0;
    let fresh = 0;
    for (let i = 0; i < count; i++) {
      const pid = keys.readUInt32LE(i * keySize);
      if (pid === 0 || this.known.has(pid)) continue;
      this.known.add(pid);
      fresh++;
      try { this.onNew(pid); } catch { /* it exited already: its frames stay unknown */ }
    }
    return fresh;
  }
}
