// Where readline is: in bash itself (Debian and Ubuntu build bash with its own copy of readline,
// so /bin/bash exports `readline`), or in the libreadline.so a bash links (Arch, where
// bcc's -s exists for). The answers come from the files, the way the probe will be placed: a
// symbol's file offset as libbcc resolves it for the attach, and a library from bash's
// DT_NEEDED entries. program.ts takes these as an interface so that its choices can be tested
// with stand-in files.
import fs from 'node:fs';
import path from 'node:path';
import { BpfError, resolveUprobe } from 'bcc-node-bindings';
import { fileSource, parseElf } from '../../lib/bcc-node-bindings/src/symbols/elf.ts';

export interface ReadlineFiles {
  /** The file and file offset a uprobe on `sym` in `file` goes to, or null when `file` has no such symbol. */
  symbol(file: string, sym: string): { path: string; offset: bigint } | null;
  /** The libreadline `binary` links (a DT_NEEDED entry), as a path, or null. */
  linkedReadline(binary: string): string | null;
  /** Both paths name the same file (device and inode: what a uprobe is placed on). */
  sameFile(a: string, b: string): boolean;
  /** The kernel places uprobes (CONFIG_UPROBE_EVENTS): the uprobe PMU, or tracefs's uprobe_events. */
  uprobes(): boolean;
}

const DT_NEEDED = 1;

/** Names bash's dynamic section lists (libtinfo.so.6, libc.so.6, libreadline.so.8 on Arch). */
export function neededLibraries(binary: string): string[] {
  const fd = fs.openSync(binary, 'r');
  try {
    const elf = parseElf(fileSource(fd));
    const dynamic = elf.section('.dynamic');
    const dynstr = elf.section('.dynstr');
    if (!dynamic || !dynstr) return [];
    const entries = elf.bytes(dynamic);
    const strings = elf.bytes(dynstr);
    const names: string[] = [];
    for (let at = 0; at + 16 <= entries.length; at += 16) {
      const tag = entries.readBigInt64LE(at);
      if (tag === 0n) break;
      if (tag !== BigInt(DT_NEEDED)) continue;
      const start = Number(entries.readBigUInt64LE(at + 8));
      const end = strings.indexOf(0, start);
      names.push(strings.toString('latin1', start, end < 0 ? strings.length : end));
    }
    return names;
  } catch {
    return [];
  } finally {
    fs.closeSync(fd);
  }
}

const MULTIARCH: Record<string, string> = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', riscv64: 'riscv64-linux-gnu' };

/** The directories the dynamic loader searches by default, with Debian's multiarch ones. */
function libraryDirs(): string[] {
  const triplet = MULTIARCH[process.arch];
  return [...(triplet ? [`/lib/${triplet}`, `/usr/lib/${triplet}`] : []), '/lib64', '/usr/lib64', '/lib', '/usr/lib'];
}

export function liveReadlineFiles(): ReadlineFiles {
  return {
    symbol(file, sym) {
      try {
        return resolveUprobe({ name: file, sym });
      } catch (err) {
        if (err instanceof BpfError && err.code === 'ATTACH_MISSING') return null;
        throw err;
      }
    },
    linkedReadline(binary) {
      const soname = neededLibraries(binary).find((n) => /^libreadline\.so(\.|$)/.test(n));
      if (!soname) return null;
      for (const dir of libraryDirs()) {
        const candidate = path.join(dir, soname);
        if (fs.existsSync(candidate)) return candidate;
      }
      return null;
    },
    sameFile(a, b) {
      try {
        const [sa, sb] = [fs.statSync(a), fs.statSync(b)];
        return sa.dev === sb.dev && sa.ino === sb.ino;
      } catch {
        return false;
      }
    },
    uprobes: () => fs.existsSync('/sys/bus/event_source/devices/uprobe/type')
      || fs.existsSync('/sys/kernel/tracing/uprobe_events') || fs.existsSync('/sys/kernel/debug/tracing/uprobe_events'),
  };
}
