// --explain: what a tool put into the kernel, read back from the kernel itself. This is the
// teaching view: which attach point and why, what the verifier and the JIT made of each program,
// and what each map costs.
import { BPF, MAP_TYPE, PROG_TYPE, mapInfo, programInfo } from 'bcc-node-bindings';
import type { AttachChoice } from './attach-plan.ts';

export type { AttachChoice };

const PROG_TYPE_NAMES = Object.fromEntries(Object.entries(PROG_TYPE).map(([k, v]) => [v, k.toLowerCase()]));
const MAP_TYPE_NAMES = Object.fromEntries(Object.entries(MAP_TYPE).map(([k, v]) => [v, k.toLowerCase()]));

function bytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

export function explain(bpf: BPF, attachments: AttachChoice[] = []): string {
  const lines: string[] = [];
  lines.push(`compiled program: ${bpf.cacheStatus === 'hit' ? 'loaded from the compile cache (no LLVM in this process)' : `compiled now (cache ${bpf.cacheStatus})`}`);
  if (attachments.length) {
    lines.push('attach points (first usable choice wins):');
    for (const a of attachments) {
      lines.push(`  ${a.purpose}: ${a.chosen}`);
      for (const r of a.rejected) lines.push(`    not ${r.label}: ${r.reason}`);
    }
  }
  lines.push('programs (as the kernel reports them):');
  const links = bpf.links();
  for (const fn of bpf.loadedFunctions()) {
    const info = programInfo(fn.fd);
    const where = links.filter((l) => l.fnName === fn.name).map((l) => `${l.kind} ${l.target}`).join(', ') || 'not attached';
    lines.push(`  program id ${info.id} ${fn.name}: ${PROG_TYPE_NAMES[info.type] ?? `type ${info.type}`} on ${where}`);
    lines.push(`    verifier: ${info.verifiedInsns} insns processed; after rewrites ${info.xlatedInsns} insns; JIT ${info.jitedBytes} bytes of machine code; ${bytes(info.memlockBytes)} locked`);
  }
  lines.push('maps:');
  for (const name of bpf.tableNames()) {
    const table = bpf.table(name);
    const info = mapInfo(table.fd);
    lines.push(`  map id ${info.id} ${name}: ${MAP_TYPE_NAMES[info.type] ?? `type ${info.type}`}, key ${info.keySize} B, value ${info.valueSize} B, max ${info.maxEntries} entries, ${bytes(info.memlockBytes)}`);
  }
  return `${lines.join('\n')}\n`;
}
