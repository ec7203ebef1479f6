// A block request's flags (cmd_flags: the operation in the low bits, modifier bits above) named
// as bcc's biolatency -F names them: "Read", "Sync-Write", "ReadAhead-Read", "Unknown", ...
//
// bcc hard-codes the kernel's bit positions of 2017 (REQ_OP_BITS 8, REQ_SYNC = bit 11, ...) and
// its old operation numbers (ZoneReset = 6, WriteSame = 7); kernels have since renumbered the
// operations (6.18: REQ_OP_ZONE_RESET is 17, WriteSame is gone). We take both from the running
// kernel's BTF (enum req_op, enum req_flag_bits) and use bcc's numbers only without BTF.
import { kernelBtfOrNull, type BtfQueries } from 'bcc-node-bindings';

export interface RequestFlagLayout {
  /** Where the numbers came from, for --explain. */
  source: 'kernel BTF' | "bcc's table";
  /** The operation is cmd_flags & opMask. */
  opMask: number;
  ops: Map<number, string>;
  /** Modifier bits in bcc's order: each one found prefixes the description ("Sync-" + "Write"). */
  bits: Array<{ mask: number; name: string }>;
}

// [kernel enum constant, bcc's name, bcc's number]
const OPS: Array<[string, string, number]> = [
  ['REQ_OP_READ', 'Read', 0],
  ['REQ_OP_WRITE', 'Write', 1],
  ['REQ_OP_FLUSH', 'Flush', 2],
  ['REQ_OP_DISCARD', 'Discard', 3],
  ['REQ_OP_SECURE_ERASE', 'SecureErase', 5],
  ['REQ_OP_ZONE_RESET', 'ZoneReset', 6],
  ['REQ_OP_WRITE_SAME', 'WriteSame', 7],
  ['REQ_OP_WRITE_ZEROES', 'WriteZeros', 9],
];

// [kernel enum constant, bcc's name, bcc's bit]; in bcc's flags_print order.
const BCC_OP_BITS = 8;
const BITS: Array<[string, string, number]> = [
  ['__REQ_SYNC', 'Sync', BCC_OP_BITS + 3],
  ['__REQ_META', 'Metadata', BCC_OP_BITS + 4],
  ['__REQ_FUA', 'ForcedUnitAccess', BCC_OP_BITS + 9],
  ['__REQ_PRIO', 'Priority', BCC_OP_BITS + 5],
  ['__REQ_NOMERGE', 'NoMerge', BCC_OP_BITS + 6],
  ['__REQ_IDLE', 'Idle', BCC_OP_BITS + 7],
  ['__REQ_RAHEAD', 'ReadAhead', BCC_OP_BITS + 11],
  ['__REQ_BACKGROUND', 'Background', BCC_OP_BITS + 12],
  ['__REQ_NOWAIT', 'NoWait', BCC_OP_BITS + 13],
];

/** bcc's numbers: right for kernels 4.10 to 6.x except the renumbered zone operations. */
export function bccFlagLayout(): RequestFlagLayout {
  return {
    source: "bcc's table",
    opMask: (1 << BCC_OP_BITS) - 1,
    ops: new Map(OPS.map(([, name, value]) => [value, name])),
    bits: BITS.map(([, name, bit]) => ({ mask: 2 ** bit, name })),
  };
}

/** The running kernel's numbers from its BTF, or bcc's when the kernel has no BTF for them. */
export function requestFlagLayout(btf: BtfQueries | null = kernelBtfOrNull()): RequestFlagLayout {
  const ops = btf?.enumValues('req_op');
  const bits = btf?.enumValues('req_flag_bits');
  // __REQ_FAILFAST_DEV is defined as REQ_OP_BITS, the first bit above the operation.
  const opBits = bits?.get('__REQ_FAILFAST_DEV');
  if (!ops || !bits || opBits === undefined) return bccFlagLayout();
  return {
    source: 'kernel BTF',
    opMask: 2 ** Number(opBits) - 1,
    ops: new Map(OPS.filter(([constant]) => ops.has(constant)).map(([constant, name]) => [Number(ops.get(constant)), name])),
    bits: BITS.filter(([constant]) => bits.has(constant)).map(([constant, name]) => ({ mask: 2 ** Number(bits.get(constant)), name })),
  };
}

/** bcc's flags_print: the operation's name (or "Unknown"), prefixed by each modifier's name. */
export function describeFlags(flags: number, layout: RequestFlagLayout): string {
  let desc = layout.ops.get(flags & layout.opMask) ?? 'Unknown';
  for (const { mask, name } of layout.bits) {
    if (hasBit(flags, mask)) desc = `${name}-${desc}`;
  }
  return desc;
}

/** The bits describeFlags reads: the kernel groups -F histograms by these only. */
export function describedMask(layout: RequestFlagLayout): number {
  return layout.bits.reduce((mask, b) => mask + b.mask, layout.opMask);
}

/**
 * Values the C program ORs together when it can only see a tracepoint's rwbs string (see the
 * kernel's blk_fill_rwbs): the operation letter and the F(UA), A(head), S(ync), M(eta) modifiers.
 * Operations rwbs shows as 'N' get a value no name matches, so they print as "Unknown".
 */
export function rwbsDefines(layout: RequestFlagLayout): Record<string, number> {
  const op = (name: string) => [...layout.ops].find(([, n]) => n === name)?.[0];
  const bit = (name: string) => layout.bits.find((b) => b.name === name)?.mask ?? 0;
  let other = layout.opMask;
  while (layout.ops.has(other)) other--;
  return {
    RWBS_OP_READ: op('Read') ?? other,
    RWBS_OP_WRITE: op('Write') ?? other,
    RWBS_OP_FLUSH: op('Flush') ?? other,
    RWBS_OP_DISCARD: op('Discard') ?? other,
    RWBS_OP_SECURE_ERASE: op('SecureErase') ?? other,
    RWBS_OP_OTHER: other,
    RWBS_FUA: bit('ForcedUnitAccess'),
    RWBS_RAHEAD: bit('ReadAhead'),
    RWBS_SYNC: bit('Sync'),
    RWBS_META: bit('Metadata'),
  };
}

// Bits above 31 do not fit JavaScript's bitwise operators.
function hasBit(flags: number, mask: number): boolean {
  return Math.floor(flags / mask) % 2 === 1;
}

// The operation numbers that have not moved since REQ_OP became the low byte of cmd_flags (4.10).
const REQ_OP_MASK = 0xff;
const STABLE_OPS: ReadonlyMap<number, string> = new Map([[0, 'R'], [1, 'W'], [2, 'F'], [3, 'D'], [5, 'E']]);

/**
 * A request's operation as one letter, from its cmd_flags (raw tracepoints, kprobes) or, when
 * rwbs is given, from the classic tracepoints' letters: 'R' read, 'W' write, 'F' flush, 'D'
 * discard, 'E' secure erase, '?' anything else (write zeroes, zone operations, driver-private).
 */
export function ioDirection(cmdFlags: number, rwbs = ''): string {
  if (rwbs === '') return STABLE_OPS.get(cmdFlags & REQ_OP_MASK) ?? '?';
  // blk_fill_rwbs: an optional 'F' (preflush) before the operation letter, then modifiers.
  const op = rwbs[0] === 'F' && rwbs.length > 1 && 'RWDN'.includes(rwbs[1]) ? rwbs.slice(1) : rwbs;
  if (op.startsWith('DE')) return 'E';
  return 'RWDF'.includes(op[0] ?? '') ? op[0] : '?';
}

/** Read or write as bcc's biosnoop and biotop show it: 'W' for a write, 'R' for everything else. */
export function bccRwFlag(cmdFlags: number, rwbs = ''): 'R' | 'W' {
  return ioDirection(cmdFlags, rwbs) === 'W' ? 'W' : 'R';
}
