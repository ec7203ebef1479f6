// --explain: what a tool put into the kernel, read back from the kernel itself. This is the
// teaching view: which attach point and why (the whole ladder of candidates, with what this kernel
// has and lacks), what the verifier and the JIT made of each program, and what each map costs.
import { BPF, MAP_TYPE, PROG_TYPE, mapInfo, programInfo, type MapInfo } from 'bcc-node-bindings';
import type { AttachChoice } from './attach-plan.ts';

export type { AttachChoice };

const PROG_TYPE_NAMES = Object.fromEntries(Object.entries(PROG_TYPE).map(([k, v]) => [v, k.toLowerCase()]));
const MAP_TYPE_NAMES = Object.fromEntries(Object.entries(MAP_TYPE).map(([k, v]) => [v, k.toLowerCase()]));

// "Locked" is the figure the kernel reports as memlock; most readers meet the word here first.
export const LOCKED_LEGEND = 'locked: kernel memory a program or map pins (never swapped out), charged to the memlock limit or the memory cgroup';

export function bytes(n: number): string {
  const unit = n >= 1 << 20 ? { size: 1 << 20, name: 'MiB' } : n >= 1024 ? { size: 1024, name: 'KiB' } : null;
  if (!unit) return `${n} B`;
  const value = n / unit.size;
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${unit.name}`;
}

/** Each attach decision: the winner, the candidates that lost and why, and those after it. */
export function attachLines(attachments: AttachChoice[]): string[] {
  if (!attachments.length) return [];
  const lines = ['attach points (candidates best first; the first one this kernel has wins):'];
  for (const a of attachments) {
    lines.push(`  ${a.purpose}: ${a.chosen}`);
    for (const r of a.rejected) lines.push(`    not ${r.label}: ${r.reason}`);
    // Only a ladder from chooseAttach has a winner to explain and candidates after it.
    if (!a.fallbacks) continue;
    lines.push(a.rejected.length ? '    chosen: the first choice this kernel has' : '    chosen: the first choice, and this kernel has it');
    for (const f of a.fallbacks()) lines.push(`    fallback ${f.label}: ${f.reason ?? 'would also work here'}`);
  }
  return lines;
}

export function mapLine(name: string, info: MapInfo): string {
  const type = MAP_TYPE_NAMES[info.type] ?? `type ${info.type}`;
  // A ring buffer has no keys or values: its max_entries is its size in bytes.
  const shape = info.type === MAP_TYPE.RINGBUF
    ? `${bytes(info.maxEntries)} ring buffer`
    : `key ${info.keySize} B, value ${info.valueSize} B, max ${info.maxEntries} entries`;
  return `  map id ${info.id} ${name}: ${type}, ${shape}, ${bytes(info.memlockBytes)} locked`;
}

export function explain(bpf: BPF, attachments: AttachChoice[] = []): string {
  const lines: string[] = [];
  lines.push(`compiled program: ${bpf.cacheStatus === 'hit' ? 'loaded from the compile cache (no LLVM in this process)' : `compiled now (cache ${bpf.cacheStatus})`}`);
  lines.push(...attachLines(attachments));
  lines.push('programs (as the kernel reports them):');
  const links = bpf.links();
  for (const fn of bpf.loadedFunctions()) {
    const info = programInfo(fn.fd);
    const where = links.filter((l) => l.fnName === fn.name).map((l) => `${l.kind} ${l.target}`).join(', ') || 'not attached';
    lines.push(`  program id ${info.id} ${fn.name}: ${PROG_TYPE_NAMES[info.type] ?? `type ${info.type}`} on ${where}`);
    lines.push(`    verifier: ${info.verifiedInsns} insns processed; after rewrites ${info.xlatedInsns} insns; JIT ${info.jitedBytes} bytes of machine code; ${bytes(info.memlockBytes)} locked`);
  }
  lines.push('maps:');
  for (const name of bpf.tableNames()) lines.push(mapLine(name, mapInfo(bpf.table(name).fd)));
  lines.push(LOCKED_LEGEND);
  return `${lines.join('\n')}\n`;
}
