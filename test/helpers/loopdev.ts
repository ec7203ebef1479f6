// A loop device over a file in /dev/shm: a real block device (blk-mq, tracepoints, /sys/block
// counters) that nothing else on the machine uses, so its I/O is exactly what a test does. It is
// always removed: by remove(), and if a test forgets or crashes, when the process exits.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface BlockStat {
  reads: number;
  writes: number;
  discards: number;
  flushes: number;
  /** Requests the block layer merged into others before issue. */
  readMerges: number;
  writeMerges: number;
  /** Milliseconds the kernel accounted to reads and to writes (from request start to completion). */
  readTicks: number;
  writeTicks: number;
}

export interface LoopDevice {
  /** "loop3" */
  name: string;
  /** "/dev/loop3" */
  path: string;
  major: number;
  minor: number;
  /** The device's completed-I/O counters (/sys/block/NAME/stat). */
  stat(): BlockStat;
  remove(): void;
}

const live = new Set<LoopDevice>();
const removeAll = () => { for (const dev of live) dev.remove(); };
process.on('exit', removeAll);
// A run killed by its timeout or by Ctrl-C removes them too, then dies of the same signal (unless
// the program has its own handler for it, such as the benchmark's, which then decides).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    removeAll();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

/** Completed requests of any kind: what the kernel itself counts as done. */
export function completed(s: BlockStat): number {
  return s.reads + s.writes + s.discards + s.flushes;
}

export function statDelta(before: BlockStat, after: BlockStat): BlockStat {
  const out = { ...after };
  for (const k of Object.keys(out) as Array<keyof BlockStat>) out[k] -= before[k];
  return out;
}

export function createLoopDevice(sizeMiB = 16): LoopDevice {
  const file = path.join('/dev/shm', `bpfkit-loop-${process.pid}-${live.size}-${Date.now()}`);
  fs.writeFileSync(file, '');
  fs.truncateSync(file, sizeMiB << 20);
  let devPath: string;
  try {
    devPath = execFileSync('losetup', ['--find', '--show', file], { encoding: 'utf8' }).trim();
  } catch (err) {
    fs.rmSync(file, { force: true });
    throw err;
  }
  const name = path.basename(devPath);
  const [major, minor] = fs.readFileSync(`/sys/block/${name}/dev`, 'utf8').trim().split(':').map(Number);
  let removed = false;
  const dev: LoopDevice = {
    name, path: devPath, major, minor,
    stat() {
      const f = fs.readFileSync(`/sys/block/${name}/stat`, 'utf8').trim().split(/\s+/).map(Number);
      // Documentation/block/stat.rst: reads, merges, sectors, ticks; writes, merges, sectors, ticks;
      // in flight, io ticks, queue time; discards (4 fields); flushes, flush ticks.
      return {
        reads: f[0], readMerges: f[1], readTicks: f[3], writes: f[4], writeMerges: f[5], writeTicks: f[7],
        discards: f[11] ?? 0, flushes: f[15] ?? 0,
      };
    },
    remove() {
      if (removed) return;
      removed = true;
      live.delete(dev);
      try { execFileSync('losetup', ['--detach', devPath], { stdio: 'ignore' }); } catch { /* already gone */ }
      fs.rmSync(file, { force: true });
    },
  };
  live.add(dev);
  return dev;
}
