// BPF maps as typed tables. Keys and values are decoded from, and encoded to, the layouts libbcc
// describes for each table (bpf_table_key_desc / bpf_table_leaf_desc), so `table.get(3)` and
// `for (const [k, v] of table.entries())` work with plain numbers, bigints, strings and objects.
// Whole-table reads use the kernel's batch operations where they exist: 7–10× fewer syscalls.
import koffi from 'koffi';
import { libbpf } from './ffi/libbpf.ts';
import type { Fn } from './ffi/libbcc.ts';
import { BpfError, ENOENT, errnoText } from './errors.ts';
import { MAP_TYPE, batchOpsSupported } from './features.ts';
import { possibleCpus } from './kernel.ts';
import { encode, makeDecoder, type Layout } from './types/index.ts';
import {
  formatLinearHistogram, formatLinearSections, formatLog2Histogram, formatLog2Sections, histogramJson,
  type Count, type HistogramSection, type JsonHistogram, type SectionLabel,
} from './histogram.ts';

export interface TableInfo {
  name: string;
  id: number;
  fd: number;
  type: number;
  maxEntries: number;
  flags: number;
  keySize: number;
  leafSize: number;
  keyLayout: Layout;
  leafLayout: Layout;
}

export interface HistogramPrintOptions {
  /** For struct keys: the label printed before each section ("disk", "flags"). */
  sectionHeader?: string;
  /** Turns a section's key field into its label (e.g. a dev_t into "sda"). */
  sectionPrint?: (label: SectionLabel) => string;
  /** Orders sections; bcc prints them in map order unless given one. */
  sectionSort?: (labels: SectionLabel[]) => SectionLabel[];
  stripLeadingZero?: boolean;
}

const BPF_ANY = 0;
/** Entries per batch call: few syscalls for big maps, a bounded buffer (kept per table). */
const BATCH_CHUNK_ENTRIES = 4096;

/** A map of any kind; subclasses add what their kind can do. */
export class Table<K = unknown, V = unknown> {
  readonly info: TableInfo;
  protected readonly valueSize: number;
  protected readonly keyBuf: Buffer;
  protected readonly valueBuf: Buffer;
  private batchBuffers?: { keys: Buffer; values: Buffer; token: Buffer; count: Buffer };
  private readonly decodeKeyFast: (buf: Buffer, offset?: number) => unknown;
  private readonly decodeLeafFast: (buf: Buffer, offset?: number) => unknown;

  constructor(info: TableInfo) {
    this.info = info;
    this.valueSize = this.storedValueSize();
    this.keyBuf = Buffer.alloc(Math.max(info.keySize, 8));
    this.valueBuf = Buffer.alloc(this.valueSize);
    this.decodeKeyFast = makeDecoder(info.keyLayout);
    this.decodeLeafFast = makeDecoder(info.leafLayout);
  }

  get name(): string { return this.info.name; }
  get fd(): number { return this.info.fd; }

  /** Bytes the kernel stores per value (per-CPU tables store one aligned copy per possible CPU). */
  protected storedValueSize(): number {
    return this.info.leafSize;
  }

  decodeKey(buf: Buffer, offset = 0): K {
    return this.decodeKeyFast(buf, offset) as K;
  }

  protected decodeLeaf(buf: Buffer, offset = 0): unknown {
    return this.decodeLeafFast(buf, offset);
  }

  /** A stored value (all CPUs' copies for per-CPU tables) → what get() returns. */
  protected decodeValue(buf: Buffer, offset = 0): V {
    return this.decodeLeaf(buf, offset) as V;
  }

  encodeKey(key: K | Buffer, into: Buffer = Buffer.alloc(this.info.keySize)): Buffer {
    if (Buffer.isBuffer(key)) return key;
    into.fill(0, 0, this.info.keySize);
    encode(this.info.keyLayout, key, into, 0);
    return into;
  }

  protected encodeValue(value: V | Buffer): Buffer {
    if (Buffer.isBuffer(value)) return value;
    const buf = Buffer.alloc(this.valueSize);
    encode(this.info.leafLayout, value, buf, 0);
    return buf;
  }

  get(key: K | Buffer): V | undefined {
    const k = this.encodeKey(key, this.keyBuf);
    if ((libbpf().map_lookup_elem(this.fd, k, this.valueBuf) as number) < 0) {
      const errno = koffi.errno();
      if (errno === ENOENT) return undefined;
      throw mapError(this.name, 'lookup', errno);
    }
    return this.decodeValue(this.valueBuf);
  }

  set(key: K | Buffer, value: V | Buffer, flags = BPF_ANY): void {
    const k = this.encodeKey(key, this.keyBuf);
    if ((libbpf().map_update_elem(this.fd, k, this.encodeValue(value), flags) as number) < 0) {
      throw mapError(this.name, 'update', koffi.errno());
    }
  }

  /** Returns whether the key was there. */
  delete(key: K | Buffer): boolean {
    const k = this.encodeKey(key, this.keyBuf);
    if ((libbpf().map_delete_elem(this.fd, k) as number) < 0) {
      const errno = koffi.errno();
      if (errno === ENOENT) return false;
      throw mapError(this.name, 'delete', errno);
    }
    return true;
  }

  /** Every entry, decoded. */
  entries(): Array<[K, V]> {
    const out: Array<[K, V]> = [];
    if (batchOpsSupported() && this.forEachBatch(libbpf().map_lookup_batch, this.collectInto(out))) return out;
    const raw = this.iterateRead(true);
    this.collectInto(out)(raw.keys, raw.values, raw.count);
    return out;
  }

  private collectInto(out: Array<[K, V]>): (keys: Buffer, values: Buffer, n: number) => void {
    return (keys, values, n) => {
      for (let i = 0; i < n; i++) out.push([this.decodeKey(keys, i * this.info.keySize), this.decodeValue(values, i * this.valueSize)]);
    };
  }

  keys(): K[] {
    return this.entries().map(([k]) => k);
  }

  values(): V[] {
    return this.entries().map(([, v]) => v);
  }

  [Symbol.iterator](): Iterator<[K, V]> {
    return this.entries()[Symbol.iterator]();
  }

  /** Removes every entry (arrays: zeroes every value, since array entries cannot be deleted). */
  clear(): void {
    const { keys, count } = this.readAll(false);
    if (count > 0 && batchOpsSupported()) {
      const n = Buffer.alloc(4);
      n.writeUInt32LE(count);
      if ((libbpf().map_delete_batch(this.fd, keys, n, null) as number) >= 0 || koffi.errno() === ENOENT) return;
    }
    for (let i = 0; i < count; i++) {
      libbpf().map_delete_elem(this.fd, keys.subarray(i * this.info.keySize, (i + 1) * this.info.keySize));
    }
  }

  /**
   * Reads and removes every entry in one pass (bcc's items_lookup_and_delete_batch), so counts
   * that arrive between the read and the delete are not lost. Falls back to read-then-delete.
   */
  drain(): Array<[K, V]> {
    const out: Array<[K, V]> = [];
    if (batchOpsSupported() && this.forEachBatch(libbpf().map_lookup_and_delete_batch, this.collectInto(out))) return out;
    const entries = this.entries();
    for (const [k] of entries) this.delete(k);
    return entries;
  }

  /** Raw keys and values, packed (keySize and storedValueSize strides). */
  readAll(withValues = true): { keys: Buffer; values: Buffer; count: number } {
    if (withValues && batchOpsSupported()) {
      const keyChunks: Buffer[] = [];
      const valueChunks: Buffer[] = [];
      let count = 0;
      const copy = (keys: Buffer, values: Buffer, n: number) => {
        keyChunks.push(Buffer.from(keys.subarray(0, n * this.info.keySize)));
        valueChunks.push(Buffer.from(values.subarray(0, n * this.valueSize)));
        count += n;
      };
      if (this.forEachBatch(libbpf().map_lookup_batch, copy)) {
        return { keys: Buffer.concat(keyChunks), values: Buffer.concat(valueChunks), count };
      }
    }
    return this.iterateRead(withValues);
  }

  /**
   * Runs a batch call (lookup, or lookup-and-delete) over the whole map, handing each chunk the
   * kernel returns to `each` before the next call reuses the buffers. The buffers hold a chunk,
   * not the whole map, and live as long as the table: sized for max_entries and allocated per
   * read, they made tcptop's 64k-flow table cost 4 MB of fresh memory every interval, which V8
   * only gave back at its next full GC. False when batch calls do not serve this map type.
   */
  private forEachBatch(call: Fn, each: (keys: Buffer, values: Buffer, n: number) => void): boolean {
    const { keySize, maxEntries } = this.info;
    const chunk = Math.min(maxEntries, BATCH_CHUNK_ENTRIES);
    if (!this.batchBuffers || this.batchBuffers.keys.length < keySize * chunk) {
      this.batchBuffers = {
        keys: Buffer.allocUnsafe(keySize * chunk),
        values: Buffer.allocUnsafe(this.valueSize * chunk),
        // The resume token is a u32 for hash maps but key-sized for arrays.
        token: Buffer.alloc(Math.max(8, keySize)),
        count: Buffer.alloc(4),
      };
    }
    const { keys, values, token, count } = this.batchBuffers;
    let total = 0;
    for (let first = true; total < maxEntries; first = false) {
      count.writeUInt32LE(chunk);
      const ret = call(this.fd, first ? null : token, token, keys, values, count, null) as number;
      const errno = koffi.errno();
      const n = ret < 0 && errno !== ENOENT ? 0 : count.readUInt32LE();
      if (n > 0) each(keys, values, n);
      total += n;
      if (ret < 0) {
        if (errno === ENOENT) break;
        if (first) return false; // not supported for this map type: iterate instead
        throw mapError(this.name, 'batch lookup', errno);
      }
      if (n === 0) break;
    }
    return true;
  }

  private iterateRead(withValues: boolean): { keys: Buffer; values: Buffer; count: number } {
    const bpf = libbpf();
    const { keySize } = this.info;
    const keyChunks: Buffer[] = [];
    const valueChunks: Buffer[] = [];
    // A NULL key asks for the first key.
    let key = Buffer.alloc(keySize);
    let ret = bpf.map_get_next_key(this.fd, null, key) as number;
    while (ret >= 0) {
      const value = Buffer.alloc(this.valueSize);
      if (!withValues || (bpf.map_lookup_elem(this.fd, key, value) as number) >= 0) {
        keyChunks.push(key);
        valueChunks.push(value);
      }
      const next = Buffer.alloc(keySize);
      ret = bpf.map_get_next_key(this.fd, key, next) as number;
      key = next;
    }
    return { keys: Buffer.concat(keyChunks), values: Buffer.concat(valueChunks), count: keyChunks.length };
  }

  /** A histogram table's contents as data: slots, or sections for struct keys (label field first, slot second). */
  histogram(opts: HistogramPrintOptions = {}): { slots: Count[] } | { sections: HistogramSection[] } {
    return histogramData(this as Table, opts);
  }

  /** bcc's print_log2_hist, as text. */
  log2HistText(valType = 'value', opts: HistogramPrintOptions = {}): string {
    return log2HistogramText(this as Table, valType, opts);
  }

  /** bcc's print_log2_hist: writes the histogram to stdout. */
  printLog2Hist(valType = 'value', opts: HistogramPrintOptions = {}): void {
    process.stdout.write(this.log2HistText(valType, opts));
  }

  linearHistText(valType = 'value', opts: HistogramPrintOptions = {}): string {
    return linearHistogramText(this as Table, valType, opts);
  }

  printLinearHist(valType = 'value', opts: HistogramPrintOptions = {}): void {
    process.stdout.write(this.linearHistText(valType, opts));
  }

  /** bcc's print_json_hist shape, one object per section, as real JSON-ready objects. */
  histogramJson(valType = 'value', kind: 'log2' | 'linear' = 'log2', opts: HistogramPrintOptions & { ts?: string | Date } = {}): JsonHistogram[] {
    return histogramJsonObjects(this as Table, valType, kind, opts);
  }

  close(): void { /* maps are freed with the module; buffers override this */ }
}

/** HASH and LRU_HASH. */
export class HashTable<K = unknown, V = unknown> extends Table<K, V> {}

/** ARRAY: keys are indexes; entries always exist. */
export class ArrayTable<V = unknown> extends Table<number, V> {
  override clear(): void {
    const zero = Buffer.alloc(this.valueSize);
    for (let i = 0; i < this.info.maxEntries; i++) this.set(i, zero);
  }

  override drain(): Array<[number, V]> {
    const entries = this.entries();
    this.clear();
    return entries;
  }

  /** The histogram slots when this array is a BPF_HISTOGRAM with an integer key. */
  slots(): Count[] {
    const out: Count[] = new Array(this.info.maxEntries).fill(0);
    for (const [k, v] of this.entries()) out[k] = toCount(v);
    return out;
  }
}

/** PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH: a value per possible CPU. */
export class PerCpuTable<K = unknown, V = unknown> extends Table<K, V[]> {
  private cpus = possibleCpus().length;

  protected override storedValueSize(): number {
    return align8(this.info.leafSize) * possibleCpus().length;
  }

  protected override decodeValue(buf: Buffer, offset = 0): V[] {
    const stride = align8(this.info.leafSize);
    const out: V[] = [];
    for (let cpu = 0; cpu < this.cpus; cpu++) out.push(this.decodeLeaf(buf, offset + cpu * stride) as V);
    return out;
  }

  protected override encodeValue(value: V[] | Buffer): Buffer {
    if (Buffer.isBuffer(value)) return value;
    const stride = align8(this.info.leafSize);
    const buf = Buffer.alloc(this.valueSize);
    for (let cpu = 0; cpu < this.cpus; cpu++) {
      if (value[cpu] !== undefined) encode(this.info.leafLayout, value[cpu], buf, cpu * stride);
    }
    return buf;
  }

  /** The CPUs' values added up (field by field for structs). */
  sum(key: K | Buffer): V | undefined {
    const v = this.get(key);
    return v === undefined ? undefined : sumValues(v);
  }

  /** entries() with each value summed across CPUs. */
  summedEntries(): Array<[K, V]> {
    return this.entries().map(([k, v]) => [k, sumValues(v)]);
  }

  override clear(): void {
    if (this.info.type === MAP_TYPE.PERCPU_ARRAY) {
      const zero = Buffer.alloc(this.valueSize);
      for (let i = 0; i < this.info.maxEntries; i++) this.set(i as K, zero);
    } else {
      super.clear();
    }
  }

  /** Per-CPU arrays cannot delete entries: read, then zero (like ArrayTable.drain). */
  override drain(): Array<[K, V[]]> {
    if (this.info.type !== MAP_TYPE.PERCPU_ARRAY) return super.drain();
    const entries = this.entries();
    this.clear();
    return entries;
  }
}

/** STACK_TRACE: values are arrays of instruction pointers, innermost first. */
export class StackTraceTable extends Table<number, bigint[]> {
  protected override decodeValue(buf: Buffer, offset = 0): bigint[] {
    const ips: bigint[] = [];
    for (let at = offset; at + 8 <= offset + this.info.leafSize; at += 8) {
      const ip = buf.readBigUInt64LE(at);
      if (ip === 0n) break;
      ips.push(ip);
    }
    return ips;
  }

  /** The addresses of one stack (empty when the id is unknown or was evicted). */
  walk(stackId: number): bigint[] {
    return stackId < 0 ? [] : this.get(stackId) ?? [];
  }
}

// --- histograms: bcc's print_log2_hist / print_linear_hist on a table ---

function histogramData(table: Table, opts: HistogramPrintOptions = {}): { slots: Count[] } | { sections: HistogramSection[] } {
  const entries = table instanceof PerCpuTable ? table.summedEntries() : table.entries();
  if (table.info.keyLayout.kind !== 'struct') {
    const slots: Count[] = [];
    for (const [k, v] of entries) slots[Number(k)] = toCount(v);
    for (let i = 0; i < slots.length; i++) slots[i] ??= 0;
    return { slots };
  }
  const grouped = new Map<SectionLabel, Count[]>();
  for (const [k, v] of entries) {
    const [label, slot] = Object.values(k as Record<string, unknown>) as [SectionLabel, number | bigint];
    let slots = grouped.get(label);
    if (!slots) grouped.set(label, (slots = []));
    slots[Number(slot)] = toCount(v);
  }
  let labels = [...grouped.keys()];
  if (opts.sectionSort) labels = opts.sectionSort(labels);
  return {
    sections: labels.map((label) => {
      const slots = grouped.get(label)!;
      for (let i = 0; i < slots.length; i++) slots[i] ??= 0;
      return { label, slots };
    }),
  };
}

function log2HistogramText(table: Table, valType: string, opts: HistogramPrintOptions = {}): string {
  const data = histogramData(table, opts);
  if ('slots' in data) return formatLog2Histogram(data.slots, valType, opts);
  return formatLog2Sections(data.sections, valType, opts);
}

function linearHistogramText(table: Table, valType: string, opts: HistogramPrintOptions = {}): string {
  const data = histogramData(table, opts);
  if ('slots' in data) return formatLinearHistogram(data.slots, valType, opts);
  return formatLinearSections(data.sections, valType, opts);
}

/** The buckets as data: one JSON object per section (bcc's print_json_hist shape). */
function histogramJsonObjects(table: Table, valType: string, kind: 'log2' | 'linear', opts: HistogramPrintOptions & { ts?: string | Date } = {}): JsonHistogram[] {
  const data = histogramData(table, opts);
  if ('slots' in data) return [histogramJson(data.slots, valType, kind, { ts: opts.ts })];
  return data.sections.map((s) => histogramJson(s.slots, valType, kind, {
    ts: opts.ts, sectionHeader: opts.sectionHeader ?? 'Bucket ptr',
    sectionLabel: opts.sectionPrint ? opts.sectionPrint(s.label) : s.label,
  }));
}


// --- helpers ---

function align8(n: number): number {
  return (n + 7) & ~7;
}

function toCount(v: unknown): Count {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  if (v && typeof v === 'object') {
    const first = Object.values(v as Record<string, unknown>)[0];
    if (typeof first === 'number' || typeof first === 'bigint') return first;
  }
  throw new BpfError('INVALID_ARGUMENT', 'histogram values must be integers');
}

export function sumValues<V>(values: V[]): V {
  const add = (a: unknown, b: unknown): unknown => {
    if (typeof a === 'bigint' || typeof b === 'bigint') return BigInt(a as number | bigint) + BigInt(b as number | bigint);
    if (typeof a === 'number' && typeof b === 'number') return a + b;
    if (Array.isArray(a) && Array.isArray(b)) return a.map((x, i) => add(x, b[i]));
    if (a && b && typeof a === 'object' && typeof b === 'object') {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(a)) out[key] = add((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]);
      return out;
    }
    return a; // strings and the like: not summable, keep the first CPU's
  };
  return values.reduce((acc, v) => add(acc, v) as V);
}

function mapError(table: string, op: string, errno: number): BpfError {
  return new BpfError('MAP', `${op} on table ${table} failed: ${errnoText(errno)}`, { errno });
}

