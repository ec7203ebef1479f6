// The BPF class: the TypeScript counterpart of bcc's Python `BPF`. It compiles C through libbcc,
// loads functions on demand by program type, auto-attaches by name prefix as bcc does, hands out
// typed tables, and undoes everything in close().
import fs from 'node:fs';
import path from 'node:path';
import { libbcc } from './ffi/libbcc.ts';
import { libc, errnoMessage } from './ffi/libc.ts';
import { BpfError, E2BIG, EACCES, EINVAL, ENOSPC, EPERM, errnoName } from './errors.ts';
import { captureOutput } from './capture.ts';
import { MAIN_FILE, formatDiagnostics, parseDiagnostics, relevantDiagnostics } from './diagnostics.ts';
import { ensureTracefs, requireRoot, useKernelHeaders, type KernelHeaders } from './kernel.ts';
import { ATTACH_TYPE, PROG_TYPE } from './features.ts';
import * as attach from './attach.ts';
import { type Table } from './table.ts';
import { openTable } from './tables.ts';
import { registerForCleanup, unregisterFromCleanup } from './cleanup.ts';

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
}

export interface LoadedFunction {
  name: string;
  fd: number;
  progType: number;
}

// Headers that the kernel's own headers trigger with clang 14; the program's warnings stay on.
const DEFAULT_CFLAGS = ['-Wno-ignored-attributes', '-Wno-duplicate-decl-specifier', '-Wno-unknown-warning-option'];
const VERIFIER_LOG_SIZE = 4 << 20;
const VERIFIER_TAIL_LINES = 25;

let verifierLog: Buffer | null = null;

export class BPF {
  static readonly PROG_TYPE = PROG_TYPE;

  readonly headers: KernelHeaders;
  private module: unknown;
  private readonly functions = new Map<string, LoadedFunction>();
  private readonly tables = new Map<string, Table>();
  private readonly attached: attach.Link[] = [];
  private closed = false;

  constructor(options: BPFOptions) {
    requireRoot();
    ensureTracefs();
    this.headers = useKernelHeaders();
    const bcc = libbcc();
    const includeDirs = [...(options.includeDirs ?? [])];
    let text = options.text;
    if (options.srcFile) {
      text = fs.readFileSync(options.srcFile, 'utf8');
      includeDirs.push(path.dirname(path.resolve(options.srcFile)));
    }
    if (text === undefined) throw new BpfError('INVALID_ARGUMENT', 'BPF needs `text` or `srcFile`');
    const cflags = [...DEFAULT_CFLAGS, ...includeDirs.map((d) => `-I${path.resolve(d)}`), ...(options.cflags ?? [])];

    const compiled = captureOutput(() =>
      bcc.module_create_c_from_string(text, options.debug ?? 0, cflags, cflags.length, true, null));
    const diagnostics = relevantDiagnostics(parseDiagnostics(compiled.output), [MAIN_FILE, ...includeDirs.map((d) => path.resolve(d))]);
    if (!compiled.result) throw compileError(compiled.output, compiled.errno, diagnostics);
    this.module = compiled.result;
    const warnings = formatDiagnostics(diagnostics);
    if (warnings) (options.onWarning ?? ((w: string) => process.stderr.write(`${w}\n`)))(warnings);

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
    const bcc = libbcc();
    const count = Number(bcc.num_functions(this.handle()));
    return Array.from({ length: count }, (_, i) => bcc.function_name(this.module, i) as string);
  }

  /** Loads a function into the kernel as the given program type (once; later calls return the same fd). */
  loadFunc(name: string, progType: number, attachType = -1): LoadedFunction {
    const existing = this.functions.get(name);
    if (existing) return existing;
    const bcc = libbcc();
    const module = this.handle();
    const start = bcc.function_start(module, name);
    if (!start) throw new BpfError('INVALID_ARGUMENT', `the program has no function named ${name}`);
    const size = Number(bcc.function_size(module, name));
    const license = bcc.module_license(module) as string;
    const kernVersion = bcc.module_kern_version(module) as number;
    verifierLog ??= Buffer.alloc(VERIFIER_LOG_SIZE);
    verifierLog[0] = 0;
    // log_level 0 with a buffer: libbcc loads quietly, and only on failure reloads with the
    // verifier log into our buffer (it also prints hints to stderr, which we capture).
    const loaded = captureOutput(() =>
      bcc.func_load(module, progType, name, start, size, license, kernVersion, 0, verifierLog, VERIFIER_LOG_SIZE, attachType));
    const fd = loaded.result;
    if (fd < 0) throw loadError(name, progType, loaded.errno, readCString(verifierLog), loaded.output);
    const fn = { name, fd, progType };
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

  /** Everything attached so far, for `--explain`. */
  links(): readonly attach.Link[] {
    return this.attached;
  }

  /** Every loaded function, for `--explain`. */
  loadedFunctions(): LoadedFunction[] {
    return [...this.functions.values()];
  }

  /** A table by name, typed from libbcc's description of its key and value. */
  table<T extends Table = Table>(name: string): T {
    let table = this.tables.get(name);
    if (!table) {
      table = openTable(this.handle(), name);
      this.tables.set(name, table);
    }
    return table as T;
  }

  tableNames(): string[] {
    const bcc = libbcc();
    const count = Number(bcc.num_tables(this.handle()));
    return Array.from({ length: count }, (_, i) => bcc.table_name(this.module, i) as string);
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
    // Destroying the module closes the map fds libbcc created.
    attempt(() => libbcc().module_destroy(this.module));
    this.module = null;
    if (errors.length) throw errors[0];
  }

  [Symbol.dispose](): void {
    this.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private handle(): unknown {
    if (this.closed || !this.module) throw new BpfError('INVALID_ARGUMENT', 'this BPF object is closed');
    return this.module;
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

function readCString(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.toString('utf8', 0, end < 0 ? buf.length : end);
}

function compileError(output: string, errno: number, diagnostics: ReturnType<typeof parseDiagnostics>): BpfError {
  if (/Unable to find kernel headers/.test(output)) {
    return new BpfError('HEADERS_MISSING', 'libbcc found no kernel headers: run `make deps`', { log: output });
  }
  const errors = diagnostics.filter((d) => d.severity !== 'warning');
  if (errors.length === 0) {
    // The C compiled but libbcc failed afterwards, typically creating a map.
    if (errno === EPERM && process.geteuid?.() !== 0) return new BpfError('NOT_ROOT', 'creating BPF maps needs root', { errno });
    const detail = output.trim().split('\n').filter(Boolean).pop() ?? (errno ? errnoMessage(errno) : 'unknown error');
    return new BpfError('LOAD', `libbcc failed to create the module: ${detail}`, { errno, log: output });
  }
  const first = errors[0];
  const where = first.file === MAIN_FILE ? `line ${first.line}` : `${first.file}:${first.line}`;
  return new BpfError('COMPILE', `compile error at ${where}: ${first.message}`, { log: formatDiagnostics(errors) });
}

function loadError(name: string, progType: number, errno: number, log: string, output: string): BpfError {
  const tail = (log || output).trim().split('\n').slice(-VERIFIER_TAIL_LINES).join('\n');
  if (errno === EPERM && process.geteuid?.() !== 0) return new BpfError('NOT_ROOT', `loading ${name} needs root`, { errno });
  if ((errno === EACCES || errno === EINVAL) && log.trim()) {
    const reason = log.trim().split('\n').filter((l) => !/^processed \d+ insns/.test(l)).pop() ?? '';
    return new BpfError('VERIFIER', `the verifier rejected ${name}: ${reason}`, { errno, log: tail });
  }
  if (errno === E2BIG) return new BpfError('VERIFIER', `${name} is too large for this kernel`, { errno, log: tail });
  if (errno === ENOSPC) return new BpfError('VERIFIER', `the verifier rejected ${name} (log truncated)`, { errno, log: tail });
  if (errno === EPERM && progType === PROG_TYPE.TRACING) {
    return new BpfError('NOT_SUPPORTED', `the kernel refused to load ${name} as fentry/fexit (EPERM): use a tracepoint`, { errno });
  }
  return new BpfError('LOAD', `loading ${name} failed: ${errnoName(errno)}`, { errno, log: tail });
}
