// The BPF class: the TypeScript counterpart of bcc's Python `BPF`. It compiles C through libbcc,
// loads functions on demand by program type, auto-attaches by name prefix as bcc does, hands out
// typed tables, and undoes everything in close().
import fs from 'node:fs';
import path from 'node:path';
import { libc } from './ffi/libc.ts';
import { BpfError } from './errors.ts';
import { ensureTracefs, requireRoot, useKernelHeaders, type KernelHeaders } from './kernel.ts';
import { ATTACH_TYPE, PROG_TYPE } from './features.ts';
import * as attach from './attach.ts';
import { type Table } from './table.ts';
import { openTable } from './tables.ts';
import { registerForCleanup, unregisterFromCleanup } from './cleanup.ts';
import { obtainArtifact, type CacheStatus } from './compile-cache.ts';
import { ProgramImage } from './image.ts';
import { attachXdp, type XdpAttachment, type XdpOptions } from './xdp.ts';
import { programInfo } from './object-info.ts';
import { attachSocketFilter } from './socket-filter.ts';

export interface BPFOptions {
  /** The C program. Give this or `srcFile`. */
  text?: string;
  /** A C file to compile (its directory is added to the include path). */
  srcFile?: string;
  /** Extra clang flags, e.g. ["-DMAX_ARGS=20"]. Build them from validated numbers, never from user text. */
  cflags?: string[];
  /** Directories searched for #include "…" (bpfkit passes bpf/include). */
  includeDirs?: string[];
  /** bcc's debug flags (DEBUG_LLVM_IR 0x1, DEBUG_BPF 0x2, DEBUG_PREPROCESSOR 0x4, …). */
  debug?: number;
  /** Attach functions named kprobe__*, tracepoint__*, raw_tracepoint__* … on construction (default true). */
  autoAttach?: boolean;
  /** Where the program's own compiler warnings go (default: process.stderr). */
  onWarning?: (text: string) => void;
  /**
   * Reuse a compiled artifact from the on-disk cache when a trustworthy one exists (default true;
   * env BPFKIT_NO_CACHE=1 turns it off). See compile-cache.ts.
   */
  cache?: boolean;
  /** Compile in a child process, so this one never maps LLVM (default), or in this process. */
  compileIn?: 'child' | 'process';
}

export interface LoadedFunction {
  name: string;
  fd: number;
  progType: number;
  /** The verifier's log of the load, when loadFunc was asked for it. */
  verifierLog?: string;
}

export interface LoadFuncOptions {
  /**
   * Ask the verifier for its log (BPF_LOG_LEVEL): 1 the instructions it walked with the register
   * states at branches, 2 the state after every instruction, 4 only the statistics line
   * ("processed N insns …"). A refused load's whole log is on the BpfError's `verifierLog`
   * whatever the level.
   */
  verifierLog?: 1 | 2 | 4 | 5 | 6;
}

// Warnings the kernel's own headers trigger with clang 14; the program's warnings stay on.
const DEFAULT_CFLAGS = ['-Wno-ignored-attributes', '-Wno-duplicate-decl-specifier', '-Wno-unknown-warning-option'];

export class BPF {
  static readonly PROG_TYPE = PROG_TYPE;

  readonly headers: KernelHeaders;
  /** Whether the compiled program came from the cache ('hit'), was compiled ('miss', 'off'), or a bad entry was replaced. */
  readonly cacheStatus: CacheStatus;
  private image: ProgramImage | null;
  private readonly functions = new Map<string, LoadedFunction>();
  private readonly tables = new Map<string, Table>();
  private readonly attached: attach.Link[] = [];
  private closed = false;

  constructor(options: BPFOptions) {
    requireRoot();
    ensureTracefs();
    this.headers = useKernelHeaders();
    const includeDirs = [...(options.includeDirs ?? [])].map((d) => path.resolve(d));
    let text = options.text;
    if (options.srcFile) {
      text = fs.readFileSync(options.srcFile, 'utf8');
      includeDirs.push(path.dirname(path.resolve(options.srcFile)));
    }
    if (text === undefined) throw new BpfError('INVALID_ARGUMENT', 'BPF needs `text` or `srcFile`');
    const cflags = [...DEFAULT_CFLAGS, ...includeDirs.map((d) => `-I${d}`), ...(options.cflags ?? [])];

    const { artifact, status } = obtainArtifact(
      { text, cflags, includeDirs, debug: options.debug ?? 0 },
      { cache: options.cache, compileIn: options.compileIn });
    this.cacheStatus = status;
    if (artifact.warnings) (options.onWarning ?? ((w: string) => process.stderr.write(`${w}\n`)))(artifact.warnings);
    this.image = new ProgramImage(artifact);

    registerForCleanup(this);
    try {
      if (options.autoAttach !== false) this.autoAttach();
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Names of the functions in the compiled program. */
  functionNames(): string[] {
    return this.live().functionNames();
  }

  /**
   * A function's instructions as the compiler emitted them, before any load (its map references
   * still hold no map: `ld_imm64` with imm 0), 8 bytes each, for `disassemble()`. What the kernel
   * made of them after loading is `programInstructions(fd)`.
   */
  functionInstructions(name: string): Buffer {
    return this.live().compiledInstructions(name);
  }

  /**
   * Loads a function into the kernel as the given program type (once; later calls return the same
   * fd). A program the verifier refuses throws a BpfError with code 'VERIFIER' and its log.
   */
  loadFunc(name: string, progType: number, attachType = -1, options: LoadFuncOptions = {}): LoadedFunction {
    const existing = this.functions.get(name);
    if (existing) return existing;
    const { fd, log } = this.live().loadFunction(name, progType, attachType, options.verifierLog ?? 0);
    const fn: LoadedFunction = log === undefined ? { name, fd, progType } : { name, fd, progType, verifierLog: log };
    this.functions.set(name, fn);
    return fn;
  }

  attachTracepoint(args: { tp: string; fnName: string }): this {
    const fn = this.loadFunc(args.fnName, PROG_TYPE.TRACEPOINT);
    return this.track(attach.attachTracepoint(fn.fd, fn.name, args.tp));
  }

  attachRawTracepoint(args: { tp: string; fnName: string }): this {
    const fn = this.loadFunc(args.fnName, PROG_TYPE.RAW_TRACEPOINT);
    return this.track(attach.attachRawTracepoint(fn.fd, fn.name, args.tp));
  }

  attachKprobe(args: { event: string; fnName: string; eventOffset?: number }): this {
    const fn = this.loadFunc(args.fnName, PROG_TYPE.KPROBE);
    return this.track(attach.attachKprobe(fn.fd, fn.name, args.event, { offset: args.eventOffset }));
  }

  attachKretprobe(args: { event: string; fnName: string; maxActive?: number }): this {
    const fn = this.loadFunc(args.fnName, PROG_TYPE.KPROBE);
    return this.track(attach.attachKprobe(fn.fd, fn.name, args.event, { ret: true, maxActive: args.maxActive }));
  }

  attachUprobe(args: attach.UprobeTarget & { fnName: string }): this {
    const fn = this.loadFunc(args.fnName, PROG_TYPE.KPROBE);
    return this.track(attach.attachUprobe(fn.fd, fn.name, args));
  }

  attachUretprobe(args: attach.UprobeTarget & { fnName: string }): this {
    const fn = this.loadFunc(args.fnName, PROG_TYPE.KPROBE);
    return this.track(attach.attachUprobe(fn.fd, fn.name, args, true));
  }

  attachPerfEvent(args: attach.PerfEventTarget & { fnName: string }): this {
    const fn = this.loadFunc(args.fnName, PROG_TYPE.PERF_EVENT);
    return this.track(attach.attachPerfEvent(fn.fd, fn.name, args));
  }

  /** fentry on `kfunc__<function>`; fails with NOT_SUPPORTED where the kernel refuses fentry. */
  attachKfunc(args: { fnName: string }): this {
    const fn = this.loadFunc(args.fnName, PROG_TYPE.TRACING, ATTACH_TYPE.TRACE_FENTRY);
    return this.track(attach.attachKfunc(fn.fd, fn.name, args.fnName.replace(/^kfunc__(vmlinux__)?/, '')));
  }

  attachKretfunc(args: { fnName: string }): this {
    const fn = this.loadFunc(args.fnName, PROG_TYPE.TRACING, ATTACH_TYPE.TRACE_FEXIT);
    return this.track(attach.attachKfunc(fn.fd, fn.name, args.fnName.replace(/^kretfunc__(vmlinux__)?/, '')));
  }

  /**
   * A BPF LSM program on `lsm__<hook>` (its return value refuses the operation): fails with
   * NOT_SUPPORTED where the kernel refuses BPF LSM programs (no "bpf" in lsm=, or no trampolines).
   */
  attachLsm(args: { fnName: string }): this {
    const fn = this.loadFunc(args.fnName, PROG_TYPE.LSM, ATTACH_TYPE.LSM_MAC);
    return this.track(attach.attachLsm(fn.fd, fn.name, args.fnName.replace(/^lsm__/, '')));
  }

  /**
   * Loads `fnName` as an XDP program and attaches it to `ifname` (in this process's network
   * namespace): native mode where the driver has it, else generic; through a bpf_link where the
   * kernel has XDP links (gone with the process, even on SIGKILL), else netlink (removed by
   * close() and the exit hooks). Returns what was chosen and why (see xdp.ts).
   */
  attachXdp(fnName: string, ifname: string, options: XdpOptions = {}): XdpAttachment {
    const fn = this.loadFunc(fnName, PROG_TYPE.XDP);
    const { link, attachment } = attachXdp(fn.fd, fn.name, ifname, options);
    this.track(link);
    return attachment;
  }

  /**
   * Loads `fnName` as a socket filter and attaches it to a new raw packet socket bound to
   * `ifname` (bcc's attach_raw_socket): the program sees every packet the interface sends and
   * receives, from the Ethernet header on, and its return value is how many bytes the socket
   * keeps (0 drops the copy; the packet itself goes on). Returns the socket's fd, closed by close().
   */
  attachRawSocket(fnName: string, ifname: string): number {
    const fn = this.loadFunc(fnName, PROG_TYPE.SOCKET_FILTER);
    const link = attachSocketFilter(fn.fd, fn.name, ifname);
    this.track(link);
    return link.socketFd;
  }

  /** Everything attached so far, for `--explain`. */
  links(): readonly attach.Link[] {
    return this.attached;
  }

  /** Every loaded function, for `--explain`. */
  loadedFunctions(): LoadedFunction[] {
    return [...this.functions.values()];
  }

  /**
   * Events the kernel did not run this object's programs for (recursion_misses, summed): a tool
   * that reports exact counts says so when it is not 0.
   */
  missedRuns(): number {
    let missed = 0;
    for (const fn of this.functions.values()) {
      try { missed += programInfo(fn.fd).recursionMisses; } catch { /* closed meanwhile: nothing to add */ }
    }
    return missed;
  }

  /** A table by name, typed from libbcc's description of its key and value. */
  table<T extends Table = Table>(name: string): T {
    let table = this.tables.get(name);
    if (!table) {
      table = openTable(this.live(), name);
      this.tables.set(name, table);
    }
    return table as T;
  }

  tableNames(): string[] {
    return this.live().artifact.tables.map((t) => t.name);
  }

  /** Detaches every probe, closes every buffer, program and map. Safe to call more than once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    unregisterFromCleanup(this);
    const errors: unknown[] = [];
    const attempt = (step: () => void) => { try { step(); } catch (err) { errors.push(err); } };
    for (const table of this.tables.values()) attempt(() => table.close());
    for (const link of this.attached.splice(0).reverse()) attempt(() => link.detach());
    for (const fn of this.functions.values()) attempt(() => libc.close(fn.fd));
    this.functions.clear();
    this.tables.clear();
    attempt(() => this.image?.close());
    this.image = null;
    if (errors.length) throw errors[0];
  }

  /**
   * close(), with the probes whose detach waits in the kernel (tracepoints) detached in parallel
   * first: Ctrl-C on tcptop (three tracepoints) takes ~40 ms instead of ~250 ms. What the
   * process has not closed when it exits, the kernel closes.
   */
  async closeAsync(): Promise<void> {
    if (this.closed) return;
    const slow: attach.Link[] = [];
    for (let i = this.attached.length - 1; i >= 0; i--) if (this.attached[i].detachAsync) slow.push(...this.attached.splice(i, 1));
    // Buffers first, as close() does: no event reaches the caller while the detaches are awaited.
    for (const table of this.tables.values()) { try { table.close(); } catch { /* close() reports */ } }
    await Promise.all(slow.map((link) => link.detachAsync!()));
    this.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private live(): ProgramImage {
    if (this.closed || !this.image) throw new BpfError('INVALID_ARGUMENT', 'this BPF object is closed');
    return this.image;
  }

  private track(link: attach.Link): this {
    this.attached.push(link);
    return this;
  }

  /** bcc's naming convention: a function's prefix says where it attaches. */
  private autoAttach(): void {
    for (const name of this.functionNames()) {
      if (name.startsWith('kprobe__')) this.attachKprobe({ event: name.slice(8), fnName: name });
      else if (name.startsWith('kretprobe__')) this.attachKretprobe({ event: name.slice(11), fnName: name });
      else if (name.startsWith('tracepoint__')) this.attachTracepoint({ tp: name.slice(12).replace('__', ':'), fnName: name });
      else if (name.startsWith('raw_tracepoint__')) this.attachRawTracepoint({ tp: name.slice(16), fnName: name });
      else if (name.startsWith('kfunc__')) this.attachKfunc({ fnName: name });
      else if (name.startsWith('kretfunc__')) this.attachKretfunc({ fnName: name });
    }
  }
}
