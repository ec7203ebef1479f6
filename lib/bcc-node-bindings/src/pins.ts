// BPF objects outside a program: maps pinned in bpffs (/sys/fs/bpf) by someone else, pinning our
// own, and standalone maps (what `bpftool map create` makes), for filters such as bcc's
// --cgroupmap / --mntnsmap that share a map between tools.
import koffi from 'koffi';
import { libbpf } from './ffi/libbpf.ts';
import { BpfError, errnoText } from './errors.ts';

/** Opens a pinned object; returns its fd. */
export function openPinned(path: string): number {
  const fd = libbpf().obj_get(path) as number;
  if (fd < 0) {
    const errno = koffi.errno();
    throw new BpfError('INVALID_ARGUMENT', `${path} is not a pinned BPF object: ${errnoText(errno)}`, { errno });
  }
  return fd;
}

export function pinObject(fd: number, path: string): void {
  if ((libbpf().obj_pin(fd, path) as number) < 0) {
    const errno = koffi.errno();
    throw new BpfError('LOAD', `cannot pin at ${path}: ${errnoText(errno)}`, { errno });
  }
}

/** A map of its own, not part of any program; returns its fd. */
export function createMap(type: number, keySize: number, valueSize: number, maxEntries: number): number {
  const create = libbpf().map_create;
  const fd = create ? create(type, null, keySize, valueSize, maxEntries, null) as number : -1;
  if (fd < 0) {
    const errno = koffi.errno();
    throw new BpfError('LOAD', `cannot create a map: ${errnoText(errno)}`, { errno });
  }
  return fd;
}

/** key → value in a map given by fd (raw bytes of the map's key and value sizes). */
export function updateMap(fd: number, key: Buffer, value: Buffer): void {
  if ((libbpf().map_update_elem(fd, key, value, 0n) as number) < 0) {
    const errno = koffi.errno();
    throw new BpfError('MAP', `map update failed: ${errnoText(errno)}`, { errno });
  }
}
