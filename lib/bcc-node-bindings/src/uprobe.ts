// Uprobes without libbcc: the symbol's file offset from our own ELF reader, and the probe opened
// as a perf event of the kernel's uprobe PMU (/sys/bus/event_source/devices/uprobe, Linux 4.17+),
// which takes the file's path and the offset in perf_event_attr and needs no tracefs event.
// Calling libbcc instead maps LLVM into the process: ~60 MB of RSS for a tool that attaches one
// uretprobe (bashreadline sat at 114 MB). attach.ts falls back to libbcc where this cannot serve:
// a library given by name ("c") rather than path, or a kernel without the uprobe PMU.
import fs from 'node:fs';
import koffi from 'koffi';
import { libc, SYS_PERF_EVENT_OPEN } from './ffi/libc.ts';
import { fileSource, parseElf, SHT_DYNSYM, SHT_SYMTAB, type Elf, type LoadSegment } from './symbols/elf.ts';

const UPROBE_PMU = '/sys/bus/event_source/devices/uprobe';
const PERF_ATTR_SIZE = 128;
const PERF_FLAG_FD_CLOEXEC = 1 << 3;
const SYMBOL_SIZE = 24;
const SHN_UNDEF = 0;

/** The value (link-time address) of a defined symbol `name` in .symtab or .dynsym, or null. */
export function symbolValue(elf: Elf, name: string): number | null {
  const wanted = Buffer.from(name, 'latin1');
  for (const type of [SHT_SYMTAB, SHT_DYNSYM]) {
    for (const table of elf.sections.filter((s) => s.type === type)) {
      const symbols = elf.bytes(table);
      const strings = elf.bytes(elf.sections[table.link]);
      for (let at = 0; at + SYMBOL_SIZE <= symbols.length; at += SYMBOL_SIZE) {
        const value = Number(symbols.readBigUInt64LE(at + 8));
        if (value === 0 || symbols.readUInt16LE(at + 6) === SHN_UNDEF) continue;
        const start = symbols.readUInt32LE(at);
        if (strings[start + wanted.length] === 0 && strings.subarray(start, start + wanted.length).equals(wanted)) return value;
      }
    }
  }
  return null;
}

/** Where in the file the byte the linker put at `vaddr` is: what the kernel's uprobes take. */
export function vaddrToFileOffset(loads: readonly LoadSegment[], vaddr: number): number | null {
  for (const seg of loads) {
    if (vaddr >= seg.vaddr && vaddr < seg.vaddr + seg.filesz) return vaddr - seg.vaddr + seg.offset;
  }
  return null;
}

/** A symbol's file offset in the ELF file at `file`, or null when the file does not define it. */
export function symbolFileOffset(file: string, sym: string): number | null {
  const fd = fs.openSync(file, 'r');
  try {
    const elf = parseElf(fileSource(fd));
    const value = symbolValue(elf, sym);
    return value === null ? null : vaddrToFileOffset(elf.loads, value);
  } finally {
    fs.closeSync(fd);
  }
}

/** The uprobe PMU's type and the config bit that makes a probe a return probe, or null. */
export function uprobePmu(): { type: number; retprobeBit: number } | null {
  try {
    const type = Number(fs.readFileSync(`${UPROBE_PMU}/type`, 'utf8'));
    // "config:0": the bit of attr.config that asks for a return probe.
    const format = /^config:(\d+)/.exec(fs.readFileSync(`${UPROBE_PMU}/format/retprobe`, 'utf8').trim());
    return Number.isInteger(type) && format ? { type, retprobeBit: Number(format[1]) } : null;
  } catch {
    return null;
  }
}

/** perf_event_open of a uprobe at `offset` in `path` (all processes, or `pid`); the fd, or -1 and errno. */
export function openUprobeEvent(pmu: { type: number; retprobeBit: number }, path: string, offset: bigint, ret: boolean, pid = -1): number {
  const attr = Buffer.alloc(PERF_ATTR_SIZE);
  const pathBytes = Buffer.from(`${path}\0`);
  attr.writeUInt32LE(pmu.type, 0);
  attr.writeUInt32LE(PERF_ATTR_SIZE, 4);
  attr.writeBigUInt64LE(ret ? 1n << BigInt(pmu.retprobeBit) : 0n, 8);
  attr.writeBigUInt64LE(1n, 16);   // sample_period: every hit
  attr.writeBigUInt64LE(BigInt(koffi.address(pathBytes)), 56);   // config1: uprobe_path
  attr.writeBigUInt64LE(offset, 64);                               // config2: probe_offset
  // A probe for every process is opened on CPU 0 and fires on every CPU (as libbpf opens it).
  return Number(libc.syscall(SYS_PERF_EVENT_OPEN, 'void *', attr, 'int', pid, 'int', pid === -1 ? 0 : -1, 'int', -1, 'unsigned long', PERF_FLAG_FD_CLOEXEC));
}
