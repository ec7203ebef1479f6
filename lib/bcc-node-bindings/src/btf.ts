// The running kernel's own type information (/sys/kernel/btf/vmlinux), read in TypeScript.
//
// Why: libbcc compiles against whatever headers exist, and when they are not the running kernel's
// (here: 6.12 headers, 6.18 kernel) `task->real_parent->tgid` compiles to the wrong offset and
// silently reads garbage. BTF describes the running kernel exactly, so tools ask it for offsets at
// start-up and hand them to the C program as numbers (-DTASK_REAL_PARENT=…), then read with
// bpf_probe_read_kernel at those offsets. The format: a header, a type section of variable-length
// records (ids count from 1), and a string section. See the kernel's Documentation/bpf/btf.rst.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BpfError } from './errors.ts';
import { cacheRoot } from './kernel.ts';

const VMLINUX = '/sys/kernel/btf/vmlinux';

export const BTF_KIND = {
  INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10,
  RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18,
  ENUM64: 19,
} as const;

export interface BtfMember {
  name: string;
  typeId: number;
  /** Offset from the start of the enclosing struct, in bits. */
  bitOffset: number;
  /** Non-zero for bitfields. */
  bitSize: number;
}

export interface FieldLocation {
  /** Byte offset from the start of the outer struct. */
  offset: number;
  /** Size in bytes of the field's type (after typedefs and qualifiers). */
  size: number;
  /** The field's type kind after typedefs and qualifiers (BTF_KIND.PTR for pointers, …). */
  kind: number;
  bitSize: number;
}

const MAGIC = 0xeb9f;

export class KernelBtf {
  private readonly view: DataView;
  private readonly typeStart: number;
  private readonly strStart: number;
  /** Byte position of each type record; index = type id. */
  private readonly records: number[] = [0];
  private readonly byName = new Map<string, number[]>();
  private readonly funcIds: number[] = [];
  private funcs: Map<string, number> | null = null;
  /** Enums and typedefs, named on first use (there are tens of thousands of typedefs). */
  private readonly enumIds: number[] = [];
  private readonly typedefIds: number[] = [];
  private enums: Map<string, number> | null = null;
  private typedefs: Map<string, number> | null = null;

  static load(path = VMLINUX): KernelBtf {
    let data: Buffer;
    try {
      data = fs.readFileSync(path);
    } catch (err) {
      throw new BpfError('NOT_SUPPORTED', `the kernel has no BTF at ${path} (CONFIG_DEBUG_INFO_BTF is off)`, { cause: err });
    }
    return new KernelBtf(data);
  }

  constructor(data: Buffer) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (this.view.getUint16(0, true) !== MAGIC) throw new BpfError('INVALID_ARGUMENT', 'not BTF data (bad magic)');
    const hdrLen = this.view.getUint32(4, true);
    this.typeStart = hdrLen + this.view.getUint32(8, true);
    const typeLen = this.view.getUint32(12, true);
    this.strStart = hdrLen + this.view.getUint32(16, true);
    this.index(this.typeStart, this.typeStart + typeLen);
  }

  private index(from: number, to: number): void {
    const v = this.view;
    let at = from;
    while (at < to) {
      const id = this.records.length;
      this.records.push(at);
      const info = v.getUint32(at + 4, true);
      const kind = (info >>> 24) & 0x1f;
      const vlen = info & 0xffff;
      if (kind === BTF_KIND.STRUCT || kind === BTF_KIND.UNION) {
        const name = this.string(v.getUint32(at, true));
        if (name) {
          const ids = this.byName.get(name);
          if (ids) ids.push(id); else this.byName.set(name, [id]);
        }
      } else if (kind === BTF_KIND.FUNC) {
        this.funcIds.push(id); // named on first use: most tools never ask
      } else if (kind === BTF_KIND.ENUM || kind === BTF_KIND.ENUM64) {
        this.enumIds.push(id);
      } else if (kind === BTF_KIND.TYPEDEF) {
        this.typedefIds.push(id);
      }
      at += 12 + this.extraSize(kind, vlen);
    }
  }

  private extraSize(kind: number, vlen: number): number {
    switch (kind) {
      case BTF_KIND.INT: case BTF_KIND.VAR: case BTF_KIND.DECL_TAG: return 4;
      case BTF_KIND.ARRAY: return 12;
      case BTF_KIND.STRUCT: case BTF_KIND.UNION: case BTF_KIND.DATASEC: case BTF_KIND.ENUM64: return vlen * 12;
      case BTF_KIND.ENUM: case BTF_KIND.FUNC_PROTO: return vlen * 8;
      default: return 0;
    }
  }

  private string(offset: number): string {
    let end = this.strStart + offset;
    while (this.view.getUint8(end) !== 0) end++;
    return Buffer.from(this.view.buffer, this.view.byteOffset + this.strStart + offset, end - this.strStart - offset).toString('latin1');
  }

  kind(id: number): number {
    return (this.view.getUint32(this.records[id] + 4, true) >>> 24) & 0x1f;
  }

  /** Follows typedefs and qualifiers to the type they name. */
  resolve(id: number): number {
    for (;;) {
      const k = this.kind(id);
      if (k !== BTF_KIND.TYPEDEF && k !== BTF_KIND.VOLATILE && k !== BTF_KIND.CONST &&
          k !== BTF_KIND.RESTRICT && k !== BTF_KIND.TYPE_TAG) return id;
      id = this.view.getUint32(this.records[id] + 8, true);
    }
  }

  sizeOf(id: number): number {
    const resolved = this.resolve(id);
    const at = this.records[resolved];
    switch (this.kind(resolved)) {
      case BTF_KIND.PTR: return 8;
      case BTF_KIND.ARRAY: return this.sizeOf(this.view.getUint32(at + 12, true)) * this.view.getUint32(at + 20, true);
      default: return this.view.getUint32(at + 8, true);
    }
  }

  private nameIndex(ids: number[]): Map<string, number> {
    const index = new Map<string, number>();
    for (const id of ids) {
      const name = this.string(this.view.getUint32(this.records[id], true));
      if (!index.has(name)) index.set(name, id);
    }
    return index;
  }

  /** A kernel function's BTF id (what fentry/fexit programs attach to). */
  funcId(name: string): number | undefined {
    this.funcs ??= this.nameIndex(this.funcIds);
    return this.funcs.get(name);
  }

  /**
   * The constants of `enum name` on this kernel (enum req_flag_bits says which bit of a request's
   * cmd_flags is REQ_SYNC here; the numbers move between releases). Undefined when there is none.
   */
  enumValues(name: string): Map<string, bigint> | undefined {
    this.enums ??= this.nameIndex(this.enumIds);
    const id = this.enums.get(name);
    if (id === undefined) return undefined;
    const at = this.records[id];
    const info = this.view.getUint32(at + 4, true);
    const signed = info >>> 31 === 1;
    const wide = this.kind(id) === BTF_KIND.ENUM64;
    const out = new Map<string, bigint>();
    for (let i = 0; i < (info & 0xffff); i++) {
      const m = at + 12 + i * (wide ? 12 : 8);
      let value: bigint;
      if (wide) {
        value = (BigInt(this.view.getUint32(m + 8, true)) << 32n) | BigInt(this.view.getUint32(m + 4, true));
        if (signed) value = BigInt.asIntN(64, value);
      } else {
        value = BigInt(signed ? this.view.getInt32(m + 4, true) : this.view.getUint32(m + 4, true));
      }
      out.set(this.string(this.view.getUint32(m, true)), value);
    }
    return out;
  }

  /**
   * Which ctx->args[i] of raw tracepoint `tp` is its first `struct structName *` argument, read from
   * the kernel's btf_trace_<tp> typedef (block_rq_issue passes (rq) since 5.11, (q, rq) before).
   */
  rawTracepointArg(tp: string, structName: string): number | undefined {
    this.typedefs ??= this.nameIndex(this.typedefIds);
    const typedef = this.typedefs.get(`btf_trace_${tp}`);
    if (typedef === undefined) return undefined;
    const ptr = this.resolve(this.view.getUint32(this.records[typedef] + 8, true));
    if (this.kind(ptr) !== BTF_KIND.PTR) return undefined;
    const proto = this.resolve(this.view.getUint32(this.records[ptr] + 8, true));
    if (this.kind(proto) !== BTF_KIND.FUNC_PROTO) return undefined;
    const at = this.records[proto];
    const vlen = this.view.getUint32(at + 4, true) & 0xffff;
    // The first parameter is the tracepoint's private data, which BPF programs do not get.
    for (let i = 1; i < vlen; i++) {
      const param = this.resolve(this.view.getUint32(at + 12 + i * 8 + 4, true));
      if (this.kind(param) !== BTF_KIND.PTR) continue;
      const target = this.resolve(this.view.getUint32(this.records[param] + 8, true));
      if (this.kind(target) === BTF_KIND.STRUCT && this.string(this.view.getUint32(this.records[target], true)) === structName) return i - 1;
    }
    return undefined;
  }

  /** A struct's (or union's) type id by name; the first definition when several exist. */
  structId(name: string): number | undefined {
    return this.byName.get(name)?.[0];
  }

  members(id: number): BtfMember[] {
    const at = this.records[id];
    const info = this.view.getUint32(at + 4, true);
    const bitfields = info >>> 31 === 1;
    const out: BtfMember[] = [];
    for (let i = 0; i < (info & 0xffff); i++) {
      const m = at + 12 + i * 12;
      const raw = this.view.getUint32(m + 8, true);
      out.push({
        name: this.string(this.view.getUint32(m, true)),
        typeId: this.view.getUint32(m + 4, true),
        bitOffset: bitfields ? raw & 0xffffff : raw,
        bitSize: bitfields ? raw >>> 24 : 0,
      });
    }
    return out;
  }

  /**
   * Where `field` is in `struct structName`, looking through anonymous struct and union members
   * as C does. A dotted path ("__sk_common.skc_daddr") walks into embedded structs.
   */
  fieldLocation(structName: string, fieldPath: string): FieldLocation | undefined {
    let id = this.structId(structName);
    if (id === undefined) return undefined;
    let offsetBits = 0;
    let found: { member: BtfMember; bits: number } | undefined;
    for (const name of fieldPath.split('.')) {
      found = this.findMember(id, name);
      if (!found) return undefined;
      offsetBits += found.bits;
      id = this.resolve(found.member.typeId);
    }
    if (!found) return undefined;
    return { offset: offsetBits >>> 3, size: this.sizeOf(found.member.typeId), kind: this.kind(id), bitSize: found.member.bitSize };
  }

  private findMember(structId: number, name: string): { member: BtfMember; bits: number } | undefined {
    for (const member of this.members(structId)) {
      if (member.name === name) return { member, bits: member.bitOffset };
      const inner = this.resolve(member.typeId);
      const k = this.kind(inner);
      if (member.name === '' && (k === BTF_KIND.STRUCT || k === BTF_KIND.UNION)) {
        const deeper = this.findMember(inner, name);
        if (deeper) return { member: deeper.member, bits: member.bitOffset + deeper.bits };
      }
    }
    return undefined;
  }

  offsetOf(structName: string, fieldPath: string): number {
    return offsetOrThrow(this.fieldLocation(structName, fieldPath), structName, fieldPath);
  }

  hasField(structName: string, fieldPath: string): boolean {
    return this.fieldLocation(structName, fieldPath) !== undefined;
  }
}

/** Byte offset of a field, or a NOT_SUPPORTED error naming what this kernel lacks. */
function offsetOrThrow(loc: FieldLocation | undefined, structName: string, fieldPath: string): number {
  if (!loc) throw new BpfError('NOT_SUPPORTED', `this kernel's BTF has no field ${fieldPath} in struct ${structName}`);
  return loc.offset;
}

/** What tools ask of the running kernel's BTF. */
export interface BtfQueries {
  fieldLocation(structName: string, fieldPath: string): FieldLocation | undefined;
  offsetOf(structName: string, fieldPath: string): number;
  hasField(structName: string, fieldPath: string): boolean;
  funcId(name: string): number | undefined;
  enumValues(name: string): Map<string, bigint> | undefined;
  rawTracepointArg(tp: string, structName: string): number | undefined;
}

/**
 * The running kernel's BTF with its answers remembered on disk. Parsing vmlinux's 5 MB of BTF costs
 * ~25 ms and ~10 MB on every start, yet a tool asks the same few questions each time; answers are
 * kept in <cache>/btf/<kernel>.json (root-only, rewritten atomically), keyed by the kernel build
 * and the BTF file's size, and the file is parsed only when a question is new.
 */
class RememberedBtf implements BtfQueries {
  private parsed: KernelBtf | null = null;
  private readonly answers: Record<string, unknown>;
  private readonly file: string | null;

  constructor(private readonly path: string) {
    this.file = answersFile(path);
    this.answers = this.file ? readAnswers(this.file) : {};
  }

  private btf(): KernelBtf {
    this.parsed ??= KernelBtf.load(this.path);
    return this.parsed;
  }

  private recall<T>(question: string, answer: () => T, toJson: (v: T) => unknown = (v) => v, fromJson: (j: unknown) => T = (j) => j as T): T {
    if (Object.hasOwn(this.answers, question)) {
      const stored = this.answers[question];
      return stored === null ? (undefined as T) : fromJson(stored);
    }
    const value = answer();
    this.answers[question] = value === undefined ? null : toJson(value);
    if (this.file) writeAnswers(this.file, this.answers);
    return value;
  }

  fieldLocation(structName: string, fieldPath: string): FieldLocation | undefined {
    return this.recall(`field ${structName} ${fieldPath}`, () => this.btf().fieldLocation(structName, fieldPath));
  }

  offsetOf(structName: string, fieldPath: string): number {
    return offsetOrThrow(this.fieldLocation(structName, fieldPath), structName, fieldPath);
  }

  hasField(structName: string, fieldPath: string): boolean {
    return this.fieldLocation(structName, fieldPath) !== undefined;
  }

  funcId(name: string): number | undefined {
    return this.recall(`func ${name}`, () => this.btf().funcId(name));
  }

  enumValues(name: string): Map<string, bigint> | undefined {
    return this.recall(`enum ${name}`, () => this.btf().enumValues(name),
      (m) => [...(m ?? [])].map(([k, v]) => [k, v.toString()]),
      (j) => new Map((j as Array<[string, string]>).map(([k, v]) => [k, BigInt(v)])));
  }

  rawTracepointArg(tp: string, structName: string): number | undefined {
    return this.recall(`rawtp ${tp} ${structName}`, () => this.btf().rawTracepointArg(tp, structName));
  }
}

function answersFile(btfPath: string): string | null {
  try {
    const st = fs.statSync(btfPath);
    const id = createHash('sha256').update(`${os.release()} ${os.version()} ${st.size} ${st.mtimeMs}`).digest('hex').slice(0, 32);
    return path.join(cacheRoot(), 'btf', `${id}.json`);
  } catch {
    return null;
  }
}

function readAnswers(file: string): Record<string, unknown> {
  try {
    const st = fs.lstatSync(file);
    // Someone else's file could lie about offsets: trust only our own, unwritable by others.
    if (!st.isFile() || st.uid !== (process.geteuid?.() ?? 0) || st.mode & 0o022) return {};
    const data = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    return data && typeof data === 'object' && !Array.isArray(data) ? data as Record<string, unknown> : {};
  } catch {
    return {};
  }
}

function writeAnswers(file: string, answers: Record<string, unknown>): void {
  try {
    const dir = path.dirname(file);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    if (!st.isDirectory() || st.uid !== (process.geteuid?.() ?? 0) || st.mode & 0o077) return;
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(answers), { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch {
    // Unwritable cache: the next start parses BTF again, nothing worse.
  }
}

let vmlinux: BtfQueries | null = null;

/** The running kernel's BTF (answers remembered across runs; parsed only for new questions). */
export function kernelBtf(): BtfQueries {
  if (!vmlinux) {
    if (!fs.existsSync(VMLINUX)) throw new BpfError('NOT_SUPPORTED', `the kernel has no BTF at ${VMLINUX} (CONFIG_DEBUG_INFO_BTF is off)`);
    vmlinux = new RememberedBtf(VMLINUX);
  }
  return vmlinux;
}

/** The running kernel's BTF, or null on a kernel built without it. */
export function kernelBtfOrNull(): BtfQueries | null {
  try {
    return kernelBtf();
  } catch {
    return null;
  }
}
