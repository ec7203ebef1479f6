// A compiled program, independent of the libbcc module that produced it: each function's
// instructions, which instructions refer to which table, and every table's spec and type
// descriptions. Loading an artifact needs only libbpf (see image.ts), which is what lets the
// compile cache keep LLVM out of the running tool.
import { BpfError } from './errors.ts';

export const ARTIFACT_FORMAT = 1;

export interface ArtifactTable {
  name: string;
  type: number;
  keySize: number;
  leafSize: number;
  maxEntries: number;
  flags: number;
  /** libbcc's JSON descriptions of key and value ('' for none, as for queues). */
  keyDesc: string;
  leafDesc: string;
  /** The "name#type" fields of the struct sent through this table (perf/ring buffers), if any. */
  eventFields: string[] | null;
  /** A map that existed before compiling (pinned or shared): reused by id, never cached. */
  externalMapId?: number;
}

export interface Relocation {
  /** Index of the 16-byte ld_imm64 instruction whose immediate is a map fd. */
  insn: number;
  table: number;
  /** BPF_PSEUDO_MAP_FD (1) or BPF_PSEUDO_MAP_VALUE (2). */
  kind: number;
}

export interface ArtifactFunction {
  name: string;
  /** The instructions, base64, with map fds zeroed (relocations say where they go). */
  insns: string;
  relocations: Relocation[];
}

export interface Artifact {
  format: number;
  /** What the cache key was computed from, stored again so an entry can be checked against it. */
  key: string;
  kernelRelease: string;
  libbccVersion: string;
  license: string;
  kernVersion: number;
  functions: ArtifactFunction[];
  tables: ArtifactTable[];
  /** The program's own compiler warnings (kernel-header noise already dropped). */
  warnings: string;
}

const BPF_LD_IMM64 = 0x18;
export const BPF_PSEUDO_MAP_FD = 1;
export const BPF_PSEUDO_MAP_VALUE = 2;

/** Finds the map references in freshly compiled code and zeroes them, so the bytes are stable. */
export function extractRelocations(insns: Buffer, tableByFd: Map<number, number>): Relocation[] {
  const relocations: Relocation[] = [];
  for (let i = 0; i < insns.length / 8; i++) {
    const at = i * 8;
    if (insns[at] !== BPF_LD_IMM64) continue;
    const kind = insns[at + 1] >> 4;
    if (kind === BPF_PSEUDO_MAP_FD || kind === BPF_PSEUDO_MAP_VALUE) {
      const fd = insns.readInt32LE(at + 4);
      const table = tableByFd.get(fd);
      if (table === undefined) throw new BpfError('LOAD', `instruction ${i} refers to map fd ${fd}, which is none of the program's tables`);
      relocations.push({ insn: i, table, kind });
      insns.writeInt32LE(0, at + 4);
    }
    i++; // ld_imm64 takes two instruction slots
  }
  return relocations;
}

/** Throws unless `value` is a well-formed artifact; a cache entry is never trusted without this. */
export function validateArtifact(value: unknown): Artifact {
  const fail = (why: string): never => { throw new BpfError('INVALID_ARGUMENT', `not a valid artifact: ${why}`); };
  if (!value || typeof value !== 'object') fail('not an object');
  const a = value as Artifact;
  if (a.format !== ARTIFACT_FORMAT) fail(`format ${String(a.format)}`);
  for (const field of ['key', 'kernelRelease', 'libbccVersion', 'license', 'warnings'] as const) {
    if (typeof a[field] !== 'string') fail(`${field} missing`);
  }
  if (!Number.isInteger(a.kernVersion)) fail('kernVersion missing');
  if (!Array.isArray(a.tables) || !Array.isArray(a.functions)) fail('no tables or functions');
  for (const t of a.tables) {
    if (typeof t.name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(t.name)) fail('bad table name');
    for (const n of ['type', 'keySize', 'leafSize', 'maxEntries', 'flags'] as const) {
      if (!Number.isInteger(t[n]) || t[n] < 0) fail(`table ${t.name}: bad ${n}`);
    }
    if (typeof t.keyDesc !== 'string' || typeof t.leafDesc !== 'string') fail(`table ${t.name}: bad descriptions`);
    if (t.eventFields !== null && !(Array.isArray(t.eventFields) && t.eventFields.every((f) => typeof f === 'string'))) fail(`table ${t.name}: bad event fields`);
  }
  for (const f of a.functions) {
    if (typeof f.name !== 'string' || typeof f.insns !== 'string' || !Array.isArray(f.relocations)) fail('bad function');
    const count = Buffer.from(f.insns, 'base64').length;
    if (count === 0 || count % 8 !== 0) fail(`function ${f.name}: truncated instructions`);
    for (const r of f.relocations) {
      if (!Number.isInteger(r.insn) || r.insn < 0 || (r.insn + 2) * 8 > count) fail(`function ${f.name}: relocation out of range`);
      if (!Number.isInteger(r.table) || r.table < 0 || r.table >= a.tables.length) fail(`function ${f.name}: relocation to unknown table`);
      if (r.kind !== BPF_PSEUDO_MAP_FD && r.kind !== BPF_PSEUDO_MAP_VALUE) fail(`function ${f.name}: bad relocation kind`);
    }
  }
  return a;
}
