// Two facts about the running kernel that its BTF records and the binding's KernelBtf does not
// read yet: the values of an enum's constants (enum req_flag_bits says which bit of a request's
// cmd_flags is REQ_SYNC on *this* kernel), and the arguments a raw tracepoint passes (block_rq_issue
// passes (rq) since 5.11 and (q, rq) before). Both are read straight from /sys/kernel/btf/vmlinux:
// a header, a section of type records (ids count from 1) and a string section, as described in
// the kernel's Documentation/bpf/btf.rst. Parsed once per process, only by tools that ask.
import fs from 'node:fs';

const KIND = {
  INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, TYPEDEF: 8, VOLATILE: 9, CONST: 10, RESTRICT: 11,
  FUNC_PROTO: 13, VAR: 14, DATASEC: 15, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19,
} as const;

/** Bytes that follow the 12-byte common record of each kind. */
function extraSize(kind: number, vlen: number): number {
  switch (kind) {
    case KIND.INT: case KIND.VAR: case KIND.DECL_TAG: return 4;
    case KIND.ARRAY: return 12;
    case KIND.STRUCT: case KIND.UNION: case KIND.DATASEC: case KIND.ENUM64: return vlen * 12;
    case KIND.ENUM: case KIND.FUNC_PROTO: return vlen * 8;
    default: return 0;
  }
}

export class BtfLookup {
  private readonly view: DataView;
  private readonly strStart: number;
  private readonly records: number[] = [0];
  /** Enums, typedefs and structs by name (the first definition wins). */
  private readonly named = new Map<string, number>();

  static load(path = '/sys/kernel/btf/vmlinux'): BtfLookup | null {
    try {
      return new BtfLookup(fs.readFileSync(path));
    } catch {
      return null;
    }
  }

  constructor(data: Buffer) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (this.view.getUint16(0, true) !== 0xeb9f) throw new Error('not BTF data (bad magic)');
    const hdrLen = this.view.getUint32(4, true);
    const typeStart = hdrLen + this.view.getUint32(8, true);
    const typeEnd = typeStart + this.view.getUint32(12, true);
    this.strStart = hdrLen + this.view.getUint32(16, true);
    for (let at = typeStart; at < typeEnd;) {
      const id = this.records.length;
      this.records.push(at);
      const info = this.view.getUint32(at + 4, true);
      const kind = this.kindAt(at);
      if (kind === KIND.ENUM || kind === KIND.ENUM64 || kind === KIND.TYPEDEF || kind === KIND.STRUCT) {
        const key = `${kind === KIND.ENUM64 ? KIND.ENUM : kind}:${this.string(this.view.getUint32(at, true))}`;
        if (!this.named.has(key)) this.named.set(key, id);
      }
      at += 12 + extraSize(kind, info & 0xffff);
    }
  }

  private kindAt(at: number): number {
    return (this.view.getUint32(at + 4, true) >>> 24) & 0x1f;
  }

  private string(offset: number): string {
    const start = this.strStart + offset;
    let end = start;
    while (this.view.getUint8(end) !== 0) end++;
    return Buffer.from(this.view.buffer, this.view.byteOffset + start, end - start).toString('latin1');
  }

  /** The constants of `enum name` (ENUM or ENUM64), or undefined when this kernel has no such enum. */
  enumValues(name: string): Map<string, bigint> | undefined {
    const id = this.named.get(`${KIND.ENUM}:${name}`);
    if (id === undefined) return undefined;
    const at = this.records[id];
    const info = this.view.getUint32(at + 4, true);
    const signed = info >>> 31 === 1;
    const out = new Map<string, bigint>();
    for (let i = 0; i < (info & 0xffff); i++) {
      if (this.kindAt(at) === KIND.ENUM64) {
        const m = at + 12 + i * 12;
        const value = (BigInt(this.view.getUint32(m + 8, true)) << 32n) | BigInt(this.view.getUint32(m + 4, true));
        out.set(this.string(this.view.getUint32(m, true)), signed ? BigInt.asIntN(64, value) : value);
      } else {
        const m = at + 12 + i * 8;
        const value = signed ? this.view.getInt32(m + 4, true) : this.view.getUint32(m + 4, true);
        out.set(this.string(this.view.getUint32(m, true)), BigInt(value));
      }
    }
    return out;
  }

  /**
   * The position of the first `struct structName *` argument a raw tracepoint passes to its BPF
   * program (ctx->args[i]), from the kernel's `btf_trace_<tp>` typedef; undefined when the
   * tracepoint or such an argument is unknown.
   */
  rawTracepointArg(tp: string, structName: string): number | undefined {
    const typedef = this.named.get(`${KIND.TYPEDEF}:btf_trace_${tp}`);
    if (typedef === undefined) return undefined;
    const ptr = this.resolve(this.view.getUint32(this.records[typedef] + 8, true));
    if (this.kindAt(this.records[ptr]) !== KIND.PTR) return undefined;
    const proto = this.resolve(this.view.getUint32(this.records[ptr] + 8, true));
    const at = this.records[proto];
    if (this.kindAt(at) !== KIND.FUNC_PROTO) return undefined;
    const vlen = this.view.getUint32(at + 4, true) & 0xffff;
    // The first parameter is the tracepoint's private data (void *), not passed to BPF.
    for (let i = 1; i < vlen; i++) {
      const param = this.resolve(this.view.getUint32(at + 12 + i * 8 + 4, true));
      if (this.kindAt(this.records[param]) !== KIND.PTR) continue;
      const target = this.resolve(this.view.getUint32(this.records[param] + 8, true));
      const t = this.records[target];
      if (this.kindAt(t) === KIND.STRUCT && this.string(this.view.getUint32(t, true)) === structName) return i - 1;
    }
    return undefined;
  }

  /** Follows typedefs and qualifiers to the type they name. */
  private resolve(id: number): number {
    for (;;) {
      const k = this.kindAt(this.records[id]);
      if (k !== KIND.TYPEDEF && k !== KIND.VOLATILE && k !== KIND.CONST && k !== KIND.RESTRICT && k !== KIND.TYPE_TAG) return id;
      id = this.view.getUint32(this.records[id] + 8, true);
    }
  }
}

let vmlinux: BtfLookup | null | undefined;

/** The running kernel's BTF for these lookups, or null when the kernel has none. */
export function btfLookup(): BtfLookup | null {
  if (vmlinux === undefined) vmlinux = BtfLookup.load();
  return vmlinux;
}
