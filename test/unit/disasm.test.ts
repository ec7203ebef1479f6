// The disassembler against the kernel's own notation: each case is a line this machine's verifier
// printed (in logs kept while writing secwatch), re-encoded from the instruction set's fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { disassemble, formatDisasm, insnText, type Insn } from '../../lib/bcc-node-bindings/src/disasm.ts';
import { parseKallsyms } from '../../lib/bcc-node-bindings/src/symbols/kernel.ts';

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

// A translated dump (programInstructions) as this machine's kernel wrote it for step 4's program
// with a hash map: the helper call holds __htab_map_lookup_elem's distance from __bpf_call_base,
// the map load the map's id. Addresses from this machine's /proc/kallsyms.
const KALLSYMS = [
  'ffffffff81400000 T early_function',
  'ffffffff814ded50 T __bpf_call_base',
  'ffffffff81523a60 T bpf_ktime_get_ns',
  'ffffffff815339a0 t __htab_map_lookup_elem',
  'ffffffff81535290 t htab_map_lookup_elem',
].join('\n');
const CALL_BASE = 0xffffffff814ded50n;
const translated = { translated: true, kallsyms: parseKallsyms(KALLSYMS), callBase: CALL_BASE };

function encode(insns: Insn[]): Buffer {
  const bytes = Buffer.alloc(insns.length * 8);
  insns.forEach((x, i) => {
    bytes[i * 8] = x.code;
    bytes[i * 8 + 1] = (x.src << 4) | x.dst;
    bytes.writeInt16LE(x.off, i * 8 + 2);
    bytes.writeInt32LE(x.imm, i * 8 + 4);
  });
  return bytes;
}

test('a translated dump: calls named through kallsyms from __bpf_call_base, maps by id, as bpftool prints them', () => {
  const hashProgram = encode([
    insn(0x79, 1, 1, 8), insn(0x57, 1, 0, 0, 1023), insn(0x63, 10, 1, -4),
    insn(0x18, 1, 1, 0, 100475), insn(0), insn(0xbf, 2, 10), insn(0x07, 2, 0, 0, -4),
    insn(0x85, 0, 0, 0, 347216), insn(0x15, 0, 0, 1, 0), insn(0x07, 0, 0, 0, 56),
    insn(0x15, 0, 0, 2, 0), insn(0xb7, 1, 0, 0, 1), insn(0xdb, 0, 1, 0, 0), insn(0xb7, 0), insn(0x95),
  ]);
  assert.equal(formatDisasm(disassemble(hashProgram, translated)), [
    '0: (79) r1 = *(u64 *)(r1 +8)', '1: (57) r1 &= 1023', '2: (63) *(u32 *)(r10 -4) = r1',
    '3: (18) r1 = map[id:100475]', '5: (bf) r2 = r10', '6: (07) r2 += -4',
    '7: (85) call __htab_map_lookup_elem#347216', '8: (15) if r0 == 0x0 goto pc+1', '9: (07) r0 += 56',
    '10: (15) if r0 == 0x0 goto pc+2', '11: (b7) r1 = 1', '12: (db) lock *(u64 *)(r0 +0) += r1',
    '13: (b7) r0 = 0', '14: (95) exit',
  ].join('\n'));
  // The same bytes read as a program before loading: imm is a helper id, and the map an fd.
  assert.equal(disassemble(hashProgram, (id) => helperNames[id])[6].text, 'call unknown#347216');
  assert.equal(disassemble(hashProgram, (id) => helperNames[id])[3].text, 'r1 = map[fd:100475]');
});

test('translated calls: before the base, mid-symbol, and without kallsyms; map values; the verifier\'s own moves', () => {
  const cases: Array<[Insn, string, Insn?]> = [
    [insn(0x85, 0, 0, 0, 0x81523a60 - 0x814ded50), 'call bpf_ktime_get_ns#281872'],
    [insn(0x85, 0, 0, 0, 0x81400000 - 0x814ded50), 'call early_function#-912720'],
    [insn(0x85, 0, 0, 0, 347216 + 8), 'call 0xffffffff815339a8#347224'],
    [insn(0x85, 0, 1, 0, 5), 'call pc+5'],
    [insn(0x18, 2, 2, 0, 7), 'r2 = map[id:7][0]+16', insn(0, 0, 0, 0, 16)],
    [insn(0xbf, 0, 0, -1), 'r0 = &(void __percpu *)(r0)'],
    [insn(0xbf, 1, 2, 1, 1), 'r1 = addr_space_cast(r2, 0, 1)'],
  ];
  for (const [i, expected, next] of cases) assert.equal(insnText(i, next, translated), expected);
  // Without __bpf_call_base (kallsyms unreadable, or hidden from a user that is not root).
  assert.equal(insnText(insn(0x85, 0, 0, 0, 347216), undefined, { translated: true, callBase: null }), 'call __bpf_call_base#347216');
});
