// bpffs at /sys/fs/bpf, where the container-filter tests pin their maps.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { MAP_TYPE, createMap, pinObject, updateMap } from 'bcc-node-bindings';
import type { PinnedMapShape } from '../../lib/kernel/pinned-maps.ts';

/** Mounts bpffs if it is not mounted; returns whether we mounted it (then the test unmounts it). */
export function ensureBpffs(): boolean {
  if (fs.readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === '/sys/fs/bpf' && l.split(' ')[2] === 'bpf')) return false;
  execFileSync('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
  return true;
}

/** A u64 map key or value. */
export function u64(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

/** Creates and pins a hash map, as a user's `bpftool map create PATH type hash …` would; returns its fd. */
export function createPinnedHashMap(path: string, shape: PinnedMapShape, maxEntries: number): number {
  const fd = createMap(MAP_TYPE.HASH, shape.keySize, shape.valueSize, maxEntries);
  try {
    pinObject(fd, path);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return fd;
}

/** Sets key → value in a map by fd (both little-endian integers of the map's sizes). */
export function updatePinnedMap(fd: number, key: Buffer, value: Buffer): void {
  updateMap(fd, key, value);
}
