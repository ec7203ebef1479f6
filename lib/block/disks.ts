// Block devices by number and by name, resolved in user space.
//
// The block layer and its tracepoints store a device number as MKDEV(major, minor) =
// major << 20 | minor (the kernel's internal dev_t, not the one stat() returns), which is what
// the C programs report. Names come from /sys/dev/block/MAJ:MIN (every disk, including empty loop
// devices that /proc/partitions leaves out), then /proc/partitions (what libbpf-tools reads),
// then /proc/diskstats (what bcc reads once at start). A disk attached while a tool runs is found
// on first sight; one that went away prints as "?", as in bcc.
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../run/cli.ts';

const MINOR_BITS = 20;

/** The kernel's internal dev_t for major:minor. */
export function kernelDev(major: number, minor: number): number {
  return major * 2 ** MINOR_BITS + minor;
}

export function majorOf(dev: number): number {
  return Math.floor(dev / 2 ** MINOR_BITS);
}

export function minorOf(dev: number): number {
  return dev % 2 ** MINOR_BITS;
}

export interface Disk {
  name: string;
  major: number;
  minor: number;
  /** kernelDev(major, minor): the number the block tracepoints and our C programs report. */
  dev: number;
}

/** Turns device numbers into disk names ("loop3", "nvme0n1"), caching what it found. */
export class DiskNames {
  private readonly known = new Map<number, string>();

  constructor(private readonly root = '/') {}

  name(dev: number): string {
    let name = this.known.get(dev);
    if (name === undefined) {
      name = this.lookup(majorOf(dev), minorOf(dev));
      if (name !== undefined) this.known.set(dev, name);
    }
    return name ?? '?';
  }

  private lookup(major: number, minor: number): string | undefined {
    try {
      return path.basename(fs.readlinkSync(path.join(this.root, `sys/dev/block/${major}:${minor}`)));
    } catch { /* no sysfs entry: try the /proc tables */ }
    for (const table of ['proc/partitions', 'proc/diskstats']) {
      const found = readDiskTable(path.join(this.root, table)).find((d) => d.major === major && d.minor === minor);
      if (found) return found.name;
    }
    return undefined;
  }
}

/** The rows of /proc/partitions or /proc/diskstats (both start "major minor ... name" in some order). */
function readDiskTable(file: string): Disk[] {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch { return []; }
  const disks: Disk[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (!/^\d+$/.test(f[0] ?? '') || !/^\d+$/.test(f[1] ?? '')) continue;
    // partitions: major minor #blocks name; diskstats: major minor name counters...
    const name = file.endsWith('partitions') ? f[3] : f[2];
    if (name) disks.push({ name, major: Number(f[0]), minor: Number(f[1]), dev: kernelDev(Number(f[0]), Number(f[1])) });
  }
  return disks;
}

/**
 * The whole disk a user names for -d ("sda", "/dev/sda", "/dev/mapper/vg-root"). Requests are
 * issued to whole disks, so a partition would never match: it is refused with the disk to use
 * (bcc accepts it and then silently shows nothing).
 */
export function diskByName(spec: string, root = '/'): Disk {
  const short = /^\/dev\/[^/]+$/.test(spec) ? spec.slice(5) : spec;
  const found = short.startsWith('/') ? undefined : diskNamed(short, root);
  if (found) return found;
  if (spec.startsWith('/')) return diskAtPath(spec, root);
  throw new UsageError(`no disk named ${JSON.stringify(spec)} (see /sys/class/block or /proc/partitions)`);
}

function diskNamed(name: string, root: string): Disk | undefined {
  if (!/^[A-Za-z0-9._:!+-]+$/.test(name) || name.startsWith('.')) return undefined;
  const sysDir = path.join(root, 'sys/class/block', name);
  let majMin: string | undefined;
  try { majMin = fs.readFileSync(path.join(sysDir, 'dev'), 'utf8').trim(); } catch { /* not in sysfs */ }
  if (!majMin) return readDiskTable(path.join(root, 'proc/partitions')).find((d) => d.name === name);
  if (fs.existsSync(path.join(sysDir, 'partition'))) {
    const parent = path.basename(path.dirname(fs.realpathSync(sysDir)));
    throw new UsageError(`${name} is a partition of ${parent}: I/O is counted per whole disk, use -d ${parent}`);
  }
  const [major, minor] = majMin.split(':').map(Number);
  return { name, major, minor, dev: kernelDev(major, minor) };
}

/** Any block device node, symlinks (/dev/mapper/…, /dev/disk/by-id/…) followed. */
function diskAtPath(file: string, root: string): Disk {
  let rdev: bigint;
  try {
    const st = fs.statSync(file, { bigint: true });
    if (!st.isBlockDevice()) throw new UsageError(`${file} is not a block device`);
    rdev = st.rdev;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`no disk at ${file}`);
  }
  // glibc's gnu_dev_major / gnu_dev_minor.
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  const name = new DiskNames(root).name(kernelDev(major, minor));
  // Through its sysfs name, so that a partition is refused here too.
  return (name !== '?' && diskNamed(name, root)) || { name: path.basename(file), major, minor, dev: kernelDev(major, minor) };
}
