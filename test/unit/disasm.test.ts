// The disassembler against the kernel's own notation: each case is a line this machine's verifier
// printed (in logs kept while writing secwatch), re-encoded from the instruction set's fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { disassemble, formatDisasm, insnText, type Insn } from '../../lib/bcc-node-bindings/src/disasm.ts';

const insn = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ code, dst, src, off, imm });
const helperNames: Record<number, string> = { 1: 'bpf_map_lookup_elem', 113: 'bpf_probe_read_kernel' };
const text = (i: Insn, next?: Insn) => insnText(i, next, (id) => helperNames[id]);

test('the verifier log lines of this machine, from their fields', () => {
  const cases: Array<[Insn, string]> = [
    [insn(0xbf, 6, 7), 'r6 = r7'],
    [insn(0x07, 6, 0, 0, 1424), 'r6 += 1424'],
    [insn(0xb7, 2, 0, 0, 511), 'r2 = 511'],
    [insn(0x1f, 2, 8), 'r2 -= r8'],
    [insn(0x67, 1, 0, 0, 32), 'r1 <<= 32'],
    [insn(0x77, 1, 0, 0, 32), 'r1 >>= 32'],
    [insn(0x2d, 3, 1, 1), 'if r3 > r1 goto pc+1'],
    [insn(0x57, 8, 0, 0, 511), 'r8 &= 511'],
    [insn(0x0f, 3, 8), 'r3 += r8'],
    [insn(0x85, 0, 0, 0, 113), 'call bpf_probe_read_kernel#113'],
    [insn(0x61, 3, 6, 1348), 'r3 = *(u32 *)(r6 +1348)'],
    [insn(0x79, 2, 10, -40), 'r2 = *(u64 *)(r10 -40)'],
    [insn(0x7b, 10, 2, -40), '*(u64 *)(r10 -40) = r2'],
    [insn(0x15, 4, 0, 45, 0), 'if r4 == 0x0 goto pc+45'],
    [insn(0x1d, 5, 8, 1), 'if r5 == r8 goto pc+1'],
    [insn(0x55, 8, 0, 101, 0x1ff), 'if r8 != 0x1ff goto pc+101'],
    [insn(0x05, 0, 0, 9), 'goto pc+9'],
    [insn(0x05, 0, 0, -23), 'goto pc-23'],
    [insn(0x71, 0, 0, 0), 'r0 = *(u8 *)(r0 +0)'],
    [insn(0x95), 'exit'],
  ];
  for (const [i, expected] of cases) assert.equal(text(i), expected, `opcode 0x${i.code.toString(16)}`);
});

test('every class: 32-bit ALU and jumps, stores of immediates, byte swaps, signed ops, atomics, ld_imm64', () => {
  const cases: Array<[Insn, string, Insn?]> = [
    [insn(0xb4, 1, 0, 0, -1), 'w1 = -1'],
    [insn(0x0c, 1, 2), 'w1 += w2'],
    [insn(0x84, 3), 'w3 = -w3'],
    [insn(0x87, 3), 'r3 = -r3'],
    [insn(0xcf, 1, 2), 'r1 s>>= r2'],
    [insn(0x3f, 1, 2, 1), 'r1 s/= r2'],
    [insn(0x9f, 1, 2, 0), 'r1 %= r2'],
    [insn(0xbf, 1, 2, 8), 'r1 = (s8)r2'],
    [insn(0xd4, 1, 0, 0, 16), 'r1 = le16 r1'],
    [insn(0xdc, 1, 0, 0, 32), 'r1 = be32 r1'],
    [insn(0xd7, 1, 0, 0, 64), 'r1 = bswap64 r1'],
    [insn(0x16, 1, 0, 3, 7), 'if w1 == 0x7 goto pc+3'],
    [insn(0xce, 1, 2, -2), 'if w1 s< w2 goto pc-2'],
    [insn(0x45, 1, 0, 2, 8), 'if r1 & 0x8 goto pc+2'],
    [insn(0x06, 0, 0, 0, 300), 'gotol pc+300'],
    [insn(0x62, 10, 0, -4, 0), '*(u32 *)(r10 -4) = 0'],
    [insn(0x6a, 10, 0, -2, 7), '*(u16 *)(r10 -2) = 7'],
    [insn(0x73, 1, 2, 3), '*(u8 *)(r1 +3) = r2'],
    [insn(0x91, 1, 2, 0), 'r1 = *(s8 *)(r2 +0)'],
    [insn(0xdb, 1, 2, 0, 0x00), 'lock *(u64 *)(r1 +0) += r2'],
    [insn(0xc3, 1, 2, 8, 0x40), 'lock *(u32 *)(r1 +8) |= w2'],
    [insn(0xdb, 1, 2, 0, 0x01), 'r2 = atomic64_fetch_add(*(u64 *)(r1 +0), r2)'],
    [insn(0xdb, 1, 2, 0, 0xe1), 'r2 = atomic64_xchg(*(u64 *)(r1 +0), r2)'],
    [insn(0xdb, 1, 2, 0, 0xf1), 'r0 = atomic64_cmpxchg(*(u64 *)(r1 +0), r0, r2)'],
    [insn(0x85, 0, 1, 0, 12), 'call pc+12'],
    [insn(0x18, 1, 0, 0, 0x5678), 'r1 = 0x123400005678 ll', insn(0, 0, 0, 0, 0x1234)],
    [insn(0x18, 1, 1, 0, 7), 'r1 = map[fd:7]', insn(0)],
    [insn(0x18, 2, 2, 0, 7), 'r2 = map[fd:7][16]', insn(0, 0, 0, 0, 16)],
  ];
  for (const [i, expected, next] of cases) assert.equal(text(i, next), expected, `opcode 0x${i.code.toString(16)}`);
});

test('disassemble reads 8-byte instructions, takes ld_imm64 as one line of two slots, and formats as the verifier does', () => {
  const bytes = Buffer.alloc(5 * 8);
  const put = (i: number, x: Insn) => {
    bytes[i * 8] = x.code;
    bytes[i * 8 + 1] = (x.src << 4) | x.dst;
    bytes.writeInt16LE(x.off, i * 8 + 2);
    bytes.writeInt32LE(x.imm, i * 8 + 4);
  };
  put(0, insn(0xbf, 6, 1));
  put(1, insn(0x18, 1, 1, 0, 4));
  put(2, insn(0));
  put(3, insn(0x85, 0, 0, 0, 1));
  put(4, insn(0x95));
  const lines = disassemble(bytes, (id) => helperNames[id]);
  assert.deepEqual(lines.map((l) => l.index), [0, 1, 3, 4]);
  assert.equal(formatDisasm(lines), [
    '0: (bf) r6 = r1', '1: (18) r1 = map[fd:4]', '3: (85) call bpf_map_lookup_elem#1', '4: (95) exit',
  ].join('\n'));
});
