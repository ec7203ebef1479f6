// Kernel addresses as names, for kernel stacks (tcpdrop, profile, offcputime): bcc's
// BPF.ksym(addr, show_offset=True). /proc/kallsyms is read once per process, on the first
// address asked for, and kept sorted so that each lookup is a binary search.
//
// kallsyms.ts answers "does this function exist" for attach plans and keeps names only; this
// keeps addresses, and module names, and is paid for only by tools that print stacks.
import fs from 'node:fs';

// Every kernel text address lies above this, on every 64-bit architecture Linux runs on: kept
// as an offset from it, an address fits a double exactly (less than 2^53), so the table is a
// Float64Array instead of a bigint per symbol (~200,000 of them).
const KERNEL_BASE = 0xffff000000000000n;

/** The text of an address no symbol covers (bcc prints the same). */
export const UNKNOWN_SYMBOL = '[unknown]';

export interface KernelSymbol {
  name: string;
  /** Bytes from the symbol's start. */
  offset: number;
  /** The module that holds it ("nf_tables"), for a module's symbol. */
  module?: string;
}

export interface KernelSymbols {
  /** Symbols known: 0 when kallsyms was unreadable or showed only zero addresses (not root). */
  readonly size: number;
  /** The last symbol at or below the address, or null below the first one. */
  lookup(addr: bigint): KernelSymbol | null;
  /** "tcp_v4_rcv+0x9c7", "nft_do_chain+0x1a [nf_tables]", or UNKNOWN_SYMBOL. */
  symbolise(addr: bigint): string;
}

/** A symbol as bcc prints it with show_offset, and the module after it. */
export function formatSymbol(sym: KernelSymbol | null): string {
  if (!sym) return UNKNOWN_SYMBOL;
  const text = `${sym.name}+0x${sym.offset.toString(16)}`;
  return sym.module ? `${text} [${sym.module}]` : text;
}

/**
 * Parses kallsyms text ("ffffffff81234560 T name" or "… t name\t[module]"). Only functions are
 * kept (types T/t/W/w): a stack holds code addresses, and a data symbol in between would name
 * the tail of the function before it. The table stays small (~5 MB for 120,000 symbols, not
 * the ~15 MB of a string per name sliced from the file): addresses in a Float64Array, names in
 * one string with their start offsets, modules as an index into the few distinct names.
 */
export function parseKallsyms(text: string): KernelSymbols {
  const addrs: number[] = [];
  const names: string[] = [];
  const moduleIds: number[] = [];
  const modules: string[] = [''];
  const moduleIndex = new Map<string, number>();
  for (let pos = 0; pos < text.length;) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const line = pos;
    pos = end + 1;
    const sp1 = text.indexOf(' ', line);
    if (sp1 <= line || sp1 + 3 > end) continue;
    const type = text[sp1 + 1];
    if (type !== 'T' && type !== 't' && type !== 'W' && type !== 'w') continue;
    // Sixteen hex digits starting "ffff" (KERNEL_BASE): the rest is the offset, read without a bigint.
    if (sp1 - line !== 16 || !text.startsWith('ffff', line)) continue;
    const offset = Number.parseInt(text.slice(line + 4, sp1), 16);
    if (!Number.isFinite(offset)) continue;
    // The tab before a module's name, searched within the line only: indexOf() from here would
    // scan on to the modules' section for every core symbol, quadratic in the file's size.
    let tab = sp1 + 3;
    while (tab < end && text.charCodeAt(tab) !== 9) tab++;
    const name = text.slice(sp1 + 3, tab).trimEnd();
    if (!name) continue;
    let moduleId = 0;
    if (tab < end) {
      const mod = /^\s*\[([^\]]+)\]/.exec(text.slice(tab, end))?.[1];
      if (mod) {
        moduleId = moduleIndex.get(mod) ?? 0;
        if (!moduleId) { moduleId = modules.push(mod) - 1; moduleIndex.set(mod, moduleId); }
      }
    }
    addrs.push(offset);
    names.push(name);
    moduleIds.push(moduleId);
  }
  // kallsyms lists the core kernel in address order but modules after it, each in its own order.
  const order = Array.from(addrs.keys()).sort((a, b) => addrs[a] - addrs[b]);
  const sorted = Float64Array.from(order, (i) => addrs[i]);
  const moduleOf = Uint16Array.from(order, (i) => moduleIds[i]);
  // One flat string: joined afresh, it holds no reference to the file's text.
  const nameText = order.map((i) => names[i]).join('');
  const nameStart = new Uint32Array(order.length + 1);
  order.forEach((i, k) => { nameStart[k + 1] = nameStart[k] + names[i].length; });
  // The closures above share this function's context with lookup(): emptied, the parse's arrays
  // (and the file's text their slices point into) are not kept alive by it.
  for (const parts of [addrs, names, moduleIds, order]) parts.length = 0;

  const lookup = (addr: bigint): KernelSymbol | null => {
    if (addr < KERNEL_BASE || sorted.length === 0) return null;
    const at = Number(addr - KERNEL_BASE);
    if (at < sorted[0]) return null;
    let lo = 0;
    let hi = sorted.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (sorted[mid] <= at) lo = mid;
      else hi = mid - 1;
    }
    const sym: KernelSymbol = { name: nameText.slice(nameStart[lo], nameStart[lo + 1]), offset: at - sorted[lo] };
    if (moduleOf[lo]) sym.module = modules[moduleOf[lo]];
    return sym;
  };
  return { size: sorted.length, lookup, symbolise: (addr) => formatSymbol(lookup(addr)) };
}

// No kernel function is this long: an address this far past the nearest symbol is in code that
// was not there when kallsyms was read (a module loaded since), and the table is read again.
const IMPLAUSIBLE_OFFSET = 0x40000;
// ...at most this often, so that a stack through code kallsyms never names costs one read.
const RELOAD_AFTER_MS = 1000;

let live: KernelSymbols | null = null;
let loadedAt = 0;

function load(): KernelSymbols {
  let text = '';
  try { text = fs.readFileSync('/proc/kallsyms', 'utf8'); } catch { /* unreadable: every address is unknown */ }
  live = parseKallsyms(text);
  loadedAt = Date.now();
  return live;
}

/** The running kernel's symbols, read on first use and kept for the life of the process. */
export function kernelSymbols(): KernelSymbols {
  return live ?? load();
}

/** One address of the running kernel, kallsyms read again if it looks like a module loaded since. */
export function lookupKernel(addr: bigint): KernelSymbol | null {
  let sym = kernelSymbols().lookup(addr);
  if ((!sym || sym.offset > IMPLAUSIBLE_OFFSET) && addr >= KERNEL_BASE && Date.now() - loadedAt > RELOAD_AFTER_MS) {
    sym = load().lookup(addr);
  }
  return sym;
}

/** One address of the running kernel as text: bcc's ksym(addr, show_offset=True), with the module. */
export function ksym(addr: bigint): string {
  return formatSymbol(lookupKernel(addr));
}
