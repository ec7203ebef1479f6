// Decoding and encoding of table keys/values and events described by a Layout.
//
// Value mapping:
//   integers up to 32 bits -> number; 64- and 128-bit -> bigint (pointers
//   are 64-bit integers, so bigint); _Bool -> boolean; float/double/long
//   double -> number; char[N] -> string; other arrays -> arrays;
//   structs/unions -> plain objects without padding, with the members of
//   anonymous structs/unions merged in, as C lets them be accessed.
//
// char[N] reads up to the first NUL (all N bytes when there is none) as
// UTF-8; bytes that are not UTF-8 become U+FFFD, so such strings are lossy.
// With { rawStrings: true } the same bytes come back as a Buffer (a copy),
// which encode() writes back byte for byte.
import { endianness } from 'node:os';
import {
  layoutSize,
  type BoolLayout,
  type FloatLayout,
  type IntLayout,
  type Layout,
  type StructField,
  type StructLayout,
} from './layout.ts';

export interface DecodeOptions {
  /** Return char arrays as Buffers holding the bytes before the first NUL. */
  rawStrings?: boolean;
}
export type Decoder = (buf: Buffer, offset?: number) => unknown;

type Reader = (buf: Buffer, off: number) => unknown;

const LE = endianness() === 'LE';
const BIG_ENDIAN_BITFIELDS = 'bitfields are only supported on little-endian hosts';
// libbcc lays types out for the host, where long double is x87 only on x86.
const X87 = process.arch === 'x64' || process.arch === 'ia32';

// ------------------------------------------------------------- decoding

function intReader(l: IntLayout): Reader {
  const s = l.signed;
  switch (l.size) {
    case 1:
      return s ? (b, o) => b.readInt8(o) : (b, o) => b[o];
    case 2:
      if (LE) return s ? (b, o) => b.readInt16LE(o) : (b, o) => b.readUInt16LE(o);
      return s ? (b, o) => b.readInt16BE(o) : (b, o) => b.readUInt16BE(o);
    case 4:
      if (LE) return s ? (b, o) => b.readInt32LE(o) : (b, o) => b.readUInt32LE(o);
      return s ? (b, o) => b.readInt32BE(o) : (b, o) => b.readUInt32BE(o);
    case 8:
      if (LE) return s ? (b, o) => b.readBigInt64LE(o) : (b, o) => b.readBigUInt64LE(o);
      return s ? (b, o) => b.readBigInt64BE(o) : (b, o) => b.readBigUInt64BE(o);
    case 16: {
      const low = intReader({ ...l, size: 8, signed: false }) as (b: Buffer, o: number) => bigint;
      const high = intReader({ ...l, size: 8 }) as (b: Buffer, o: number) => bigint;
      const [lo, hi] = LE ? [0, 8] : [8, 0];
      return (b, o) => (high(b, o + hi) << 64n) | low(b, o + lo);
    }
  }
}

/** Unsigned integer of any width in host byte order, for bitfield storage units. */
function readBig(b: Buffer, o: number, size: number): bigint {
  let v = 0n;
  for (let i = 0; i < size; i++) v = (v << 8n) | BigInt(b[LE ? o + size - 1 - i : o + i]);
  return v;
}

function writeBig(b: Buffer, o: number, size: number, v: bigint): void {
  let u = BigInt.asUintN(size * 8, v);
  for (let i = 0; i < size; i++, u >>= 8n) b[LE ? o + i : o + size - 1 - i] = Number(u & 0xffn);
}

function floatReader(l: FloatLayout): Reader {
  if (l.size === 4) return LE ? (b, o) => b.readFloatLE(o) : (b, o) => b.readFloatBE(o);
  if (l.size === 8) return LE ? (b, o) => b.readDoubleLE(o) : (b, o) => b.readDoubleBE(o);
  if (!X87) throw new TypeError(`long double is only supported on x86 (x87 format), not ${process.arch}`);
  return readX87;
}

function readX87(b: Buffer, o: number): number {
  const mantissa = b.readBigUInt64LE(o);
  const signExp = b.readUInt16LE(o + 8);
  const sign = signExp & 0x8000 ? -1 : 1;
  const exp = signExp & 0x7fff;
  if (exp === 0x7fff) return BigInt.asUintN(63, mantissa) === 0n ? sign * Infinity : NaN;
  // Two scalings so that neither factor underflows before the product.
  return sign * Number(mantissa) * 2 ** -63 * 2 ** ((exp || 1) - 16383);
}

function charArrayReader(length: number, raw: boolean): Reader {
  if (raw) {
    return (b, o) => {
      const end = stringEnd(b, o, length);
      const out = Buffer.allocUnsafe(end - o);
      b.copy(out, 0, o, end);
      return out;
    };
  }
  // Event streams repeat the same names (comm, paths) over and over; keeping
  // the last string saves making a new one, which costs more than comparing.
  const last = Buffer.alloc(length);
  let lastLength = -1;
  let lastString = '';
  return (b, o) => {
    const lim = o + length;
    let same = true;
    let end = o;
    for (; end < lim; end++) {
      const c = b[end];
      if (c === 0) break;
      if (same && c !== last[end - o]) same = false;
    }
    if (same && end - o === lastLength) return lastString;
    lastString = b.toString('utf8', o, end);
    lastLength = end - o;
    b.copy(last, 0, o, end);
    return lastString;
  };
}

function stringEnd(b: Buffer, o: number, length: number): number {
  const lim = o + length;
  let end = o;
  while (end < lim && b[end] !== 0) end++;
  return end;
}

function bitfieldReader(f: StructField): Reader {
  const l = f.layout as IntLayout | BoolLayout;
  const shift = f.bitOffset ?? 0;
  const width = f.bitWidth ?? 0;
  const signed = l.kind === 'int' && l.signed;
  if (!LE) throw new TypeError(BIG_ENDIAN_BITFIELDS);
  if (l.size <= 4) {
    const unit = intReader({ kind: 'int', size: l.size, signed: false, cType: '' }) as (b: Buffer, o: number) => number;
    if (l.kind === 'bool') return (b, o) => ((unit(b, o) >>> shift) & 1) !== 0;
    if (signed) return (b, o) => (unit(b, o) << (32 - shift - width)) >> (32 - width);
    const mask = width === 32 ? -1 : (1 << width) - 1;
    return (b, o) => ((unit(b, o) >>> shift) & mask) >>> 0;
  }
  const s = BigInt(shift);
  return signed
    ? (b, o) => BigInt.asIntN(width, readBig(b, o, l.size) >> s)
    : (b, o) => BigInt.asUintN(width, readBig(b, o, l.size) >> s);
}

interface FlatField {
  name: string;
  offset: number;
  read: Reader;
}

/** Named fields with absolute offsets, anonymous members' fields merged in. */
function flatFields(l: StructLayout, raw: boolean, base: number, out: FlatField[] = []): FlatField[] {
  for (const f of l.fields) {
    if (f.layout.kind === 'pad') continue;
    if (f.name === '') {
      if (f.layout.kind === 'struct') flatFields(f.layout, raw, base + f.offset, out);
      continue;
    }
    const read = f.bitWidth !== undefined ? bitfieldReader(f) : reader(f.layout, raw);
    out.push({ name: f.name, offset: base + f.offset, read });
  }
  return out;
}

function structReader(l: StructLayout, raw: boolean): Reader {
  const fields = flatFields(l, raw, 0);
  const reads = fields.map((f) => f.read);
  // An object literal in generated code gets a single hidden class and no
  // keyed stores: about twice the events per second of filling {} in a loop.
  // Names are C identifiers, quoted anyway; a quoted "__proto__" would set
  // the prototype, so that one is computed.
  const props = fields.map((f, i) => {
    const key = f.name === '__proto__' ? '["__proto__"]' : JSON.stringify(f.name);
    return `${key}: r[${i}](b, o + ${f.offset})`;
  });
  try {
    return new Function('r', `return (b, o) => ({ ${props.join(', ')} });`)(reads) as Reader;
  } catch {
    // Code generation from strings is disallowed in this process.
    const names = fields.map((f) => f.name);
    const offsets = fields.map((f) => f.offset);
    const n = fields.length;
    return (b, o) => {
      const into: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) into[names[i]] = reads[i](b, o + offsets[i]);
      return into;
    };
  }
}

function reader(l: Layout, raw: boolean): Reader {
  switch (l.kind) {
    case 'int':
      return intReader(l);
    case 'bool':
      return (b, o) => b[o] !== 0;
    case 'float':
      return floatReader(l);
    case 'chararray':
      return charArrayReader(l.length, raw);
    case 'pad':
      return () => undefined;
    case 'struct':
      return structReader(l, raw);
    case 'array': {
      const el = reader(l.element, raw);
      const step = layoutSize(l.element);
      const n = l.length;
      return (b, o) => {
        const a = new Array<unknown>(n);
        for (let i = 0; i < n; i++) a[i] = el(b, o + i * step);
        return a;
      };
    }
  }
}

const cache = { plain: new WeakMap<Layout, Decoder>(), raw: new WeakMap<Layout, Decoder>() };

/**
 * The layout walked once into a tree of closures (and, for structs, a
 * generated object literal); calls only read and allocate the result.
 * Bounds are checked once per call, against the whole layout.
 */
export function makeDecoder(layout: Layout, options: DecodeOptions = {}): Decoder {
  const raw = options.rawStrings === true;
  const memo = raw ? cache.raw : cache.plain;
  const hit = memo.get(layout);
  if (hit) return hit;
  const read = reader(layout, raw);
  const size = layoutSize(layout);
  const decoder: Decoder = (buf, offset = 0) => {
    if (offset < 0 || offset + size > buf.length) {
      throw new RangeError(`need ${size} bytes at offset ${offset}, buffer has ${buf.length}`);
    }
    return read(buf, offset);
  };
  memo.set(layout, decoder);
  return decoder;
}

export function decode(layout: Layout, buf: Buffer, offset = 0, options: DecodeOptions = {}): unknown {
  return makeDecoder(layout, options)(buf, offset);
}

// ------------------------------------------------------------- encoding

const describe = (path: string): string => (path === '' ? 'value' : `field "${path}"`);

function toInteger(v: unknown, path: string): bigint | number {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw new TypeError(`${describe(path)}: expected an integer (number or bigint), got ${String(v)}`);
}

function checkRange(v: bigint | number, bits: number, signed: boolean, path: string, cType: string): void {
  const lo = signed ? -(2n ** BigInt(bits - 1)) : 0n;
  const hi = signed ? 2n ** BigInt(bits - 1) - 1n : 2n ** BigInt(bits) - 1n;
  const big = BigInt(v);
  if (big < lo || big > hi) {
    throw new RangeError(`${describe(path)}: ${big} is out of range for ${cType} (${lo}..${hi})`);
  }
}

function writeInt(l: IntLayout, v: unknown, b: Buffer, o: number, path: string): void {
  const n = toInteger(v, path);
  checkRange(n, l.size * 8, l.signed, path, l.cType);
  if (l.size > 4) return writeBig(b, o, l.size, BigInt(n));
  const num = Number(n);
  if (LE) l.signed ? b.writeIntLE(num, o, l.size) : b.writeUIntLE(num, o, l.size);
  else l.signed ? b.writeIntBE(num, o, l.size) : b.writeUIntBE(num, o, l.size);
}

function writeFloat(l: FloatLayout, v: unknown, b: Buffer, o: number, path: string): void {
  if (typeof v !== 'number') throw new TypeError(`${describe(path)}: expected a number, got ${String(v)}`);
  if (l.size === 4) {
    if (Number.isFinite(v) && !Number.isFinite(Math.fround(v))) {
      throw new RangeError(`${describe(path)}: ${v} is out of range for float`);
    }
    LE ? b.writeFloatLE(v, o) : b.writeFloatBE(v, o);
  } else if (l.size === 8) {
    LE ? b.writeDoubleLE(v, o) : b.writeDoubleBE(v, o);
  } else {
    floatReader(l); // throws where long double is not x87
    writeX87(v, b, o);
  }
}

function writeX87(v: number, b: Buffer, o: number): void {
  const d = Buffer.allocUnsafe(8);
  d.writeDoubleLE(v, 0);
  const bits = d.readBigUInt64LE(0);
  const sign = Number(bits >> 63n) << 15;
  const exp = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  let mantissa: bigint;
  let e: number;
  if (exp === 0x7ff) [e, mantissa] = [0x7fff, frac === 0n ? 1n << 63n : 3n << 62n];
  else if (exp === 0 && frac === 0n) [e, mantissa] = [0, 0n];
  else if (exp === 0) {
    // Double subnormals are normal in x87's wider exponent range.
    const top = frac.toString(2).length - 1;
    [e, mantissa] = [top - 1074 + 16383, frac << BigInt(63 - top)];
  } else [e, mantissa] = [exp - 1023 + 16383, (1n << 63n) | (frac << 11n)];
  b.writeBigUInt64LE(mantissa, o);
  b.writeUInt16LE(sign | e, o + 8);
}

function writeCharArray(length: number, v: unknown, b: Buffer, o: number, path: string): void {
  if (v instanceof Uint8Array) {
    if (v.length > length) throw new RangeError(`${describe(path)}: ${v.length} bytes do not fit in char[${length}]`);
    b.set(v, o);
    return;
  }
  if (typeof v !== 'string') throw new TypeError(`${describe(path)}: expected a string or Buffer, got ${String(v)}`);
  if (length === 0) return;
  const bytes = Buffer.from(v, 'utf8');
  let n = Math.min(bytes.length, length - 1);
  // Cut on a character boundary so the stored prefix stays valid UTF-8.
  if (n < bytes.length) while (n > 0 && (bytes[n] & 0xc0) === 0x80) n--;
  bytes.copy(b, o, 0, n);
}

function writeBitfield(f: StructField, v: unknown, b: Buffer, o: number, path: string): void {
  const l = f.layout as IntLayout | BoolLayout;
  const width = f.bitWidth ?? 0;
  const shift = BigInt(f.bitOffset ?? 0);
  const n = toInteger(v, path);
  checkRange(n, width, l.kind === 'int' && l.signed, path, `${l.cType}:${width}`);
  if (!LE) throw new TypeError(BIG_ENDIAN_BITFIELDS);
  const mask = ((1n << BigInt(width)) - 1n) << shift;
  const unit = readBig(b, o, l.size);
  writeBig(b, o, l.size, (unit & ~mask) | ((BigInt.asUintN(width, BigInt(n)) << shift) & mask));
}

const fieldNames = new WeakMap<StructLayout, Set<string>>();

/** Keys a value for `l` may have: its named fields and its anonymous members'. */
function namesOf(l: StructLayout): Set<string> {
  let names = fieldNames.get(l);
  if (names) return names;
  names = new Set();
  for (const f of l.fields) {
    if (f.name !== '' && f.layout.kind !== 'pad') names.add(f.name);
    else if (f.name === '' && f.layout.kind === 'struct') for (const n of namesOf(f.layout)) names.add(n);
  }
  fieldNames.set(l, names);
  return names;
}

function isPresent(f: StructField, obj: Record<string, unknown>): boolean {
  if (f.name !== '') return obj[f.name] !== undefined && obj[f.name] !== null;
  if (f.layout.kind !== 'struct') return false;
  for (const n of namesOf(f.layout)) if (obj[n] !== undefined && obj[n] !== null) return true;
  return false;
}

/**
 * A union holds one member, so one is written: the largest present, the
 * first declared among equals. A decoded union has every member, and writing
 * them all would let a later, lossy one (a char[] string) have the last word.
 */
function unionMember(l: StructLayout, obj: Record<string, unknown>): StructField[] {
  let chosen: StructField | undefined;
  for (const f of l.fields) {
    if (isPresent(f, obj) && (!chosen || layoutSize(f.layout) > layoutSize(chosen.layout))) chosen = f;
  }
  return chosen ? [chosen] : [];
}

function writeStruct(l: StructLayout, v: unknown, b: Buffer, o: number, path: string, nested: boolean): void {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new TypeError(`${describe(path)}: expected an object for ${l.union ? 'union' : 'struct'} ${l.name}`);
  }
  const obj = v as Record<string, unknown>;
  if (!nested) {
    const names = namesOf(l);
    for (const k of Object.keys(obj)) {
      if (!names.has(k)) throw new TypeError(`${describe(path)}: struct ${l.name} has no field "${k}"`);
    }
  }
  for (const f of l.union ? unionMember(l, obj) : l.fields) {
    if (f.layout.kind === 'pad') continue;
    if (f.name === '') {
      if (f.layout.kind === 'struct') writeStruct(f.layout, obj, b, o + f.offset, path, true);
      continue;
    }
    const fv = obj[f.name];
    if (fv === undefined || fv === null) continue;
    const fpath = path === '' ? f.name : `${path}.${f.name}`;
    if (f.bitWidth !== undefined) writeBitfield(f, fv, b, o + f.offset, fpath);
    else write(f.layout, fv, b, o + f.offset, fpath);
  }
}

function writeArray(l: Extract<Layout, { kind: 'array' }>, v: unknown, b: Buffer, o: number, path: string): void {
  if (typeof v !== 'object' || v === null || typeof (v as ArrayLike<unknown>).length !== 'number') {
    throw new TypeError(`${describe(path)}: expected an array`);
  }
  const a = v as ArrayLike<unknown>;
  if (a.length > l.length) throw new RangeError(`${describe(path)}: ${a.length} elements do not fit in [${l.length}]`);
  const step = layoutSize(l.element);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== undefined && a[i] !== null) write(l.element, a[i], b, o + i * step, `${path}[${i}]`);
  }
}

function write(l: Layout, v: unknown, b: Buffer, o: number, path: string): void {
  switch (l.kind) {
    case 'int':
      return writeInt(l, v, b, o, path);
    case 'bool': {
      const n = toInteger(v, path);
      checkRange(n, 1, false, path, l.cType);
      b[o] = Number(n);
      return;
    }
    case 'float':
      return writeFloat(l, v, b, o, path);
    case 'chararray':
      return writeCharArray(l.length, v, b, o, path);
    case 'array':
      return writeArray(l, v, b, o, path);
    case 'struct':
      return writeStruct(l, v, b, o, path, false);
    case 'pad':
      return;
  }
}

/**
 * Writes `value` over the layout's bytes at `offset`, which are zeroed first:
 * padding and missing fields/elements read back as zero. Integers accept
 * number or bigint (and booleans), range-checked with a RangeError naming
 * the field. Strings longer than char[N] keep N-1 bytes and a NUL; Buffers
 * are copied as they are. Of a union's members only the largest one present
 * is written. Keys a struct does not have are a TypeError, to catch
 * misspellings.
 */
export function encode(layout: Layout, value: unknown, buf: Buffer, offset = 0): void {
  const size = layoutSize(layout);
  if (offset < 0 || offset + size > buf.length) {
    throw new RangeError(`need ${size} bytes at offset ${offset}, buffer has ${buf.length}`);
  }
  buf.fill(0, offset, offset + size);
  write(layout, value, buf, offset, '');
}
