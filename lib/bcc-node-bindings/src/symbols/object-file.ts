// One mapped file's functions, from every place they may be: its own .symtab; else a separate
// debug file (build-id, debuglink) or, failing that, the MiniDebugInfo in .gnu_debugdata; and
// always its .dynsym. Only what naming needs is kept — the load segments and a SymbolTable — so
// the file is closed once read and a process that has exited is still named from memory.
import fs from 'node:fs';
import { parseElf, fileSource, bufferSource, SHT_NOBITS, type Elf, type LoadSegment } from './elf.ts';
import { SymbolTableBuilder, SymbolTable } from './symbol-table.ts';
import { findDebugFile, type DebugFileContext } from './debug-files.ts';
import { xzDecompress } from '../ffi/lzma.ts';

export interface ObjectFile {
  buildId: string | null;
  loads: readonly LoadSegment[];
  symbols: SymbolTable;
  /** Where the names came from, for tests and for --explain-like reports. */
  sources: Array<'symtab' | 'debugfile' | 'minidebuginfo' | 'dynsym'>;
}

// Ranks: where two tables name one address, the full .symtab (or its stand-ins) beats .dynsym.
const FULL = 0;
const MINI = 1;
const DYNAMIC = 2;

/** Reads the symbols of an already parsed ELF file (the binary, opened by the caller). */
export function loadObject(elf: Elf, ctx: DebugFileContext): ObjectFile {
  const builder = new SymbolTableBuilder();
  const sources: ObjectFile['sources'] = [];
  const symtab = elf.section('.symtab');
  if (symtab && symtab.type !== SHT_NOBITS) {
    builder.addElfSymbols(elf, symtab, FULL);
    sources.push('symtab');
  } else {
    const debug = findDebugFile(elf, ctx);
    if (debug) {
      try {
        const debugSymtab = debug.elf.section('.symtab');
        if (debugSymtab) builder.addElfSymbols(debug.elf, debugSymtab, FULL);
        sources.push('debugfile');
      } finally {
        fs.closeSync(debug.fd);
      }
    } else if (addMiniDebugInfo(elf, builder)) {
      sources.push('minidebuginfo');
    }
  }
  const dynsym = elf.section('.dynsym');
  if (dynsym && dynsym.type !== SHT_NOBITS) {
    builder.addElfSymbols(elf, dynsym, DYNAMIC);
    sources.push('dynsym');
  }
  return { buildId: elf.buildId, loads: elf.loads, symbols: builder.build(), sources };
}

/**
 * MiniDebugInfo (the GDB manual's name): an xz-compressed ELF file in .gnu_debugdata holding the
 * .symtab entries that .dynsym lacks — static functions, mostly — so that a stripped distribution
 * binary still names its own code in a backtrace.
 */
function addMiniDebugInfo(elf: Elf, builder: SymbolTableBuilder): boolean {
  const section = elf.section('.gnu_debugdata');
  if (!section || section.type === SHT_NOBITS) return false;
  const bytes = xzDecompress(elf.bytes(section));
  if (!bytes) return false;
  try {
    const mini = parseElf(bufferSource(bytes));
    const symtab = mini.section('.symtab');
    if (!symtab) return false;
    builder.addElfSymbols(mini, symtab, MINI);
    return true;
  } catch {
    return false;
  }
}

/** A file outside any process (tests, tools given a path): its symbols as ObjectFile. */
export function loadObjectFromPath(file: string, debugDirs: readonly string[] = ['/usr/lib/debug']): ObjectFile {
  const fd = fs.openSync(file, 'r');
  try {
    return loadObject(parseElf(fileSource(fd)), { path: file, root: '', debugDirs });
  } finally {
    fs.closeSync(fd);
  }
}
