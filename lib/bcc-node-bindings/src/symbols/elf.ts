// A small ELF reader: just what naming addresses needs — section and program headers, symbol
// tables, the build-id note and .gnu_debuglink. ELF64 little-endian only (x86_64 and aarch64,
// the machines bpfkit runs on); anything else is refused with ElfError and its addresses stay
// unknown. Sections are read on demand through a ByteSource, so a 100 MB binary costs the few
// hundred kilobytes of its symbol tables, not the whole file.
import fs from 'node:fs';

/** Where an ELF image's bytes come from: an open file, or memory (a decompressed MiniDebugInfo). */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Buffer;
}

export function fileSource(fd: number): ByteSource {
  const size = fs.fstatSync(fd).size;
  return {
    size,
    read(offset, length) {
      const len = Math.max(0, Math.min(length, size - offset));
      const buf = Buffer.allocUnsafe(len);
      let done = 0;
      while (done < len) {
        const n = fs.readSync(fd, buf, done, len - done, offset + done);
        if (n <= 0) break;
        done += n;
      }
      return done === len ? buf : buf.subarray(0, done);
    },
  };
}

export function bufferSource(buf: Buffer): ByteSource {
  return { size: buf.length, read: (offset, length) => buf.subarray(offset, Math.min(buf.length, offset + length)) };
}

export class ElfError extends Error {}

export const ET_EXEC = 2;
export const ET_DYN = 3;
export const SHT_SYMTAB = 2;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_DYNSYM = 11;
const PT_LOAD = 1;
const PT_NOTE = 4;
const NT_GNU_BUILD_ID = 3;

export interface Section {
  name: string;
  type: number;
  /** Link-time address (0 for sections not loaded). */
  addr: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

export interface LoadSegment {
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

export interface Elf {
  readonly source: ByteSource;
  /** ET_EXEC (non-PIE executable, fixed addresses) or ET_DYN (PIE or shared library), … */
  readonly type: number;
  readonly sections: Section[];
  readonly loads: LoadSegment[];
  /** Lower-case hex of the NT_GNU_BUILD_ID note, or null. */
  readonly buildId: string | null;
  /** The separate debug file's name and CRC32, from .gnu_debuglink. */
  readonly debuglink: { name: string; crc: number } | null;
  section(name: string): Section | undefined;
  /** A section's bytes (empty for SHT_NOBITS: a debug file's .text has none). */
  bytes(section: Section): Buffer;
}

// Addresses and offsets are kept as numbers: user space is below 2^48 on both architectures, and
// a file larger than 2^53 bytes does not exist, so no precision is lost and no bigint is paid for.
function u64(buf: Buffer, at: number): number {
  return Number(buf.readBigUInt64LE(at));
}

export function parseElf(source: ByteSource): Elf {
  const hdr = source.read(0, 64);
  if (hdr.length < 64 || hdr.readUInt32BE(0) !== 0x7f454c46) throw new ElfError('not an ELF file');
  if (hdr[4] !== 2 || hdr[5] !== 1) throw new ElfError('not a 64-bit little-endian ELF file');
  const type = hdr.readUInt16LE(16);
  const phoff = u64(hdr, 32);
  const shoff = u64(hdr, 40);
  const phentsize = hdr.readUInt16LE(54);
  let phnum = hdr.readUInt16LE(56);
  const shentsize = hdr.readUInt16LE(58);
  let shnum = hdr.readUInt16LE(60);
  let shstrndx = hdr.readUInt16LE(62);

  // More than 0xff00 sections (or 0xffff program headers): the real counts live in section 0.
  if (shoff && (shnum === 0 || shstrndx === 0xffff || phnum === 0xffff)) {
    const first = source.read(shoff, 64);
    if (first.length === 64) {
      if (shnum === 0) shnum = u64(first, 32);
      if (shstrndx === 0xffff) shstrndx = first.readUInt32LE(40);
      if (phnum === 0xffff) phnum = first.readUInt32LE(44);
    }
  }

  const loads: LoadSegment[] = [];
  const notes: Array<{ offset: number; size: number }> = [];
  if (phoff && phentsize >= 56) {
    const table = source.read(phoff, phnum * phentsize);
    for (let i = 0; (i + 1) * phentsize <= table.length; i++) {
      const at = i * phentsize;
      const ptype = table.readUInt32LE(at);
      if (ptype === PT_LOAD) {
        loads.push({ offset: u64(table, at + 8), vaddr: u64(table, at + 16), filesz: u64(table, at + 32), memsz: u64(table, at + 40) });
      } else if (ptype === PT_NOTE) {
        notes.push({ offset: u64(table, at + 8), size: u64(table, at + 32) });
      }
    }
  }

  const sections: Section[] = [];
  if (shoff && shentsize >= 64 && shnum > 0) {
    const table = source.read(shoff, shnum * shentsize);
    const nameOffsets: number[] = [];
    for (let i = 0; (i + 1) * shentsize <= table.length; i++) {
      const at = i * shentsize;
      nameOffsets.push(table.readUInt32LE(at));
      sections.push({
        name: '', type: table.readUInt32LE(at + 4), addr: u64(table, at + 16), offset: u64(table, at + 24),
        size: u64(table, at + 32), link: table.readUInt32LE(at + 40), entsize: u64(table, at + 56),
      });
    }
    const strtab = sections[shstrndx];
    if (strtab && strtab.type !== SHT_NOBITS) {
      const names = source.read(strtab.offset, strtab.size);
      sections.forEach((s, i) => { s.name = cString(names, nameOffsets[i]); });
    }
  }

  const bytes = (s: Section): Buffer => (s.type === SHT_NOBITS ? Buffer.alloc(0) : source.read(s.offset, s.size));
  const byName = new Map<string, Section>();
  for (const s of sections) if (s.name && !byName.has(s.name)) byName.set(s.name, s);

  // The build-id from its note section; a file whose section headers were stripped away still
  // has the PT_NOTE segment the loader keeps.
  let buildId: string | null = null;
  for (const s of sections) {
    if (s.type === SHT_NOTE) buildId ??= findBuildId(bytes(s));
  }
  for (const n of notes) buildId ??= findBuildId(source.read(n.offset, n.size));

  let debuglink: Elf['debuglink'] = null;
  const link = byName.get('.gnu_debuglink');
  if (link && link.type !== SHT_NOBITS) {
    const data = bytes(link);
    const name = cString(data, 0);
    const crcAt = (name.length + 1 + 3) & ~3;
    if (name && crcAt + 4 <= data.length) debuglink = { name, crc: data.readUInt32LE(crcAt) };
  }

  return { source, type, sections, loads, buildId, debuglink, section: (name) => byName.get(name), bytes };
}

function cString(buf: Buffer, at: number): string {
  const end = buf.indexOf(0, at);
  return buf.toString('latin1', at, end < 0 ? buf.length : end);
}

function findBuildId(notes: Buffer): string | null {
  for (let at = 0; at + 12 <= notes.length;) {
    const namesz = notes.readUInt32LE(at);
    const descsz = notes.readUInt32LE(at + 4);
    const type = notes.readUInt32LE(at + 8);
    const nameAt = at + 12;
    const descAt = nameAt + ((namesz + 3) & ~3);
    if (descAt + descsz > notes.length) break;
    if (type === NT_GNU_BUILD_ID && namesz === 4 && notes.toString('latin1', nameAt, nameAt + 3) === 'GNU') {
      return notes.toString('hex', descAt, descAt + descsz);
    }
    at = descAt + ((descsz + 3) & ~3);
  }
  return null;
}

/**
 * The link-time address (what symbols hold) of a byte the process mapped at `fileOffset` of this
 * file: the PT_LOAD segment that holds that file offset says where the linker put it. One rule
 * for every kind of file — a PIE or shared library loaded anywhere, a non-PIE executable at its
 * fixed address — since it never looks at where the process put the mapping, only at which bytes.
 */
export function fileOffsetToVaddr(loads: readonly LoadSegment[], fileOffset: number): number | null {
  for (const seg of loads) {
    if (fileOffset >= seg.offset && fileOffset < seg.offset + Math.max(seg.filesz, 1)) {
      return fileOffset - seg.offset + seg.vaddr;
    }
  }
  return null;
}
