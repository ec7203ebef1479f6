// A file's functions, kept compact as kernel.ts keeps kallsyms: start addresses in a Float64Array
// (exact below 2^53, and user addresses are below 2^48), sizes in another, and every name in one
// string with its start offsets — a few bytes per symbol instead of an object and a string each,
// which matters for a C++ binary with 200,000 functions and a profiler that must stay in 60 MB.
import type { Elf, Section } from './elf.ts';
import { SHT_NOBITS } from './elf.ts';

export interface SymbolHit {
  name: string;
  offset: number;
}

export class SymbolTable {
  static readonly EMPTY = new SymbolTable(new Float64Array(0), new Float64Array(0), Buffer.alloc(0), new Uint32Array(1));

  constructor(
    private readonly starts: Float64Array,
    private readonly sizes: Float64Array,
    /** Every name's UTF-8 bytes, one after the other: outside the JS heap, decoded on a hit only. */
    private readonly names: Buffer,
    private readonly nameStart: Uint32Array,
  ) {}

  get size(): number {
    return this.starts.length;
  }

  /** The function that covers a link-time address, or null (between functions, or past the last). */
  lookup(addr: number): SymbolHit | null {
    const { starts, sizes } = this;
    let lo = 0;
    let hi = starts.length - 1;
    if (hi < 0 || addr < starts[0]) return null;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid] <= addr) lo = mid;
      else hi = mid - 1;
    }
    // A few steps back: a small symbol inside a larger function (a local label given a size, a
    // cold part's alias) must not hide the function that really covers the address.
    for (let i = lo; i >= 0 && i > lo - 4; i--) {
      if (addr < starts[i] + sizes[i]) return { name: this.name(i), offset: addr - starts[i] };
    }
    return null;
  }

  private name(i: number): string {
    return this.names.toString('utf8', this.nameStart[i], this.nameStart[i + 1]);
  }
}

const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const STB_LOCAL = 0;
const STB_GLOBAL = 1;
/** The pool number of names added as JS strings (perf maps). */
const STRING_POOL = 0xffff;

/**
 * Collects functions from one or more symbol tables, then sorts them into a SymbolTable. Entries
 * are kept in typed arrays and names as byte ranges of the tables' own string sections, so that
 * reading 200,000 symbols makes no string per symbol: the peak stays near the final table's size.
 */
export class SymbolTableBuilder {
  private count = 0;
  private starts = new Float64Array(1024);
  private sizes = new Float64Array(1024);
  private ranks = new Int32Array(1024);
  private pools = new Uint16Array(1024);
  private nameAt = new Uint32Array(1024);
  private nameLen = new Uint32Array(1024);
  /** String tables the ranges point into. */
  private readonly poolBuffers: Buffer[] = [];
  /** Names added as strings: their "range" is an index here, in pool STRING_POOL. */
  private readonly added: string[] = [];

  get length(): number {
    return this.count;
  }

  /** Adds one function named by a JS string (a perf map line). */
  add(start: number, size: number, name: string, rank = 0): void {
    this.push(start, size, rank, STRING_POOL, this.added.push(name) - 1, Buffer.byteLength(name));
  }

  /**
   * Adds the sized functions (STT_FUNC, STT_GNU_IFUNC) of a .symtab or .dynsym section. `source`
   * ranks the table: where two tables name the same address, the lower-ranked wins.
   */
  addElfSymbols(elf: Elf, symtab: Section, source: number): void {
    const strtab = elf.sections[symtab.link];
    if (!strtab || symtab.type === SHT_NOBITS || strtab.type === SHT_NOBITS) return;
    const syms = elf.bytes(symtab);
    const strs = elf.bytes(strtab);
    const pool = this.pool(strs);
    const entsize = symtab.entsize || 24;
    for (let at = entsize; at + 24 <= syms.length; at += entsize) {
      const info = syms[at + 4];
      const kind = info & 0xf;
      if (kind !== STT_FUNC && kind !== STT_GNU_IFUNC) continue;
      if (syms.readUInt16LE(at + 6) === 0) continue; // undefined: an import, not code in this file
      const size = Number(syms.readBigUInt64LE(at + 16));
      if (size === 0) continue;
      const nameAt = syms.readUInt32LE(at);
      let nameEnd = strs.indexOf(0, nameAt);
      if (nameEnd < 0) nameEnd = strs.length;
      // A versioned name in a .symtab ("memcpy@GLIBC_2.14"): the version is not part of the function's name.
      // (Searched within the name only: Buffer.indexOf would scan on through the whole table.)
      for (let c = nameAt + 1; c < nameEnd; c++) if (strs[c] === 0x40) { nameEnd = c; break; }
      if (nameEnd <= nameAt) continue;
      this.push(Number(syms.readBigUInt64LE(at + 8)), size, source * 16 + aliasRank(strs, nameAt, info >> 4),
        pool, nameAt, nameEnd - nameAt);
    }
  }

  build(): SymbolTable {
    const n = this.count;
    if (n === 0) return SymbolTable.EMPTY;
    const { starts, ranks } = this;
    const order: number[] = [];
    for (let i = 0; i < n; i++) order.push(i);
    order.sort((a, b) => starts[a] - starts[b] || ranks[a] - ranks[b]);
    // Aliases (getpid and __getpid, one function under several names): the first after sorting,
    // the best-ranked, names the address.
    let kept = 0;
    let bytes = 0;
    for (let k = 0; k < n; k++) {
      if (k > 0 && starts[order[k - 1]] === starts[order[k]]) continue;
      order[kept++] = order[k];
      bytes += this.nameLen[order[k]];
    }
    const names = Buffer.allocUnsafe(bytes);
    const nameStart = new Uint32Array(kept + 1);
    const outStarts = new Float64Array(kept);
    const outSizes = new Float64Array(kept);
    for (let k = 0; k < kept; k++) {
      const i = order[k];
      outStarts[k] = starts[i];
      outSizes[k] = this.sizes[i];
      const at = this.nameAt[i];
      if (this.pools[i] === STRING_POOL) names.write(this.added[at], nameStart[k], 'utf8');
      else this.poolBuffers[this.pools[i]].copy(names, nameStart[k], at, at + this.nameLen[i]);
      nameStart[k + 1] = nameStart[k] + this.nameLen[i];
    }
    this.poolBuffers.length = 0;
    this.added.length = 0;
    this.count = 0;
    return new SymbolTable(outStarts, outSizes, names, nameStart);
  }

  private pool(buf: Buffer): number {
    if (this.poolBuffers.length >= STRING_POOL) throw new RangeError('too many symbol tables in one file');
    return this.poolBuffers.push(buf) - 1;
  }

  private push(start: number, size: number, rank: number, pool: number, nameAt: number, nameLen: number): void {
    if (this.count === this.starts.length) this.grow();
    const i = this.count++;
    this.starts[i] = start;
    this.sizes[i] = size;
    this.ranks[i] = rank;
    this.pools[i] = pool;
    this.nameAt[i] = nameAt;
    this.nameLen[i] = nameLen;
  }

  private grow(): void {
    const cap = this.starts.length * 2;
    const grown = <T extends Float64Array | Int32Array | Uint16Array | Uint32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(cap);
      b.set(a);
      return b;
    };
    this.starts = grown(this.starts);
    this.sizes = grown(this.sizes);
    this.ranks = grown(this.ranks);
    this.pools = grown(this.pools);
    this.nameAt = grown(this.nameAt);
    this.nameLen = grown(this.nameLen);
  }
}

/**
 * Among aliases, the name people call: fewer leading underscores first (glibc exports getpid as a
 * weak alias of __getpid; the caller wrote getpid), then global before weak before local.
 */
function aliasRank(strs: Buffer, nameAt: number, binding: number): number {
  let underscores = 0;
  while (underscores < 3 && strs[nameAt + underscores] === 95) underscores++;
  const bindingRank = binding === STB_GLOBAL ? 0 : binding === STB_LOCAL ? 2 : 1;
  return underscores * 3 + bindingRank;
}
