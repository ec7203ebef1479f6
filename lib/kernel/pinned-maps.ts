// Pinned BPF maps, as bcc's --cgroupmap and --mntnsmap name them: a path under /sys/fs/bpf that
// someone else created and fills (see bcc's docs/special_filtering.md).
//
// bcc splices the user's path into its C program (BPF_TABLE_PINNED(..., "PATH")). We never put a
// user's text into C: the map is opened here, checked (a hash map with the key and value sizes
// the option needs, so a wrong map is a clear usage error rather than a silent mismatch), and
// pinned a second time at a path the tool builds from numbers only (pinAgain), which is what its
// program names; that second pin is removed as soon as the program holds the map. The program
// then looks things up in the user's own map, live, as bcc's does.
import fs from 'node:fs';
import { MAP_TYPE, mapInfo, openPinned, pinObject, type MapInfo } from 'bcc-node-bindings';
import { UsageError, type OptionSpec } from '../run/cli.ts';

/** What an option expects of the map it names. */
export interface PinnedMapShape {
  /** The option, for messages: "--cgroupmap". */
  option: string;
  keySize: number;
  valueSize: number;
}

/** bcc's two container filters, with the key and value sizes its docs create them with. */
export const CGROUP_MAP: PinnedMapShape = { option: '--cgroupmap', keySize: 8, valueSize: 8 };
export const MNTNS_MAP: PinnedMapShape = { option: '--mntnsmap', keySize: 8, valueSize: 4 };

export interface PinnedMap {
  path: string;
  fd: number;
  info: MapInfo;
}

// Plain path characters only: the path reaches nothing but bpf_obj_get, but a name with spaces,
// quotes or ".." is far more likely a mistake than a map.
const SAFE_PATH = /^\/sys\/fs\/bpf\/(?:[A-Za-z0-9_.@:+-]+\/)*[A-Za-z0-9_.@:+-]+$/;

/** Checks the path's spelling (for the option parser); the map itself is checked by openPinnedMap. */
export function pinnedMapOption(value: string): string {
  if (!SAFE_PATH.test(value) || value.split('/').includes('..')) {
    throw new UsageError(`expected a pinned map path under /sys/fs/bpf/ (letters, digits, . _ - @ : +), got ${JSON.stringify(value)}`);
  }
  if (!fs.existsSync(value)) throw new UsageError(`no pinned map at ${value}`);
  return value;
}

/** bcc's container options (--cgroupmap, --mntnsmap), as every tool that takes them spells them. */
export const CONTAINER_MAP_OPTIONS: OptionSpec[] = [
  { long: 'cgroupmap', type: 'string', metavar: 'CGROUPMAP', parse: pinnedMapOption, help: 'trace cgroups in this BPF map only' },
  { long: 'mntnsmap', type: 'string', metavar: 'MNTNSMAP', parse: pinnedMapOption, help: 'trace mount namespaces in this BPF map only' },
];

/** Opens a pinned hash map and checks it has the shape the option needs; UsageError if not. */
export function openPinnedMap(path: string, shape: PinnedMapShape): PinnedMap {
  let fd: number;
  try {
    fd = openPinned(path);
  } catch (err) {
    throw new UsageError(`${shape.option}: ${(err as Error).message}`);
  }
  let info: MapInfo;
  try {
    info = mapInfo(fd);
  } catch {
    fs.closeSync(fd);
    throw new UsageError(`${shape.option}: ${path} is pinned, but is not a BPF map`);
  }
  const problems: string[] = [];
  if (info.type !== MAP_TYPE.HASH) problems.push(`type ${info.type} (want hash, ${MAP_TYPE.HASH})`);
  if (info.keySize !== shape.keySize) problems.push(`key ${info.keySize} B (want ${shape.keySize})`);
  if (info.valueSize !== shape.valueSize) problems.push(`value ${info.valueSize} B (want ${shape.valueSize})`);
  if (problems.length) {
    fs.closeSync(fd);
    throw new UsageError(`${shape.option}: the map at ${path} has ${problems.join(', ')}`);
  }
  return { path, fd, info };
}

/**
 * Pins `map` again at `path` (built by the caller from numbers, never from user text); returns
 * the function that removes that pin again, leaving the user's own pin alone.
 */
export function pinAgain(map: PinnedMap, path: string): () => void {
  fs.rmSync(path, { force: true }); // left by an earlier run with our PID that was killed
  try {
    pinObject(map.fd, path);
  } catch (err) {
    throw new UsageError(`cannot pin the map at ${map.path} again: ${(err as Error).message}`);
  }
  return () => fs.rmSync(path, { force: true });
}

/**
 * The --cgroupmap / --mntnsmap configuration of a program that includes bpfkit/containers.h:
 * pins the user's maps again where the program looks for them (paths made from our PID) and
 * returns the #defines. Call `unpin` once the program is loaded. The PID enters the program only
 * when a map is given, so the compile cache still serves the common case.
 */
export function containerFilters(cgroupMap: PinnedMap | null, mntnsMap: PinnedMap | null, pin = true): { defines: Record<string, number | boolean>; unpin: () => void } {
  const removers: Array<() => void> = [];
  if (pin && cgroupMap) removers.push(pinAgain(cgroupMap, `/sys/fs/bpf/bpfkit-${process.pid}-cgroupmap`));
  if (pin && mntnsMap) removers.push(pinAgain(mntnsMap, `/sys/fs/bpf/bpfkit-${process.pid}-mntnsmap`));
  return {
    defines: {
      FILTER_CGROUP_MAP: cgroupMap !== null,
      FILTER_MNTNS_MAP: mntnsMap !== null,
      ...(cgroupMap || mntnsMap ? { PIN_ID: process.pid } : {}),
    },
    unpin: () => { for (const remove of removers) remove(); },
  };
}
