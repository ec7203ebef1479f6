// --cgroup PATH: a directory of the cgroup v2 hierarchy, which is what bpf_current_task_under_cgroup()
// and BPF_MAP_TYPE_CGROUP_ARRAY understand (a v1 directory is refused by the kernel when its fd
// is put in the map). On hybrid systems v2 is mounted at /sys/fs/cgroup/unified, not at
// /sys/fs/cgroup, so a relative path is looked up under wherever cgroup2 is mounted.
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../run/cli.ts';

const CGROUP2_SUPER_MAGIC = 0x63677270;

/** Where the cgroup v2 hierarchy is mounted, or null. */
export function cgroupV2Mount(): string | null {
  try {
    for (const line of fs.readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
      const [, mountPoint, type] = line.split(' ');
      if (type === 'cgroup2') return mountPoint.replace(/\\040/g, ' ');
    }
  } catch { /* no /proc: nothing mounted that we can see */ }
  return null;
}

/** Option validator: an existing cgroup v2 directory, absolute or relative to the v2 mount. */
export function cgroupV2Path(value: string): string {
  const mount = cgroupV2Mount();
  if (!mount) throw new UsageError('no cgroup v2 hierarchy is mounted');
  const full = path.isAbsolute(value) ? path.resolve(value) : path.join(mount, value);
  let stat: fs.Stats;
  try { stat = fs.statSync(full); } catch { throw new UsageError(`no cgroup at ${full}`); }
  if (!stat.isDirectory()) throw new UsageError(`${full} is not a cgroup directory`);
  if (fs.statfsSync(full).type !== CGROUP2_SUPER_MAGIC) {
    throw new UsageError(`${full} is not in the cgroup v2 hierarchy (mounted at ${mount})`);
  }
  return full;
}
