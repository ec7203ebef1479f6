// An artifact made live: its maps created in the kernel, and its functions loaded on demand with
// the map fds patched into their instructions. Only libbpf is used here (libbcc's own
// bcc_create_map / bcc_prog_load on libbpf older than 0.6, which lacks the calls).
import koffi from 'koffi';
import { libbpf } from './ffi/libbpf.ts';
import { libbcc } from './ffi/libbcc.ts';
import { libc } from './ffi/libc.ts';
import { BpfError, E2BIG, EACCES, EFAULT, EINVAL, ENOSPC, EPERM, errnoText } from './errors.ts';
import type { Artifact, ArtifactFunction } from './artifact.ts';
import { PROG_TYPE } from './features.ts';
import { kernelBtf } from './btf.ts';

const VERIFIER_LOG_SIZE = 4 << 20;
const VERIFIER_TAIL_LINES = 25;
/** The kernel keeps 15 characters of a program or map name (BPF_OBJ_NAME_LEN - 1). */
const NAME_LEN = 15;

let verifierLog: Buffer | null = null;
/** The verifier's closing statistics line: a log that has it was not cut short. */
const STATS_LINE = /^processed \d+ insns/m;
/** Where the binding joins a log cut short to the reason a statistics-only load gave. */
export const LOG_CUT = '[the log filled its buffer here; the verifier\'s last lines, from a statistics-only load:]';

export class ProgramImage {
  /** One fd per artifact table, in the artifact's order. */
  readonly mapFds: number[] = [];
  private readonly functions = new Map<string, ArtifactFunction>();

  constructor(readonly artifact: Artifact) {
    for (const fn of artifact.functions) this.functions.set(fn.name, fn);
    try {
      for (const table of artifact.tables) this.mapFds.push(this.createMap(table));
    } catch (err) {
      this.close();
      throw err;
    }
  }

  private createMap(t: Artifact['tables'][number]): number {
    const bpf = libbpf();
    let fd: number;
    if (t.externalMapId !== undefined) {
      fd = bpf.map_get_fd_by_id(t.externalMapId) as number;
    } else if (bpf.map_create) {
      const opts = Buffer.alloc(48);
      opts.writeBigUInt64LE(48n, 0);
      opts.writeUInt32LE(t.flags >>> 0, 28);
      fd = bpf.map_create(t.type, t.name.slice(0, NAME_LEN), t.keySize, t.leafSize, t.maxEntries, opts) as number;
    } else {
      fd = libbcc().create_map(t.type, t.name.slice(0, NAME_LEN), t.keySize, t.leafSize, t.maxEntries, t.flags) as number;
    }
    if (fd < 0) {
      const errno = koffi.errno();
      if (errno === EPERM && process.geteuid?.() !== 0) throw new BpfError('NOT_ROOT', 'creating BPF maps needs root', { errno });
      throw new BpfError('LOAD', `cannot create map ${t.name}: ${errnoText(errno)}`, { errno });
    }
    return fd;
  }

  functionNames(): string[] {
    return [...this.functions.keys()];
  }

  /** A function's instructions as clang emitted them, map references not yet filled in. */
  compiledInstructions(name: string): Buffer {
    const fn = this.functions.get(name);
    if (!fn) throw new BpfError('INVALID_ARGUMENT', `the program has no function named ${name}`);
    return Buffer.from(fn.insns, 'base64');
  }

  hasFunction(name: string): boolean {
    return this.functions.has(name);
  }

  /**
   * Loads one function as `progType`; returns its fd, and with `logLevel` > 0 the verifier's log
   * of the load (1: the instructions it walked and the register states at branches, 2: the state
   * after every instruction, 4: only the statistics, "processed N insns …").
   */
  loadFunction(name: string, progType: number, attachType = -1, logLevel = 0): { fd: number; log?: string } {
    const fn = this.functions.get(name);
    if (!fn) throw new BpfError('INVALID_ARGUMENT', `the program has no function named ${name}`);
    const insns = Buffer.from(fn.insns, 'base64');
    // For map-value references the offset stays in the second slot; only the fd changes.
    for (const r of fn.relocations) insns.writeInt32LE(this.mapFds[r.table], r.insn * 8 + 4);
    const attachBtfId = progType === PROG_TYPE.TRACING ? tracingTarget(name) : progType === PROG_TYPE.LSM ? lsmTarget(name) : 0;
    const refused = (errno: number, log: string): BpfError => {
      // Before 6.4 a log that fills its buffer keeps its start and loses the verifier's reason at
      // the end; a statistics-only load (a few lines) has the reason, so ask for that too.
      if (errno === ENOSPC && !STATS_LINE.test(log)) {
        const last = Buffer.alloc(64 << 10);
        if (this.load(name, progType, attachType, attachBtfId, insns, last, 4) < 0 && readCString(last).trim()) {
          log = `${log.trimEnd()}\n${LOG_CUT}\n${readCString(last).trim()}\n`;
        }
      }
      return loadError(name, progType, errno, log);
    };
    if (logLevel > 0) {
      const log = logBuffer();
      const fd = this.load(name, progType, attachType, attachBtfId, insns, log, logLevel);
      if (fd < 0) throw refused(koffi.errno(), readCString(log));
      return { fd, log: readCString(log) };
    }
    let fd = this.load(name, progType, attachType, attachBtfId, insns, null, 0);
    if (fd < 0) {
      const errno = koffi.errno();
      // Load again with the verifier's log to say why.
      const log = logBuffer();
      fd = this.load(name, progType, attachType, attachBtfId, insns, log, 1);
      if (fd >= 0) return { fd }; // a transient failure; keep the program
      throw refused(errno, readCString(log));
    }
    return { fd };
  }

  private load(name: string, progType: number, attachType: number, attachBtfId: number, insns: Buffer, log: Buffer | null, logLevel: number): number {
    const bpf = libbpf();
    const license = this.artifact.license;
    if (bpf.prog_load) {
      const opts = Buffer.alloc(104);
      opts.writeBigUInt64LE(104n, 0);
      if (attachType >= 0) opts.writeUInt32LE(attachType, 12);
      opts.writeUInt32LE(this.artifact.kernVersion >>> 0, 28);
      opts.writeUInt32LE(attachBtfId, 32);
      if (log) {
        opts.writeUInt32LE(logLevel, 88);
        opts.writeUInt32LE(log.length, 92);
        opts.writeBigUInt64LE(BigInt(koffi.address(log)), 96);
      }
      return bpf.prog_load(progType, name.slice(0, NAME_LEN), license, insns, insns.length / 8, opts) as number;
    }
    return libbcc().prog_load(progType, name.slice(0, NAME_LEN), insns, insns.length, license,
      this.artifact.kernVersion, log ? logLevel : 0, log, log ? log.length : 0) as number;
  }

  close(): void {
    for (const fd of this.mapFds.splice(0)) libc.close(fd);
  }
}

/** fentry/fexit programs name their kernel function: kfunc__vfs_read, kretfunc__vmlinux__vfs_read. */
function tracingTarget(fnName: string): number {
  const target = fnName.replace(/^k(ret)?func__(vmlinux__)?/, '');
  const id = kernelBtf().funcId(target);
  if (id === undefined) throw new BpfError('ATTACH_MISSING', `no kernel function ${target} in BTF for ${fnName}`);
  return id;
}

/** BPF LSM programs name their hook, lsm__file_open, and attach to the kernel's bpf_lsm_file_open. */
function lsmTarget(fnName: string): number {
  const hook = fnName.replace(/^lsm__/, '');
  const id = kernelBtf().funcId(`bpf_lsm_${hook}`);
  if (id === undefined) throw new BpfError('ATTACH_MISSING', `no LSM hook ${hook} (bpf_lsm_${hook}) in the kernel's BTF for ${fnName}`);
  return id;
}

/** One 4 MiB buffer for every load that asks for the log (loads are synchronous). */
function logBuffer(): Buffer {
  verifierLog ??= Buffer.alloc(VERIFIER_LOG_SIZE);
  verifierLog[0] = 0;
  return verifierLog;
}

function readCString(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.toString('utf8', 0, end < 0 ? buf.length : end);
}

function loadError(name: string, progType: number, errno: number, log: string): BpfError {
  const tail = log.trim().split('\n').slice(-VERIFIER_TAIL_LINES).join('\n');
  if (errno === EPERM && process.geteuid?.() !== 0) return new BpfError('NOT_ROOT', `loading ${name} needs root`, { errno });
  if (errno === EPERM && progType === PROG_TYPE.LSM) {
    return new BpfError('NOT_SUPPORTED', `the kernel refused to load ${name} as a BPF LSM program (EPERM): BPF LSM needs "bpf" in the lsm= boot parameter and trampolines`, { errno });
  }
  if (errno === EPERM && progType === PROG_TYPE.TRACING) {
    return new BpfError('NOT_SUPPORTED', `the kernel refused to load ${name} as fentry/fexit (EPERM): use a tracepoint`, { errno });
  }
  // The verifier's last word, past its statistics: why it refused.
  const reason = log.trim().split('\n').filter((l) => !/^processed \d+ insns|^verification time|^stack depth/.test(l)).pop() ?? '';
  // EACCES/EINVAL: refused; E2BIG: it gave up walking (too many instructions or jumps); ENOSPC: the
  // log did not fit (before 6.4); EFAULT: 6.1 says this of a statistics-only log of a refusal.
  if (reason && [EACCES, EINVAL, E2BIG, ENOSPC, EFAULT].includes(errno)) {
    return new BpfError('VERIFIER', `the verifier rejected ${name}: ${reason}`, { errno, log: tail, verifierLog: log });
  }
  if (errno === E2BIG) return new BpfError('VERIFIER', `${name} is too large for this kernel`, { errno, log: tail, verifierLog: log });
  if (errno === ENOSPC) return new BpfError('VERIFIER', `the verifier rejected ${name} (log truncated)`, { errno, log: tail, verifierLog: log });
  return new BpfError('LOAD', `loading ${name} failed: ${errnoText(errno)}`, { errno, log: tail });
}

