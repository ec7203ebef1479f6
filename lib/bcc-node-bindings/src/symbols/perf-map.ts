// /tmp/perf-PID.map: the text file JIT runtimes write to name the code they generate (Node with
// --perf-basic-prof, the JVM with perf-map-agent, LuaJIT, …), one "START SIZE name" line per
// function, addresses in hex. Read from the process's own /tmp (/proc/PID/root/tmp), named by its
// pid inside its PID namespace, and read again whenever the file has grown.
import fs from 'node:fs';
import { SymbolTableBuilder, SymbolTable, type SymbolHit } from './symbol-table.ts';

/** Parses perf map text. A later line for the same address wins: the JIT reused that memory. */
export function parsePerfMap(text: string): SymbolTable {
  const builder = new SymbolTableBuilder();
  let line = 0;
  for (let pos = 0; pos < text.length; line++) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const m = /^(?:0x)?([0-9a-fA-F]+) (?:0x)?([0-9a-fA-F]+) (.+)$/.exec(text.slice(pos, end));
    pos = end + 1;
    if (!m) continue;
    const size = Number.parseInt(m[2], 16);
    if (size > 0) builder.add(Number.parseInt(m[1], 16), size, m[3].trimEnd(), -line);
  }
  return builder.build();
}

export class PerfMap {
  private table = SymbolTable.EMPTY;
  private readSize = -1;

  constructor(readonly file: string) {}

  /** Re-reads the file if it grew since the last read; keeps the last table if it is gone. */
  refresh(): void {
    let size: number;
    try { size = fs.statSync(this.file).size; } catch { return; }
    if (size === this.readSize) return;
    try {
      this.table = parsePerfMap(fs.readFileSync(this.file, 'utf8'));
      this.readSize = size;
    } catch { /* vanished between stat and read: keep what we had */ }
  }

  lookup(addr: number): SymbolHit | null {
    return this.table.lookup(addr);
  }

  get size(): number {
    return this.table.size;
  }
}
