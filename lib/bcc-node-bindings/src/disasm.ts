// eBPF instructions as text, in the kernel verifier's own notation (kernel/bpf/disasm.c prints
// "(bf) r6 = r1", "(85) call bpf_map_lookup_elem#1", "(79) r2 = *(u64 *)(r10 -40)"), so that a
// program's instructions read the same here as in a verifier log. Each instruction is 8 bytes:
// opcode, dst and src registers (4 bits each), a signed 16-bit offset and a signed 32-bit
// immediate; a 64-bit load of an immediate (ld_imm64) takes two. Written from the instruction set
// as documented (Documentation/bpf/standardization/instruction-set.rst): the classes, the ALU and
// jump operations, the load/store sizes and modes, and the atomic operations.
//
// The kernel's translated dump (programInstructions) says two things differently from the program
// as loaded, and `{ translated: true }` reads them as bpftool does: a helper call's immediate is the
// called function's address minus __bpf_call_base (the verifier resolved the helper, often to a
// map type's own function), and a map reference is the map's id, not a file descriptor.
import fs from 'node:fs';
import { kernelBtfOrNull } from './btf.ts';
import { kernelSymbols, type KernelSymbol } from './symbols/kernel.ts';

export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

export interface DisasmLine {
  /** Index of the instruction (ld_imm64's second half has none of its own). */
  index: number;
  code: number;
  text: string;
}

/** Addresses to names, as kallsyms gives them: kernelSymbols() or parseKallsyms(text). */
export interface KernelAddressBook {
  lookup(addr: bigint): KernelSymbol | null;
}

export interface DisasmOptions {
  /** A helper's name from its id (default: the running kernel's, from BTF). */
  helperName?: (id: number) => string | undefined;
  /** The bytes are the kernel's translated dump: calls hold addresses, map loads map ids. */
  translated?: boolean;
  /** Where translated calls are looked up (default: the running kernel's /proc/kallsyms). */
  kallsyms?: KernelAddressBook;
  /** The address of __bpf_call_base, which translated call immediates count from (default: from /proc/kallsyms). */
  callBase?: bigint | null;
}

/** Reads instruction `i` of a program's bytes. */
export function insnAt(bytes: Buffer, i: number): Insn {
  const at = i * 8;
  const regs = bytes[at + 1];
  return { code: bytes[at], dst: regs & 0x0f, src: regs >> 4, off: bytes.readInt16LE(at + 2), imm: bytes.readInt32LE(at + 4) };
}

const CLASS = { LD: 0x00, LDX: 0x01, ST: 0x02, STX: 0x03, ALU: 0x04, JMP: 0x05, JMP32: 0x06, ALU64: 0x07 } as const;
const SIZE_NAMES: Record<number, string> = { 0x00: 'u32', 0x08: 'u16', 0x10: 'u8', 0x18: 'u64' };
const SIZE_BITS: Record<number, number> = { 0x00: 32, 0x08: 16, 0x10: 8, 0x18: 64 };
const MODE = { IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, MEMSX: 0x80, ATOMIC: 0xc0 } as const;

const ALU_OPS: Record<number, string> = {
  0x00: '+=', 0x10: '-=', 0x20: '*=', 0x30: '/=', 0x40: '|=', 0x50: '&=', 0x60: '<<=', 0x70: '>>=',
  0x90: '%=', 0xa0: '^=', 0xb0: '=', 0xc0: 's>>=',
};
const JMP_OPS: Record<number, string> = {
  0x10: '==', 0x20: '>', 0x30: '>=', 0x40: '&', 0x50: '!=', 0x60: 's>', 0x70: 's>=', 0xa0: '<', 0xb0: '<=', 0xc0: 's<', 0xd0: 's<=',
};
const ATOMIC_OPS: Record<number, string> = { 0x00: '+=', 0x40: '|=', 0x50: '&=', 0xa0: '^=' };
const BPF_FETCH = 0x01;
const BPF_XCHG = 0xe0 | BPF_FETCH;
const BPF_CMPXCHG = 0xf0 | BPF_FETCH;
/** ld_imm64's src_reg: what its immediate is (include/uapi/linux/bpf.h BPF_PSEUDO_*). */
const PSEUDO_MAP_FD = 1;
const PSEUDO_MAP_VALUE = 2;
const PSEUDO_BTF_ID = 3;
const PSEUDO_FUNC = 4;
const PSEUDO_CALL = 1;
/** mov's offset for the kernel's internal forms: a per-CPU address, an arena address-space cast. */
const BPF_ADDR_PERCPU = -1;
const BPF_ADDR_SPACE_CAST = 1;
const PSEUDO_KFUNC_CALL = 2;

const signed = (n: number): string => (n < 0 ? `${n}` : `+${n}`);
const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

function memRef(size: number, reg: number, off: number): string {
  return `*(${SIZE_NAMES[size]} *)(r${reg} ${signed(off)})`;
}

function alu(insn: Insn, wide: boolean): string {
  const r = wide ? 'r' : 'w';
  const op = insn.code & 0xf0;
  const fromReg = (insn.code & 0x08) !== 0;
  if (op === 0x80) return `${r}${insn.dst} = -${r}${insn.dst}`;
  if (op === 0xd0) {
    // Byte swaps: to little or big endian (BPF_ALU), or unconditional (BPF_ALU64, "bswap").
    const kind = wide ? 'bswap' : fromReg ? 'be' : 'le';
    return `r${insn.dst} = ${kind}${insn.imm} r${insn.dst}`;
  }
  let name = ALU_OPS[op];
  if (name === undefined) return `invalid ${wide ? 'alu64' : 'alu'} op ${hex(op)}`;
  // off 1 makes div and mod signed; off 8/16/32 makes mov sign-extend from that many bits.
  if ((op === 0x30 || op === 0x90) && insn.off === 1) name = `s${name}`;
  // Two moves only the verifier writes, seen in translated dumps (inlined per-CPU helpers, arenas).
  if (op === 0xb0 && fromReg && wide && insn.off === BPF_ADDR_PERCPU) return `r${insn.dst} = &(void __percpu *)(r${insn.src})`;
  if (op === 0xb0 && fromReg && wide && insn.off === BPF_ADDR_SPACE_CAST) {
    return `r${insn.dst} = addr_space_cast(r${insn.src}, ${(insn.imm >>> 0) >>> 16}, ${insn.imm & 0xffff})`;
  }
  if (op === 0xb0 && fromReg && insn.off) return `${r}${insn.dst} = (s${insn.off})${r}${insn.src}`;
  return `${r}${insn.dst} ${name} ${fromReg ? `${r}${insn.src}` : insn.imm}`;
}

type CallName = (insn: Insn) => string;

function jump(insn: Insn, wide: boolean, callName: CallName): string {
  const op = insn.code & 0xf0;
  if (op === 0x00) return wide ? `goto pc${signed(insn.off)}` : `gotol pc${signed(insn.imm)}`;
  if (op === 0x90) return 'exit';
  if (op === 0x80) {
    if (insn.src === PSEUDO_CALL) return `call pc${signed(insn.imm)}`;
    return `call ${callName(insn)}#${insn.imm}`;
  }
  const cmp = JMP_OPS[op];
  if (cmp === undefined) return `invalid jmp op ${hex(op)}`;
  const r = wide ? 'r' : 'w';
  const rhs = insn.code & 0x08 ? `${r}${insn.src}` : hex(insn.imm);
  return `if ${r}${insn.dst} ${cmp} ${rhs} goto pc${signed(insn.off)}`;
}

function atomic(insn: Insn): string {
  const size = insn.code & 0x18;
  const ref = memRef(size, insn.dst, insn.off);
  const r = size === 0x18 ? 'r' : 'w';
  if (insn.imm === BPF_XCHG) return `r${insn.src} = atomic${size === 0x18 ? '64' : ''}_xchg(${ref}, r${insn.src})`;
  if (insn.imm === BPF_CMPXCHG) return `r0 = atomic${size === 0x18 ? '64' : ''}_cmpxchg(${ref}, r0, r${insn.src})`;
  const name = ATOMIC_OPS[insn.imm & ~BPF_FETCH];
  if (name === undefined) return `invalid atomic op ${hex(insn.imm)}`;
  if (insn.imm & BPF_FETCH) return `r${insn.src} = atomic${size === 0x18 ? '64' : ''}_fetch_${{ '+=': 'add', '|=': 'or', '&=': 'and', '^=': 'xor' }[name]}(${ref}, ${r}${insn.src})`;
  return `lock ${ref} ${name} ${r}${insn.src}`;
}

/** A call's callee as the program loaded it: a helper's id, or a kernel function's BTF id. */
function loadedCallName(helperName: (id: number) => string | undefined): CallName {
  return (insn) => (insn.src === PSEUDO_KFUNC_CALL ? 'kernel-function' : helperName(insn.imm) ?? 'unknown');
}

/**
 * A call's callee in a translated dump: the function at __bpf_call_base + imm, named only when a
 * symbol starts exactly there (as bpftool does); its address otherwise.
 */
function translatedCallName(callBase: bigint | null, kallsyms: KernelAddressBook | null): CallName {
  return (insn) => {
    if (callBase === null) return '__bpf_call_base';
    const addr = BigInt.asUintN(64, callBase + BigInt(insn.imm));
    const sym = kallsyms?.lookup(addr);
    return sym && sym.offset === 0 ? sym.name : `0x${addr.toString(16)}`;
  };
}

/**
 * One instruction (and the next, for ld_imm64) as text; `next` is the second half of ld_imm64.
 * The third argument names helpers by id, or is the options of a translated dump.
 */
export function insnText(insn: Insn, next?: Insn, naming: ((id: number) => string | undefined) | DisasmOptions = () => undefined): string {
  const options: DisasmOptions = typeof naming === 'function' ? { helperName: naming } : naming;
  const callName = options.translated
    ? translatedCallName(options.callBase ?? null, options.kallsyms ?? null)
    : loadedCallName(options.helperName ?? (() => undefined));
  return text(insn, next, callName, options.translated === true);
}

function text(insn: Insn, next: Insn | undefined, callName: CallName, translated: boolean): string {
  const cls = insn.code & 0x07;
  const size = insn.code & 0x18;
  const mode = insn.code & 0xe0;
  switch (cls) {
    case CLASS.ALU64: return alu(insn, true);
    case CLASS.ALU: return alu(insn, false);
    case CLASS.JMP: return jump(insn, true, callName);
    case CLASS.JMP32: return jump(insn, false, callName);
    case CLASS.LDX:
      if (mode === MODE.MEMSX) return `r${insn.dst} = *(s${SIZE_BITS[size]} *)(r${insn.src} ${signed(insn.off)})`;
      return `r${insn.dst} = ${memRef(size, insn.src, insn.off)}`;
    case CLASS.STX:
      if (mode === MODE.ATOMIC) return atomic(insn);
      return `${memRef(size, insn.dst, insn.off)} = r${insn.src}`;
    case CLASS.ST:
      return `${memRef(size, insn.dst, insn.off)} = ${insn.imm}`;
    case CLASS.LD: {
      if (mode === MODE.ABS) return `r0 = ${memRef(size, 6, 0).replace('(r6 +0)', `skb[${insn.imm}]`)}`;
      if (mode === MODE.IND) return `r0 = *(${SIZE_NAMES[size]} *)skb[r${insn.src} + ${insn.imm}]`;
      if (size !== 0x18 || mode !== MODE.IMM) return `invalid ld ${hex(insn.code)}`;
      const low = BigInt(insn.imm >>> 0);
      const high = BigInt((next?.imm ?? 0) >>> 0);
      // bpftool's notation for the dump: the kernel wrote the map's id, and a value's offset after it.
      if (insn.src === PSEUDO_MAP_FD) return `r${insn.dst} = map[${translated ? 'id' : 'fd'}:${insn.imm}]`;
      if (insn.src === PSEUDO_MAP_VALUE) {
        return translated ? `r${insn.dst} = map[id:${insn.imm}][0]+${next?.imm ?? 0}` : `r${insn.dst} = map[fd:${insn.imm}][${next?.imm ?? 0}]`;
      }
      if (insn.src === PSEUDO_BTF_ID) return `r${insn.dst} = btf[${insn.imm}]`;
      if (insn.src === PSEUDO_FUNC) return `r${insn.dst} = func pc${signed(insn.imm)}`;
      return `r${insn.dst} = 0x${((high << 32n) | low).toString(16)} ll`;
    }
    default: return `invalid ${hex(insn.code)}`;
  }
}

/**
 * A program's bytes as text lines, in order; ld_imm64 is one line for its two slots. The second
 * argument names helpers by id, or is the options: `{ translated: true }` for a dump from
 * programInstructions(), its calls named from the running kernel's symbols.
 */
export function disassemble(bytes: Buffer, naming: ((id: number) => string | undefined) | DisasmOptions = kernelHelperName): DisasmLine[] {
  const given: DisasmOptions = typeof naming === 'function' ? { helperName: naming } : naming;
  const options: DisasmOptions = given.translated
    ? { ...given, kallsyms: given.kallsyms ?? kernelSymbols(), callBase: given.callBase === undefined ? kernelCallBase() : given.callBase }
    : { ...given, helperName: given.helperName ?? kernelHelperName };
  const out: DisasmLine[] = [];
  const count = Math.floor(bytes.length / 8);
  for (let i = 0; i < count; i++) {
    const insn = insnAt(bytes, i);
    const wide = insn.code === 0x18;
    out.push({ index: i, code: insn.code, text: insnText(insn, wide && i + 1 < count ? insnAt(bytes, i + 1) : undefined, options) });
    if (wide) i++;
  }
  return out;
}

/** As the verifier log prints them: "12: (bf) r6 = r1". */
export function formatDisasm(lines: DisasmLine[]): string {
  return lines.map((l) => `${l.index}: (${l.code.toString(16).padStart(2, '0')}) ${l.text}`).join('\n');
}

let helpers: Map<number, string> | null | undefined;

/** The running kernel's name for helper `id` ("bpf_map_lookup_elem"), from its BTF (enum bpf_func_id). */
export function kernelHelperName(id: number): string | undefined {
  if (helpers === undefined) {
    const values = kernelBtfOrNull()?.enumValues('bpf_func_id');
    helpers = values ? new Map([...values].map(([name, v]) => [Number(v), `bpf_${name.replace(/^BPF_FUNC_/, '')}`])) : null;
  }
  return helpers?.get(id);
}

let callBase: bigint | null | undefined;

/**
 * The running kernel's __bpf_call_base, from /proc/kallsyms (null when unreadable or hidden: only
 * root sees addresses). The symbol table of symbols/kernel.ts finds names by address, not
 * addresses by name, so this one line is looked for in the text.
 */
export function kernelCallBase(): bigint | null {
  if (callBase === undefined) {
    let text = '';
    try { text = fs.readFileSync('/proc/kallsyms', 'utf8'); } catch { /* unreadable: calls stay unnamed */ }
    const m = /^([0-9a-f]{16}) [Tt] __bpf_call_base$/m.exec(text);
    callBase = m && !/^0+$/.test(m[1]) ? BigInt(`0x${m[1]}`) : null;
  }
  return callBase;
}
