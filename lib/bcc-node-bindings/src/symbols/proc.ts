// What /proc says about a process: its executable mappings, its files as it sees them (through
// /proc/PID/root, so a container's or another mount namespace's /usr/lib is its own, not the
// host's), and its pid inside its own PID namespace (the name of its perf map file).
import fs from 'node:fs';

export interface Mapping {
  start: number;
  end: number;
  /** File offset of `start`. */
  offset: number;
  inode: number;
  /** As /proc/PID/maps shows it, without " (deleted)": "/usr/lib/…/libc.so.6", "[vdso]", "" (anonymous). */
  path: string;
  deleted: boolean;
}

const DELETED = ' (deleted)';

/** The executable mappings of a process in address order, or null when it is gone (or unreadable). */
export function readMaps(pid: number): Mapping[] | null {
  let text: string;
  try { text = fs.readFileSync(`/proc/${pid}/maps`, 'latin1'); } catch { return null; }
  return parseMaps(text);
}

/** Parses /proc/PID/maps text ("start-end perms offset dev inode path"); keeps executable mappings only. */
export function parseMaps(text: string): Mapping[] {
  const maps: Mapping[] = [];
  for (const line of text.split('\n')) {
    // Fields are separated by single spaces up to the inode; the path follows after padding and
    // may itself hold spaces, so it is everything after the fifth field.
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) \S+ (\d+)\s*(.*)$/.exec(line);
    if (!m || m[3][2] !== 'x') continue;
    let path = m[6];
    const deleted = path.endsWith(DELETED);
    if (deleted) path = path.slice(0, -DELETED.length);
    maps.push({
      start: Number.parseInt(m[1], 16), end: Number.parseInt(m[2], 16), offset: Number.parseInt(m[4], 16),
      inode: Number(m[5]), path, deleted,
    });
  }
  return maps.sort((a, b) => a.start - b.start);
}

/** The mapping that holds an address, by binary search. */
export function findMapping(maps: readonly Mapping[], addr: number): Mapping | null {
  let lo = 0;
  let hi = maps.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (addr < maps[mid].start) hi = mid - 1;
    else if (addr >= maps[mid].end) lo = mid + 1;
    else return maps[mid];
  }
  return null;
}

/** Whether a mapping is backed by a file on disk (not [vdso], [heap], anonymous or a memfd). */
export function isFileMapping(m: Mapping): boolean {
  return m.path.startsWith('/') && m.inode !== 0 && !m.path.startsWith('/memfd:');
}

/**
 * Opens the file a process mapped, read-only: by its path under /proc/PID/root first (its own mount
 * namespace), checked by inode because a path can now name another file (rebuilt, replaced); then
 * through /proc/PID/map_files/<range>, which reaches the mapped file itself even when it was
 * deleted or hidden by a mount since (root only). Null when neither works.
 */
export function openMapped(pid: number, m: Mapping): number | null {
  const candidates = m.deleted ? [] : [`/proc/${pid}/root${m.path}`];
  candidates.push(`/proc/${pid}/map_files/${m.start.toString(16)}-${m.end.toString(16)}`);
  for (const file of candidates) {
    let fd: number;
    try { fd = fs.openSync(file, 'r'); } catch { continue; }
    try {
      if (fs.fstatSync(fd).ino === m.inode) return fd;
    } catch { /* fall through to close */ }
    fs.closeSync(fd);
  }
  return null;
}

/** The process's pid in its own PID namespace (the innermost of NSpid), else pid itself. */
export function namespacePid(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
    const ids = /^NSpid:\s*(.*)$/m.exec(status)?.[1].trim().split(/\s+/);
    const last = ids ? Number(ids[ids.length - 1]) : Number.NaN;
    if (Number.isInteger(last) && last > 0) return last;
  } catch { /* gone, or no NSpid (kernel < 4.1): its pid is the one we know */ }
  return pid;
}
