// What the kernel says about loaded programs and maps (bpf_obj_get_info_by_fd): ids, sizes after
// verification and JIT, map memory. `--explain` shows these, and tests use the id lists to prove
// that close() leaves nothing loaded.
import fs from 'node:fs';
import koffi from 'koffi';
import { libbpf, libbpfLibrary, optionalFunction } from './ffi/libbpf.ts';
import type { Fn } from './ffi/libbcc.ts';
import { libc } from './ffi/libc.ts';
import { BpfError, ENOENT, errnoText } from './errors.ts';

export interface ProgramInfo {
  id: number;
  type: number;
  name: string;
  /** Hex of the program's SHA tag, as bpftool shows it. */
  tag: string;
  /** Instructions after the verifier's rewrites (bytes / 8). */
  xlatedInsns: number;
  /** Size of the JITed machine code in bytes (0 when the JIT is off). */
  jitedBytes: number;
  /** Instructions the verifier processed (kernel 5.16+; 0 before). */
  verifiedInsns: number;
  mapIds: number[];
  /** Memory charged to the program, from /proc/self/fdinfo. */
  memlockBytes: number;
  /**
   * Times the kernel skipped the program instead of running it: it was already running on that
   * CPU, or (classic tracepoints, kprobes, perf events; counted since 6.7) another such program or
   * a bpf() map call held the CPU's bpf_prog_active. Events the program never saw.
   */
  recursionMisses: number;
  /** Time spent running the program and the runs counted, while run statistics are on (enableRunStats). */
  runTimeNs: bigint;
  runCount: bigint;
}

export interface MapInfo {
  id: number;
  type: number;
  name: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  memlockBytes: number;
}

// struct bpf_prog_info / bpf_map_info offsets from include/uapi/linux/bpf.h (stable ABI: fields only ever appended).
const PROG_INFO_SIZE = 232;
const MAP_INFO_SIZE = 88;

function infoByFd(fd: number, size: number, prepare?: (buf: Buffer) => void): Buffer {
  const buf = Buffer.alloc(size);
  prepare?.(buf);
  const len = [size];
  if ((libbpf().obj_get_info_by_fd(fd, buf, len) as number) < 0) {
    const errno = koffi.errno();
    throw new BpfError('LOAD', `bpf_obj_get_info_by_fd failed: ${errnoText(errno)}`, { errno });
  }
  return buf;
}

function cString(buf: Buffer, offset: number, max: number): string {
  const slice = buf.subarray(offset, offset + max);
  const end = slice.indexOf(0);
  return slice.toString('utf8', 0, end < 0 ? max : end);
}

function memlock(fd: number): number {
  try {
    const m = /^memlock:\s+(\d+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export function programInfo(fd: number): ProgramInfo {
  const first = infoByFd(fd, PROG_INFO_SIZE);
  const nrMaps = first.readUInt32LE(52);
  const mapIds = Buffer.alloc(Math.max(4, nrMaps * 4));
  // A second call with a buffer for the map ids: the kernel fills what we point it at.
  const info = nrMaps === 0 ? first : infoByFd(fd, PROG_INFO_SIZE, (buf) => {
    buf.writeUInt32LE(nrMaps, 52);
    buf.writeBigUInt64LE(koffi.address(mapIds), 56);
  });
  return {
    type: info.readUInt32LE(0),
    id: info.readUInt32LE(4),
    tag: info.subarray(8, 16).toString('hex'),
    jitedBytes: info.readUInt32LE(16),
    xlatedInsns: info.readUInt32LE(20) / 8,
    mapIds: Array.from({ length: nrMaps }, (_, i) => mapIds.readUInt32LE(i * 4)),
    name: cString(info, 64, 16),
    verifiedInsns: info.readUInt32LE(216),
    memlockBytes: memlock(fd),
    recursionMisses: Number(info.readBigUInt64LE(208)),
    runTimeNs: info.readBigUInt64LE(192),
    runCount: info.readBigUInt64LE(200),
  };
}

/**
 * The program as the kernel runs it: its instructions after the verifier's rewrites (map fds
 * replaced by map addresses, context accesses converted, helper calls resolved, dead code
 * removed), 8 bytes each, as `disassemble()` reads them. Needs root (the kernel hides addresses
 * from others).
 */
export function programInstructions(fd: number): Buffer {
  return programDump(fd, 20, 32, 'translated instructions');
}

/** The native machine code the JIT made of the program (empty when the JIT is off). */
export function programMachineCode(fd: number): Buffer {
  return programDump(fd, 16, 24, 'JITed code');
}

/** Reads a length-prefixed dump of struct bpf_prog_info: its u32 length at lenAt, its u64 pointer at ptrAt. */
function programDump(fd: number, lenAt: number, ptrAt: number, what: string): Buffer {
  const size = infoByFd(fd, PROG_INFO_SIZE).readUInt32LE(lenAt);
  const dump = Buffer.alloc(size);
  if (size === 0) return dump;
  const info = infoByFd(fd, PROG_INFO_SIZE, (buf) => {
    buf.writeUInt32LE(size, lenAt);
    buf.writeBigUInt64LE(BigInt(koffi.address(dump)), ptrAt);
  });
  // The kernel zeroes the pointer when it will not show the dump (no CAP_SYS_ADMIN, or kptr_restrict).
  if (info.readBigUInt64LE(ptrAt) === 0n) throw new BpfError('NOT_ROOT', `the kernel shows a program's ${what} only to root`);
  return dump;
}

/**
 * Turns on the kernel's per-program run statistics (time and count, BPF_ENABLE_STATS) until
 * close(); they cost two clock reads per run, so they are off unless someone holds them on (or
 * the kernel.bpf_stats_enabled sysctl is set).
 */
export function enableRunStats(): { close(): void } {
  const enable = optionalFunction(libbpfLibrary(), 'int bpf_enable_stats(int type)');
  if (!enable) throw new BpfError('NOT_SUPPORTED', 'this libbpf has no bpf_enable_stats (libbpf 0.0.9+)');
  const fd = enable(0 /* BPF_STATS_RUN_TIME */) as number;
  if (fd < 0) {
    const errno = koffi.errno();
    throw new BpfError('NOT_SUPPORTED', `the kernel cannot count program run time: ${errnoText(errno)} (Linux 5.8+)`, { errno });
  }
  let open = true;
  return { close: () => { if (open) { open = false; libc.close(fd); } } };
}

export function mapInfo(fd: number): MapInfo {
  const info = infoByFd(fd, MAP_INFO_SIZE);
  return {
    type: info.readUInt32LE(0),
    id: info.readUInt32LE(4),
    keySize: info.readUInt32LE(8),
    valueSize: info.readUInt32LE(12),
    maxEntries: info.readUInt32LE(16),
    flags: info.readUInt32LE(20),
    name: cString(info, 24, 16),
    memlockBytes: memlock(fd),
  };
}

function walkIds(next: Fn): number[] {
  const ids: number[] = [];
  const out = [0];
  let id = 0;
  while ((next(id, out) as number) === 0) {
    id = out[0];
    ids.push(id);
  }
  return ids;
}

/** Ids of every BPF program loaded in the kernel, by anyone. */
export function loadedProgramIds(): number[] {
  return walkIds(libbpf().prog_get_next_id);
}

export function loadedMapIds(): number[] {
  return walkIds(libbpf().map_get_next_id);
}

/** Whether a program id still exists (ENOENT once the last reference is gone). */
export function programExists(id: number): boolean {
  const fd = libbpf().prog_get_fd_by_id(id) as number;
  if (fd >= 0) {
    libc.close(fd);
    return true;
  }
  return koffi.errno() !== ENOENT;
}
