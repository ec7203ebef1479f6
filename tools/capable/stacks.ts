// The stacks of -K and -U: read from the `stacks` map by the ids a record carries, named through
// the binding's Symbolizer as bcc's capable names them (BPF.sym with show_module and show_offset:
// "cap_capable+0x1 [kernel]", "__GI___setpriority+0xb [libc.so.6]"), and freed.
//
// bcc never frees a stack, so once its 2048 buckets hold other stacks a new one may collide and
// be lost. Freeing each stack once read keeps the map for the stacks in flight. Two checks with
// the same stack share one id: the second may arrive after the first freed it, so the addresses
// last read for each id are kept and used when the entry is gone.
import { Symbolizer, formatFrame, type Frame, type StackTraceTable } from 'bcc-node-bindings';
import { stackIdFailed } from '../../lib/output/stacks.ts';

// Ids whose addresses are kept for a later record with the same id; beyond this, the oldest go.
const MAX_KEPT = 4096;

/** A kernel frame as bcc's BPF.sym(addr, -1, show_module=True, show_offset=True) prints it. */
export function kernelFrameText(frame: Frame): string {
  return formatFrame({ ...frame, module: frame.module ?? (frame.name === null ? undefined : 'kernel') }, { offset: true, module: true });
}

export class CapStacks {
  private readonly symbolizer = new Symbolizer();
  private readonly kept = new Map<number, bigint[]>();

  constructor(private readonly table: StackTraceTable) {}

  private addresses(stackId: number): bigint[] {
    const addrs = this.table.walk(stackId);
    if (addrs.length === 0) return this.kept.get(stackId) ?? [];
    if (this.kept.size >= MAX_KEPT) this.kept.delete(this.kept.keys().next().value!);
    this.kept.set(stackId, addrs);
    this.table.delete(stackId);
    return addrs;
  }

  /** Kernel frames, innermost first; null when the kernel could not record the stack. */
  kernel(stackId: number): string[] | null {
    if (stackIdFailed(stackId)) return null;
    if (stackId < 0) return [];
    return this.addresses(stackId).map((a) => kernelFrameText(this.symbolizer.kernel(a)));
  }

  /** User frames of process `tgid`, innermost first; null when the kernel could not record the stack. */
  user(tgid: number, stackId: number): string[] | null {
    if (stackIdFailed(stackId)) return null;
    if (stackId < 0) return [];
    return this.symbolizer.user(tgid, this.addresses(stackId)).map((f) => formatFrame(f, { offset: true, module: true }));
  }
}
