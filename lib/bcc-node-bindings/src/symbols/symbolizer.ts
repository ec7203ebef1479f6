// Addresses from stack traces as function names: bcc's BPF.sym() and ksym(), for every process a
// profiler meets. Kernel addresses come from kallsyms (kernel.ts); user addresses from the ELF
// files each process maps, read by our own reader (elf.ts; why ours and not libbcc's or libdwfl,
// measured, is in the binding's README, "Symbols"), and from perf maps for JIT-compiled code.
import fs from 'node:fs';
import { parseElf, fileSource, fileOffsetToVaddr, ElfError } from './elf.ts';
import { loadObject, type ObjectFile } from './object-file.ts';
import { readMaps, findMapping, isFileMapping, openMapped, namespacePid, type Mapping } from './proc.ts';
import { PerfMap } from './perf-map.ts';
import { lookupKernel } from './kernel.ts';
import { demangle } from '../ffi/demangle.ts';
import type { Frame } from './frame.ts';

export interface SymbolizerOptions {
  /** Read /tmp/perf-PID.map (JIT runtimes). Default true. */
  perfMaps?: boolean;
  /** Where separate debug files are looked for by build-id and debuglink. Default ['/usr/lib/debug']. */
  debugDirs?: string[];
  /** Demangle C++ and Rust names. Default true. */
  demangle?: boolean;
}

/** What is known of one process: its executable mappings and the files behind them. */
interface ProcessView {
  maps: Mapping[];
  /** By mapping identity (path and inode): null when the file could not be read. */
  objects: Map<string, ObjectFile | null>;
  /** By mapping identity: the file's stat key, for files remember() opened but nothing has parsed yet. */
  opened: Map<string, string>;
  perfMap: PerfMap | null;
  /** Its root directory as a path: /proc/PID/root, or once remembered an fd held on it. */
  root: string;
  refreshedAt: number;
}

// remember() called for every sample of a busy pid re-reads its maps at most this often.
const REMEMBER_REFRESH_MS = 1000;
// Files read for processes nobody remember()ed: kept for the next batch, within reason.
const MAX_UNKEPT_FILES = 256;
const MAX_DEMANGLED = 50_000;

export class Symbolizer {
  private readonly perfMaps: boolean;
  private readonly debugDirs: readonly string[];
  private readonly demangle: boolean;
  /** Parsed files, by build-id, and by device+inode+mtime+size for files without one. */
  private readonly files = new Map<string, ObjectFile>();
  /** The key in `files` for a file already opened once, by device+inode+mtime+size. */
  private readonly statKeys = new Map<string, string>();
  private readonly kept = new Map<number, ProcessView>();
  /** Files remember() holds open (by stat key) until a lookup needs them parsed: one fd per file, not per process. */
  private readonly openFiles = new Map<string, number>();
  /** Root directories held open, by mount namespace: where a stripped file's debug file is looked for. */
  private readonly roots = new Map<string, string>();
  private readonly demangled = new Map<string, string>();

  constructor(options: SymbolizerOptions = {}) {
    this.perfMaps = options.perfMaps ?? true;
    this.debugDirs = [...(options.debugDirs ?? ['/usr/lib/debug'])];
    this.demangle = options.demangle ?? true;
  }

  /** A kernel address (kallsyms; read once, re-read when a module appears). */
  kernel(addr: bigint): Frame {
    const sym = lookupKernel(addr);
    if (!sym) return { addr, name: null, offset: 0 };
    const frame: Frame = { addr, name: sym.name, offset: sym.offset };
    if (sym.module) frame.module = sym.module;
    return frame;
  }

  /** User addresses of one process, in a batch (see SYMBOLS-API: one read of /proc/PID/maps). */
  user(pid: number, addrs: readonly bigint[]): Frame[] {
    const view = this.view(pid);
    if (!view) return addrs.map((addr) => ({ addr, name: null, offset: 0 }));
    let perfMapFresh = false;
    return addrs.map((addr): Frame => {
      const at = Number(addr);
      const mapping = findMapping(view.maps, at);
      if (mapping && isFileMapping(mapping)) {
        const obj = this.objectFor(pid, view, mapping);
        const vaddr = obj ? fileOffsetToVaddr(obj.loads, at - mapping.start + mapping.offset) : null;
        const hit = obj && vaddr !== null ? obj.symbols.lookup(vaddr) : null;
        return hit
          ? { addr, name: this.readable(hit.name), offset: hit.offset, module: mapping.path }
          : { addr, name: null, offset: 0, module: mapping.path };
      }
      if (view.perfMap) {
        if (!perfMapFresh) { view.perfMap.refresh(); perfMapFresh = true; }
        const hit = view.perfMap.lookup(at);
        if (hit) return { addr, name: hit.name, offset: hit.offset, module: '[perf-map]' };
      }
      const frame: Frame = { addr, name: null, offset: 0 };
      if (mapping?.path) frame.module = mapping.path;
      return frame;
    });
  }

  /** Keep pid's mappings (and read its files) now, so that user() still works after it exits. */
  remember(pid: number): void {
    const known = this.kept.get(pid);
    if (known && Date.now() - known.refreshedAt < REMEMBER_REFRESH_MS) return;
    const view = this.view(pid);
    if (!view) return;
    // Only opened here, not parsed: a profiler remembers every process it samples, most of whose
    // files no stack will ever need, and parsing them all (node's 100 MB binary among them) would
    // cost the sampling run CPU and memory. An open fd keeps a file readable after its process
    // exits, is deleted, or its mount namespace goes away; the parse waits for user().
    for (const m of view.maps) {
      const id = mappingId(m);
      if (!isFileMapping(m) || view.objects.has(id) || view.opened.has(id)) continue;
      const fd = openMapped(pid, m);
      if (fd === null) continue;
      let statKey: string;
      try { statKey = statKeyOf(fs.fstatSync(fd)); } catch { fs.closeSync(fd); continue; }
      if (this.statKeys.has(statKey) || this.openFiles.has(statKey)) fs.closeSync(fd);
      else this.openFiles.set(statKey, fd);
      view.opened.set(id, statKey);
    }
    view.root = this.heldRoot(pid) ?? view.root;
    view.perfMap?.refresh();
    this.kept.set(pid, view);
  }

  /**
   * The process's root directory through an fd held open on it, one per mount namespace: a
   * stripped file's debug file (by debuglink, beside it) is found after the process exited, even
   * in a container whose filesystem only that process's namespace reached.
   */
  private heldRoot(pid: number): string | null {
    let ns: string;
    try { ns = fs.readlinkSync(`/proc/${pid}/ns/mnt`); } catch { return null; }
    let root = this.roots.get(ns);
    if (!root) {
      try { root = `/proc/self/fd/${fs.openSync(`/proc/${pid}/root`, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY)}`; } catch { return null; }
      this.roots.set(ns, root);
    }
    return root;
  }

  /** Drop what is kept for pid, and the files no kept process maps. */
  forget(pid: number): void {
    const view = this.kept.get(pid);
    if (!view) return;
    this.kept.delete(pid);
    // Files opened for it alone are closed; those another kept process still maps stay open.
    const stillOpened = new Set<string>();
    for (const other of this.kept.values()) for (const key of other.opened.values()) stillOpened.add(key);
    for (const key of view.opened.values()) {
      const fd = this.openFiles.get(key);
      if (fd !== undefined && !stillOpened.has(key)) { fs.closeSync(fd); this.openFiles.delete(key); }
    }
    this.prune(0);
  }

  /** The process's current mappings; for a kept process that has exited, the last ones seen. */
  private view(pid: number): ProcessView | null {
    const kept = this.kept.get(pid);
    const maps = readMaps(pid);
    if (!maps) return kept ?? null;
    if (kept) {
      kept.maps = maps;
      kept.refreshedAt = Date.now();
      return kept;
    }
    const perfMap = this.perfMaps ? new PerfMap(`/proc/${pid}/root/tmp/perf-${namespacePid(pid)}.map`) : null;
    return { maps, objects: new Map(), opened: new Map(), perfMap, root: `/proc/${pid}/root`, refreshedAt: Date.now() };
  }

  private objectFor(pid: number, view: ProcessView, m: Mapping): ObjectFile | null {
    const id = mappingId(m);
    if (view.objects.has(id)) return view.objects.get(id) ?? null;
    const statKey = view.opened.get(id);
    const obj = statKey !== undefined ? this.parseOpened(statKey, m, pid, view.root) : this.readObject(pid, m, view.root);
    view.objects.set(id, obj);
    view.opened.delete(id);
    return obj;
  }

  /** A file remember() opened: parsed now (or found parsed already), its fd closed. */
  private parseOpened(statKey: string, m: Mapping, pid: number, root: string): ObjectFile | null {
    const known = this.statKeys.get(statKey);
    if (known && this.files.has(known)) return this.files.get(known) ?? null;
    const fd = this.openFiles.get(statKey);
    if (fd === undefined) return this.readObject(pid, m, root);
    this.openFiles.delete(statKey);
    try {
      return this.parse(fd, statKey, m, root);
    } finally {
      fs.closeSync(fd);
    }
  }

  private readObject(pid: number, m: Mapping, root: string): ObjectFile | null {
    const fd = openMapped(pid, m);
    if (fd === null) return null;
    try {
      const statKey = statKeyOf(fs.fstatSync(fd));
      const known = this.statKeys.get(statKey);
      if (known && this.files.has(known)) return this.files.get(known) ?? null;
      return this.parse(fd, statKey, m, root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code) return null;
      throw err;
    } finally {
      fs.closeSync(fd);
    }
  }

  private parse(fd: number, statKey: string, m: Mapping, root: string): ObjectFile | null {
    try {
      const elf = parseElf(fileSource(fd));
      // The same build in another container, or a copy: parsed once.
      const key = elf.buildId ? `build-id:${elf.buildId}` : statKey;
      let obj = this.files.get(key);
      if (!obj) {
        if (this.files.size >= MAX_UNKEPT_FILES) this.prune(MAX_UNKEPT_FILES / 2);
        obj = loadObject(elf, { path: m.path, root, debugDirs: this.debugDirs });
        this.files.set(key, obj);
      }
      this.statKeys.set(statKey, key);
      return obj;
    } catch (err) {
      if (err instanceof ElfError || (err as NodeJS.ErrnoException).code) return null;
      throw err;
    }
  }

  /** Drops files that no kept process maps, down to `keep` of them. */
  private prune(keep: number): void {
    const used = new Set<ObjectFile>();
    for (const view of this.kept.values()) for (const obj of view.objects.values()) if (obj) used.add(obj);
    let unused = 0;
    for (const obj of this.files.values()) if (!used.has(obj)) unused++;
    for (const [key, obj] of this.files) {
      if (unused <= keep) break;
      if (used.has(obj)) continue;
      this.files.delete(key);
      unused--;
    }
    for (const [statKey, key] of this.statKeys) if (!this.files.has(key)) this.statKeys.delete(statKey);
  }

  private readable(name: string): string {
    if (!this.demangle || !name.startsWith('_Z')) return name;
    let text = this.demangled.get(name);
    if (text === undefined) {
      text = demangle(name) ?? name;
      if (this.demangled.size >= MAX_DEMANGLED) this.demangled.clear();
      this.demangled.set(name, text);
    }
    return text;
  }
}

/** A mapping's file as a process names it: its path and inode. */
function mappingId(m: Mapping): string {
  return `${m.path}\0${m.inode}`;
}

/** The same file, whatever path reached it: device, inode, and the change stamps a rebuild alters. */
function statKeyOf(st: fs.Stats): string {
  return `${st.dev}:${st.ino}:${st.mtimeMs}:${st.size}`;
}
