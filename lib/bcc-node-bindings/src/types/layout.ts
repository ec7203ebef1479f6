// Memory layouts of BPF table keys/values and perf/ring events, built from
// the type descriptions libbcc produces (see json_map_decl_visitor.cc and
// the perf_submit/ringbuf handling in b_frontend_action.cc upstream).
//
// The ABI is LP64 (x86-64, arm64, ...): libbcc lays types out for the host
// triple, not for the BPF target, so host rules apply (long double is the
// 16-byte x87 format on x86-64, plain char is unsigned on arm64/ppc/s390x).

export interface IntLayout {
  kind: 'int';
  size: 1 | 2 | 4 | 8 | 16;
  signed: boolean;
  cType: string;
}
export interface BoolLayout {
  kind: 'bool';
  size: 1;
  cType: string;
}
export interface FloatLayout {
  kind: 'float';
  size: 4 | 8 | 16;
  cType: string;
}
/** `char[N]`: a C string in a fixed buffer. */
export interface CharArrayLayout {
  kind: 'chararray';
  length: number;
}
export interface ArrayLayout {
  kind: 'array';
  element: Layout;
  length: number;
}
/** Bytes no value lives in: bcc's `__pad_N`/`__pad_end` fields. */
export interface PadLayout {
  kind: 'pad';
  size: number;
}
export interface StructField {
  /** '' for an anonymous struct/union member: its fields read as the parent's. */
  name: string;
  /** Byte offset in the enclosing struct; for a bitfield, of its storage unit. */
  offset: number;
  layout: Layout;
  /** Bitfields only: bit position inside the storage unit (read as `layout`), and width. */
  bitOffset?: number;
  bitWidth?: number;
}
export interface StructLayout {
  kind: 'struct';
  union: boolean;
  /** The C tag, '' when anonymous. */
  name: string;
  fields: StructField[];
  size: number;
  align: number;
}
export type Layout =
  | IntLayout
  | BoolLayout
  | FloatLayout
  | CharArrayLayout
  | ArrayLayout
  | StructLayout
  | PadLayout;

export function layoutSize(l: Layout): number {
  switch (l.kind) {
    case 'int':
    case 'bool':
    case 'float':
    case 'pad':
    case 'struct':
      return l.size;
    case 'chararray':
      return l.length;
    case 'array':
      return l.length * layoutSize(l.element);
  }
}

export function layoutAlign(l: Layout): number {
  switch (l.kind) {
    case 'int':
    case 'bool':
    case 'float':
      return l.size;
    case 'chararray':
    case 'pad':
      return 1;
    case 'array':
      return layoutAlign(l.element);
    case 'struct':
      return l.align;
  }
}

// ---------------------------------------------------------------- C scalars

const UNSIGNED_CHAR_ARCHES = new Set(['arm', 'arm64', 'ppc', 'ppc64', 's390', 's390x', 'riscv64']);
const CHAR_IS_SIGNED = !UNSIGNED_CHAR_ARCHES.has(process.arch);

const int = (size: IntLayout['size'], signed: boolean, cType: string): IntLayout => ({
  kind: 'int',
  size,
  signed,
  cType,
});

// Canonical spellings as clang prints builtin types, which is what libbcc
// emits in table descriptions (typedefs, enums and pointers are resolved
// before printing).
const BUILTINS: Record<string, Layout> = {
  char: int(1, CHAR_IS_SIGNED, 'char'),
  'signed char': int(1, true, 'signed char'),
  'unsigned char': int(1, false, 'unsigned char'),
  short: int(2, true, 'short'),
  'unsigned short': int(2, false, 'unsigned short'),
  int: int(4, true, 'int'),
  'unsigned int': int(4, false, 'unsigned int'),
  long: int(8, true, 'long'),
  'unsigned long': int(8, false, 'unsigned long'),
  'long long': int(8, true, 'long long'),
  'unsigned long long': int(8, false, 'unsigned long long'),
  __int128: int(16, true, '__int128'),
  'unsigned __int128': int(16, false, 'unsigned __int128'),
  _Bool: { kind: 'bool', size: 1, cType: '_Bool' },
  float: { kind: 'float', size: 4, cType: 'float' },
  double: { kind: 'float', size: 8, cType: 'double' },
  'long double': { kind: 'float', size: 16, cType: 'long double' },
  // A typedef in C, so never printed by bcc's C frontend; bcc's Python maps it anyway.
  wchar_t: int(4, true, 'wchar_t'),
};

// Perf/ring event fields are described by the type *as written* in the
// source, so the usual kernel and libc typedefs have to be known here.
const TYPEDEFS: Record<string, string> = {
  bool: '_Bool',
  u8: 'unsigned char', s8: 'signed char', __u8: 'unsigned char', __s8: 'signed char',
  u16: 'unsigned short', s16: 'short', __u16: 'unsigned short', __s16: 'short',
  u32: 'unsigned int', s32: 'int', __u32: 'unsigned int', __s32: 'int',
  u64: 'unsigned long long', s64: 'long long', __u64: 'unsigned long long', __s64: 'long long',
  __le16: 'unsigned short', __be16: 'unsigned short', __le32: 'unsigned int', __be32: 'unsigned int',
  __le64: 'unsigned long long', __be64: 'unsigned long long', __sum16: 'unsigned short', __wsum: 'unsigned int',
  uint8_t: 'unsigned char', int8_t: 'signed char', uint16_t: 'unsigned short', int16_t: 'short',
  uint32_t: 'unsigned int', int32_t: 'int', uint64_t: 'unsigned long', int64_t: 'long',
  u_int8_t: 'unsigned char', u_int16_t: 'unsigned short', u_int32_t: 'unsigned int', u_int64_t: 'unsigned long',
  __int128_t: '__int128', __uint128_t: 'unsigned __int128', u128: 'unsigned __int128', s128: '__int128',
  size_t: 'unsigned long', ssize_t: 'long', uintptr_t: 'unsigned long', intptr_t: 'long', ptrdiff_t: 'long',
  pid_t: 'int', uid_t: 'unsigned int', gid_t: 'unsigned int', kuid_t: 'unsigned int', kgid_t: 'unsigned int',
  dev_t: 'unsigned int', ino_t: 'unsigned long', umode_t: 'unsigned short', mode_t: 'unsigned int',
  nlink_t: 'unsigned int', off_t: 'long', loff_t: 'long long', time64_t: 'long long', ktime_t: 'long long',
  sector_t: 'unsigned long long', blkcnt_t: 'unsigned long long', clockid_t: 'int', gfp_t: 'unsigned int',
  fmode_t: 'unsigned int', key_t: 'int', phys_addr_t: 'unsigned long long', dma_addr_t: 'unsigned long long',
};

const QUALIFIERS = new Set(['const', 'volatile', 'restrict', '__restrict', '__restrict__', '_Atomic']);

/** Canonicalises spellings such as `long unsigned int` or `signed` to clang's. */
function canonicalBuiltin(words: string[]): string | undefined {
  const signs = words.filter((w) => w === 'signed' || w === 'unsigned');
  let rest = words.filter((w) => w !== 'long' && w !== 'signed' && w !== 'unsigned');
  const longs = words.length - signs.length - rest.length;
  const sign = signs[0];
  if (signs.length > 1) return undefined;
  // "int" is implied once anything else says which integer it is.
  if (rest.length > 1 || longs > 0 || sign) rest = rest.filter((w) => w !== 'int');
  if (rest.length > 1) return undefined;
  const base = rest[0];
  const unsigned = sign === 'unsigned' ? 'unsigned ' : '';
  switch (base) {
    case undefined: {
      const core = longs === 0 ? (sign ? 'int' : undefined) : ['long', 'long long'][longs - 1];
      return core && unsigned + core;
    }
    case 'char':
      return longs ? undefined : sign ? `${sign} char` : 'char';
    case 'short':
    case '__int128':
      return longs ? undefined : unsigned + base;
    case 'double':
      return sign ? undefined : ['double', 'long double'][longs];
    default:
      return longs || sign ? undefined : base;
  }
}

function scalarFromName(name: string): Layout | undefined {
  const words = name.trim().split(/\s+/).filter((w) => !QUALIFIERS.has(w));
  if (words.length === 1 && TYPEDEFS[words[0]] !== undefined) return BUILTINS[TYPEDEFS[words[0]]];
  const canonical = canonicalBuiltin(words);
  return canonical === undefined ? undefined : BUILTINS[canonical];
}

function arrayOf(element: Layout, dims: number[]): Layout {
  let l = element;
  for (let i = dims.length - 1; i >= 0; i--) {
    const isChar = l.kind === 'int' && l.cType === 'char';
    l = isChar ? { kind: 'chararray', length: dims[i] } : { kind: 'array', element: l, length: dims[i] };
  }
  return l;
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

// ------------------------------------------------------- struct building

interface MemberSpec {
  name: string;
  layout: Layout;
  bitWidth?: number;
}

type RecordKind = 'struct' | 'struct_packed' | 'union';

/**
 * "struct_packed" is bcc's word for "every byte is accounted for by explicit
 * __pad fields", not for __attribute__((packed)): offsets are a running sum,
 * but the struct keeps its natural alignment for when it is nested in a
 * union or bitfield struct, which bcc does not pad.
 */
function buildRecord(name: string, kind: RecordKind, members: MemberSpec[]): StructLayout {
  const fields: StructField[] = [];
  let bitPos = 0;
  let size = 0;
  let align = 1;
  for (const m of members) {
    const mAlign = layoutAlign(m.layout);
    const mSize = layoutSize(m.layout);
    if (m.bitWidth !== undefined) {
      // SysV: a bitfield never straddles a unit of its declared type. A
      // zero-width one only aligns the position; an unnamed one takes its
      // bits but adds no alignment to the struct.
      const unitBits = 8 * mAlign;
      const start = kind === 'union' ? 0 : bitPos;
      if (m.bitWidth === 0) {
        bitPos = alignUp(start, unitBits);
        continue;
      }
      const fits = Math.floor(start / unitBits) === Math.floor((start + m.bitWidth - 1) / unitBits);
      const pos = fits ? start : alignUp(start, unitBits);
      const unit = Math.floor(pos / unitBits) * mAlign;
      if (m.name !== '') {
        fields.push({ name: m.name, offset: unit, layout: m.layout, bitOffset: pos - unit * 8, bitWidth: m.bitWidth });
        align = Math.max(align, mAlign);
      }
      bitPos = pos + m.bitWidth;
      size = Math.max(size, Math.ceil(bitPos / 8));
      continue;
    }
    const isPad = m.layout.kind === 'pad';
    let offset: number;
    if (kind === 'union') offset = 0;
    else if (kind === 'struct_packed') offset = Math.ceil(bitPos / 8);
    else offset = alignUp(Math.ceil(bitPos / 8), mAlign);
    fields.push({ name: m.name, offset, layout: m.layout });
    if (!isPad) align = Math.max(align, mAlign);
    bitPos = (offset + mSize) * 8;
    size = Math.max(size, offset + mSize);
  }
  if (kind === 'struct_packed') {
    // A size that is not a multiple of the natural alignment can only come
    // from __attribute__((packed)), whose alignment is 1.
    if (size % align !== 0) align = 1;
  } else {
    size = alignUp(size, align);
  }
  return { kind: 'struct', union: kind === 'union', name, fields, size, align };
}

// ---------------------------------------------------- libbcc descriptions

type Json = string | number | Json[] | { [k: string]: Json } | boolean | null;

const PAD_NAME = /^__pad_(\d+|end)$/;

function descError(what: string, desc: Json): Error {
  return new TypeError(`unsupported libbcc type description (${what}): ${JSON.stringify(desc)}`);
}

function isRecordDesc(d: Json): d is [string, Json[], ...Json[]] {
  if (!Array.isArray(d) || typeof d[0] !== 'string' || !Array.isArray(d[1])) return false;
  return d.length === 2 || typeof d[2] === 'string';
}

function recordKind(d: Json[]): RecordKind {
  const k = d.length > 2 ? d[2] : 'struct';
  if (k === 'struct' || k === 'struct_packed' || k === 'union') return k;
  throw descError(`record kind ${JSON.stringify(k)}`, d);
}

function typeFromDesc(d: Json): Layout {
  if (typeof d === 'string') {
    const l = scalarFromName(d);
    if (!l) throw descError(`unknown C type "${d}"`, d);
    return l;
  }
  if (isRecordDesc(d)) return recordFromDesc(d);
  throw descError('not a type', d);
}

function recordFromDesc(d: [string, Json[], ...Json[]]): StructLayout {
  const kind = recordKind(d);
  const members = d[1].map((f): MemberSpec => {
    if (!Array.isArray(f) || typeof f[0] !== 'string') throw descError('field', f);
    // Anonymous struct/union members appear inline as records, not as [name, type].
    if (isRecordDesc(f) && f.length === 3) {
      return { name: '', layout: recordFromDesc(f) };
    }
    const [name, type, extra] = f;
    if (f.length === 2) return { name, layout: typeFromDesc(type) };
    if (f.length === 3 && typeof extra === 'number') return { name, layout: typeFromDesc(type), bitWidth: extra };
    if (f.length === 3 && Array.isArray(extra) && extra.every((n) => typeof n === 'number' && n >= 0)) {
      const dims = extra as number[];
      if (kind === 'struct_packed' && PAD_NAME.test(name) && type === 'char' && dims.length === 1) {
        return { name, layout: { kind: 'pad', size: dims[0] } };
      }
      return { name, layout: arrayOf(typeFromDesc(type), dims) };
    }
    throw descError('field', f);
  });
  return buildRecord(d[0], kind, members);
}

/** Thrown when a description cannot be the type libbcc sized the table with. */
export class LayoutSizeMismatchError extends Error {
  constructor(
    readonly describedSize: number,
    readonly actualSize: number,
    readonly description: string,
  ) {
    super(
      `libbcc's type description is ${describedSize} bytes but the table's type is ${actualSize}: ` +
        'bcc drops inner dimensions of multi-dimensional arrays and the dimensions of ' +
        'typedef-ed array fields; use one-dimensional arrays or supply the layout yourself ' +
        `(description: ${description})`,
    );
    this.name = 'LayoutSizeMismatchError';
  }
}

/**
 * Parses a `bpf_table_key_desc`/`bpf_table_leaf_desc` string. Pass the
 * table's key/leaf size as `expectedSize` to have lossy descriptions caught:
 * a bare scalar that is a whole multiple smaller is a typedef-ed array (the
 * only way a table type gets described as an undersized scalar) and is
 * widened; any other mismatch throws LayoutSizeMismatchError. A size of 0
 * (what libbcc reports for ring buffers) is not checked.
 */
export function parseTypeDescription(desc: string, expectedSize?: number): Layout {
  if (desc.trim() === '') throw new TypeError('empty type description (queue/stack maps have no key)');
  let json: Json;
  try {
    json = JSON.parse(desc) as Json;
  } catch {
    throw new TypeError(`libbcc type description is not JSON: ${desc}`);
  }
  const layout = typeFromDesc(json);
  // Ring buffers report 0 for key and leaf while describing them as int.
  if (expectedSize === undefined || expectedSize === 0) return layout;
  const size = layoutSize(layout);
  if (size === expectedSize) return layout;
  if (typeof json === 'string' && size > 0 && expectedSize > size && expectedSize % size === 0) {
    return arrayOf(layout, [expectedSize / size]);
  }
  throw new LayoutSizeMismatchError(size, expectedSize, desc);
}

// ------------------------------------------------------ perf/ring events

export interface PerfEventOptions {
  /**
   * Layouts for type names the strings mention but cannot define, such as
   * `struct inner_t` or a project typedef; see collectNamedTypes.
   */
  types?: Record<string, Layout>;
}

const POINTER: IntLayout = int(8, false, 'void *');
const ENUM: IntLayout = int(4, true, 'enum');

function eventFieldType(type: string, types: Record<string, Layout>): Layout | undefined {
  const spelled = type.trim().replace(/\s+/g, ' ');
  // Pointers to arrays and functions, "char (*)[16]", are still one pointer.
  if (spelled.includes('(')) return { ...POINTER, cType: spelled };
  const m = /^(.*?) ?((?:\[\d+\] ?)+)$/.exec(spelled);
  const base = m ? m[1] : spelled;
  const dims = m ? [...m[2].matchAll(/\[(\d+)\]/g)].map((d) => Number(d[1])) : [];
  const unqualified = base
    .split(' ')
    .filter((w) => !QUALIFIERS.has(w))
    .join(' ');
  let element: Layout | undefined = types[base] ?? types[unqualified];
  if (!element && base.includes('*')) element = { ...POINTER, cType: base };
  // The underlying type of an enum is not in the string; bcc's Python
  // assumes int too.
  if (!element && unqualified.startsWith('enum ')) element = { ...ENUM, cType: unqualified };
  element ??= scalarFromName(unqualified);
  return element && arrayOf(element, dims);
}

/**
 * Builds the event struct from `bpf_perf_event_field` strings ("pid#u32",
 * "comm#char[16]"). They carry no offsets, so natural C alignment is applied,
 * with trailing padding to the struct's alignment as sizeof() has. They carry
 * no bitfield widths either: events with bitfields cannot be described.
 */
export function parsePerfEventFields(fields: string[], name = '', options: PerfEventOptions = {}): StructLayout {
  const types = options.types ?? {};
  const members = fields.map((f): MemberSpec => {
    const hash = f.indexOf('#');
    if (hash < 0) throw new TypeError(`perf event field "${f}" is not "name#type"`);
    const fieldName = f.slice(0, hash);
    const type = f.slice(hash + 1);
    const layout = eventFieldType(type, types);
    if (!layout) {
      throw new TypeError(
        `unknown type "${type}" for field "${fieldName}" of event "${name}"; pass its layout in options.types`,
      );
    }
    return { name: fieldName, layout };
  });
  return buildRecord(name, 'struct', members);
}

/**
 * Named structs and unions found in layouts (e.g. of every table of a
 * module), keyed "struct NAME"/"union NAME" for PerfEventOptions.types.
 */
export function collectNamedTypes(layouts: Iterable<Layout>): Record<string, Layout> {
  const out: Record<string, Layout> = {};
  const visit = (l: Layout): void => {
    if (l.kind === 'array') visit(l.element);
    if (l.kind !== 'struct') return;
    if (l.name !== '') out[`${l.union ? 'union' : 'struct'} ${l.name}`] ??= l;
    for (const f of l.fields) visit(f.layout);
  };
  for (const l of layouts) visit(l);
  return out;
}
