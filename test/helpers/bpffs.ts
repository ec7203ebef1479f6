// bpffs at /sys/fs/bpf, where the container-filter tests pin their maps.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

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
