// Separate debug files, found where gdb looks for them (gdb manual, "Separate Debug Files"):
// by build-id under <debugDir>/.build-id/xx/rest.debug, then by the .gnu_debuglink name in the
// binary's directory, its .debug/ subdirectory, and <debugDir>/<binary's directory>/. A candidate
// is taken only if it is the binary's: same build-id, or (without one) the CRC32 debuglink records.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { parseElf, fileSource, SHT_NOBITS, type Elf } from './elf.ts';

export interface DebugFileContext {
  /** The binary's path as its process sees it ("/usr/bin/foo"). */
  path: string;
  /** Prefix that reaches the process's files ("/proc/123/root"), "" for this process's own view. */
  root: string;
  debugDirs: readonly string[];
}

/** The debug file that belongs to `elf`, opened and parsed, with a symbol table; or null. */
export function findDebugFile(elf: Elf, ctx: DebugFileContext): { elf: Elf; fd: number } | null {
  for (const file of candidates(elf, ctx)) {
    let fd: number;
    try { fd = fs.openSync(file, 'r'); } catch { continue; }
    try {
      const debug = parseElf(fileSource(fd));
      const symtab = debug.section('.symtab');
      if (symtab && symtab.type !== SHT_NOBITS && belongs(elf, debug, fd)) return { elf: debug, fd };
    } catch { /* not ELF, or truncated: the next candidate */ }
    fs.closeSync(fd);
  }
  return null;
}

function candidates(elf: Elf, ctx: DebugFileContext): string[] {
  const out: string[] = [];
  // The process's debug directories first (a container ships its own), then this host's: the
  // same file under both names when the process shares our mount namespace, tried once.
  const roots = ctx.root ? [ctx.root, ''] : [''];
  if (elf.buildId && elf.buildId.length > 2) {
    const rel = `.build-id/${elf.buildId.slice(0, 2)}/${elf.buildId.slice(2)}.debug`;
    for (const dir of ctx.debugDirs) for (const root of roots) out.push(`${root}${path.join(dir, rel)}`);
  }
  if (elf.debuglink) {
    const name = elf.debuglink.name;
    const dir = path.dirname(ctx.path);
    out.push(`${ctx.root}${path.join(dir, name)}`, `${ctx.root}${path.join(dir, '.debug', name)}`);
    for (const debugDir of ctx.debugDirs) for (const root of roots) out.push(`${root}${path.join(debugDir, dir, name)}`);
  }
  return [...new Set(out)].filter((file) => path.resolve(file) !== path.resolve(`${ctx.root}${ctx.path}`));
}

function belongs(elf: Elf, debug: Elf, fd: number): boolean {
  if (elf.buildId && debug.buildId) return elf.buildId === debug.buildId;
  if (!elf.debuglink) return false;
  // No build-id to compare: the CRC of the whole debug file, as gdb checks it.
  return crcOfFile(fd) === elf.debuglink.crc;
}

function crcOfFile(fd: number): number {
  const chunk = Buffer.allocUnsafe(1 << 20);
  let crc = 0;
  for (let pos = 0; ;) {
    const n = fs.readSync(fd, chunk, 0, chunk.length, pos);
    if (n <= 0) return crc;
    crc = zlib.crc32(chunk.subarray(0, n), crc);
    pos += n;
  }
}
