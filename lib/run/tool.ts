// The life of a tool run, shared by every tool: parse options, print help or the program, load
// and attach, run the tool's loop, and end cleanly however the run ends.
//
// Exit status: 0 on a normal end (Ctrl-C included, as bcc's tools do) unless the tool set
// ctx.exitCode (the status of an --exec command), 2 on bad usage or a missing prerequisite (not
// root, no libbcc, no tracefs, no headers), 1 on any other failure, including output that cannot
// be written; a closed pipe (`| head`) is a normal end. Every error is one line on stderr;
// BPFKIT_DEBUG=1 adds the stack and the compiler or verifier log.
//
// However it ends — normal end, Ctrl-C, SIGTERM, SIGHUP, an error, a closed or full stdout — probes
// are detached and a command started by --exec (lib/run/held-command.ts) is ended and waited for.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import util from 'node:util';
import v8 from 'node:v8';
import { BPF, BpfError, cacheRoot, closeAll, closeAllAsync, headersMismatchNotice, isBpfError, requireRoot, type KernelHeaders } from 'bcc-node-bindings';
import { helpText, parseArgs, UsageError, type ParsedOptions, type ToolSpec } from './cli.ts';
import { buildProgram, type ProgramConfig, type ToolProgram } from './program.ts';
import { explain } from './explain.ts';
import { MissingPrerequisite } from './errors.ts';
import { endHeldCommands, killHeldCommands, signalHeldCommands } from './held-command.ts';
import { versionLine } from './version.ts';
import type { AttachChoice } from './attach-plan.ts';

// V8 doubles its young generation each time a burst of short-lived objects outgrows it (up to
// 16 MB per half), and keeps it: one tcptop interval over 10,000 flows left the process at 83 MB
// for good. Not growing it keeps such a tool at ~74 MB during that interval and back to ~54 MB
// after; the cost is more, smaller scavenges (no change in execsnoop's CPU per exec). Set here,
// not as a node option: any V8 option on node's command line costs ~20 ms of start-up.
v8.setFlagsFromString('--semi-space-growth-factor=1');

const SETUP_ERRORS = new Set(['NOT_ROOT', 'LIBBCC_MISSING', 'TRACEFS_MISSING', 'HEADERS_MISSING', 'INVALID_ARGUMENT']);
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface ToolContext<O> {
  opts: O & ParsedOptions;
  /** Resolves when the run should end: Ctrl-C, SIGTERM, SIGHUP, or a call to stop(). */
  readonly stopped: Promise<void>;
  readonly isStopping: boolean;
  stop(): void;
  /** Waits `ms`, or less if the run is stopped meanwhile; returns false when stopped. */
  sleep(ms: number): Promise<boolean>;
  /**
   * Builds the C program from the tool's <file> with validated #defines. With --ebpf it prints
   * the program and throws ProgramPrinted, which runTool turns into a normal end (let it pass);
   * otherwise it compiles and loads it (attaching what its names say unless autoAttach is false).
   */
  load(config: ProgramConfig & { attachments?: AttachChoice[]; autoAttach?: boolean }): BPF;
  /** After attaching by hand (load() does this itself): --explain output, and the readiness line when BPFKIT_READY=1. */
  attached(bpf: BPF, attachments?: AttachChoice[]): void;
  /** Attaches what a tool's configuration chose (program.attach), then reports as attached() does. */
  attach(bpf: BPF, program: ToolProgram): void;
  /** Writes one line to stdout (the tool's data). */
  print(line: string): void;
  /** Writes one JSON object as a line (bigints as numbers when safe, else strings). */
  json(value: unknown): void;
  /** A warning on stderr: lost events, full maps. */
  warn(message: string): void;
  /**
   * The status the run exits with when it ends normally (a signal or stop() included); 0 when
   * unset. --exec sets it from the command's status, as `time` and `perf stat` do. A --exec
   * command still running at the end is signalled and waited for before this is read, so a
   * reaction to its `exited` promise registered during the run is in time.
   */
  exitCode?: number;
}

/** Thrown by ctx.load() under --ebpf once the program is printed: nothing is left to do. */
export class ProgramPrinted extends Error {
  constructor() {
    super('the program was printed (--ebpf)');
    this.name = 'ProgramPrinted';
  }
}

export async function runTool<O>(spec: ToolSpec, body: (ctx: ToolContext<O>) => Promise<void> | void, argv = process.argv.slice(2)): Promise<void> {
  const tool = spec.name;
  let outputError: NodeJS.ErrnoException | null = null;
  let ending: Promise<never> | null = null;
  // Every way out goes through here; the first one wins and the others wait for it to exit.
  const endWith = (work: () => Promise<number> | number): Promise<never> =>
    ending ??= (async () => process.exit(await work()))();
  // Data already written is kept: process.exit() drops what a pipe has not taken yet.
  const loaded: BPF[] = [];
  const endNormally = (status: () => number): Promise<never> => endWith(async () => {
    reportMissedRuns(tool, loaded);
    await Promise.all([closeAllAsync(), endHeldCommands()]);
    const err = outputError ?? await flushStdout();
    return err ? reportOutputError(tool, err) : status();
  });
  const fail = (err: unknown): Promise<never> => endWith(async () => {
    closeAll();
    const status = reportFailure(tool, err);
    await endHeldCommands();
    return status;
  });

  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    outputError ??= err;
    void endWith(async () => {
      closeAll();
      const status = reportOutputError(tool, err);
      await endHeldCommands();
      return status;
    });
  });
  // Nowhere left to say anything: not worth a stack trace either.
  process.stderr.on('error', () => {});

  let opts: ParsedOptions;
  try {
    opts = parseArgs(spec, argv);
  } catch (err) {
    return fail(err);
  }
  if (opts.help || opts.version) {
    process.stdout.write(opts.help ? helpText(spec) : versionLine(tool));
    return endNormally(() => 0);
  }

  let stopping = false;
  let resolveStop!: () => void;
  const stopped = new Promise<void>((resolve) => { resolveStop = resolve; });
  const wakers = new Set<() => void>();
  const stop = () => {
    if (stopping) return;
    stopping = true;
    resolveStop();
    for (const wake of wakers) wake();
  };
  for (const signal of SIGNALS) {
    process.on(signal, () => {
      // A second signal while the tool prints its summary or waits for its command ends it at once.
      if (stopping || ending) {
        killHeldCommands();
        closeAll();
        process.exit(128 + os.constants.signals[signal]);
      }
      // The --exec command is in a session of its own, out of reach of the terminal's Ctrl-C.
      signalHeldCommands(signal);
      stop();
    });
  }

  const ctx: ToolContext<O> = {
    opts: opts as O & ParsedOptions,
    stopped,
    get isStopping() { return stopping; },
    stop,
    sleep: (ms) => new Promise((resolve) => {
      if (stopping) return resolve(false);
      const wake = () => { clearTimeout(timer); wakers.delete(wake); resolve(false); };
      // setTimeout fires at once for delays above 2^31-1 ms (bcc's default interval is 99999999 s).
      const timer = setTimeout(() => { wakers.delete(wake); resolve(true); }, Math.min(ms, 2 ** 31 - 1));
      wakers.add(wake);
    }),
    load(config) {
      const program = buildProgram(config);
      if (opts.ebpf) {
        process.stdout.write(program.text);
        throw new ProgramPrinted();
      }
      const bpf = new BPF({ text: program.text, includeDirs: program.includeDirs, autoAttach: config.autoAttach, cache: !opts['no-cache'] });
      noteHeaders(tool, bpf.headers, opts);
      loaded.push(bpf);
      if (config.autoAttach !== false) this.attached(bpf, config.attachments);
      return bpf;
    },
    attach(bpf, program) {
      program.attach(bpf);
      this.attached(bpf, program.attachments);
    },
    attached(bpf, attachments = []) {
      if (opts.explain) process.stderr.write(explain(bpf, attachments));
      // Tests and the benchmark wait for this line instead of guessing when probes are live.
      if (process.env.BPFKIT_READY === '1') process.stderr.write(`${tool}: ready\n`);
    },
    print: (line) => { process.stdout.write(`${line}\n`); },
    json: (value) => { process.stdout.write(`${toJson(value)}\n`); },
    warn: (message) => { process.stderr.write(`${tool}: ${message}\n`); },
  };

  try {
    // Before anything probes the kernel: without root every probe fails, and the reason would be
    // lost. A tool says which of its runs need no privilege (syscount -l lists syscalls).
    if (!opts.ebpf && (spec.needsRoot?.(opts) ?? true)) requireRoot();
    await body(ctx);
  } catch (err) {
    if (!(err instanceof ProgramPrinted)) return fail(err);
  }
  return endNormally(() => ctx.exitCode ?? 0);
}

/**
 * Events the kernel never ran the tool's programs for, said once at the end: a tool that prints
 * exact counts must not pass a shortfall off as the truth (bcc says nothing). The kernel skips a
 * program while it already runs on that CPU, and a classic tracepoint's or perf event's while
 * another BPF program or a bpf() map call holds the CPU.
 */
function reportMissedRuns(tool: string, loaded: readonly BPF[]): void {
  let missed = 0;
  for (const bpf of loaded) missed += bpf.missedRuns();
  if (missed > 0) {
    process.stderr.write(`${tool}: ${missed} events not traced: the kernel skipped the tool's BPF program while another BPF program or a bpf() call held the CPU (recursion misses)\n`);
  }
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
    return v;
  });
}

/** Resolves once stdout has taken everything written so far, with the error if it could not. */
function flushStdout(): Promise<Error | null> {
  return new Promise((resolve) => process.stdout.write('', (err) => resolve(err ?? null)));
}

/** A closed pipe is the reader's way to say "enough" (status 0); any other write error is a failure (1). */
function reportOutputError(tool: string, err: NodeJS.ErrnoException): number {
  if (err.code === 'EPIPE') return 0;
  const known = typeof err.errno === 'number' ? util.getSystemErrorMap().get(err.errno) : undefined;
  process.stderr.write(`${tool}: cannot write output: ${known ? `${known[1]} (${known[0]})` : err.message}\n`);
  return 1;
}

/** Says what went wrong in one line (more with BPFKIT_DEBUG=1) and returns the exit status. */
function reportFailure(tool: string, err: unknown): number {
  const debug = process.env.BPFKIT_DEBUG === '1';
  let status = 1;
  let message: string;
  if (err instanceof UsageError) {
    status = 2;
    message = `${err.message} (see ${tool} --help)`;
  } else if (err instanceof MissingPrerequisite) {
    status = 2;
    message = err.message;
  } else if (isBpfError(err)) {
    status = SETUP_ERRORS.has(err.code) ? 2 : 1;
    message = err.message;
    if (err.log && (debug || err.code === 'COMPILE' || err.code === 'VERIFIER')) message += `\n${err.log}`;
  } else {
    message = err instanceof Error ? err.message : String(err);
  }
  process.stderr.write(`${tool}: ${message}\n`);
  if (debug && err instanceof Error && !(err instanceof BpfError) && err.stack) process.stderr.write(`${err.stack}\n`);
  return status;
}

// --- the kernel headers note ---

let headersNoted = false;

/**
 * Says, once per kernel (and on every --explain; never with --quiet), that libbcc compiles against
 * another kernel's headers. Once: it changes nothing in the results, and a note on every start
 * teaches users to skip stderr. Per process too: the exporter loads several programs.
 */
function noteHeaders(tool: string, headers: KernelHeaders, opts: ParsedOptions): void {
  if (headers.exact || headersNoted || opts.quiet) return;
  headersNoted = true;
  if (!opts.explain && !firstNoteOnThisKernel(headers)) return;
  process.stderr.write(`${tool}: ${headersMismatchNotice(headers)}\n`);
}

/** True unless this kernel's note was given already; remembered in the binding's cache directory. */
function firstNoteOnThisKernel(headers: KernelHeaders): boolean {
  const stamp = path.join(cacheRoot(), 'notes', `headers-${os.release()}`);
  try {
    if (fs.readFileSync(stamp, 'utf8') === headers.release) return false;
  } catch { /* not noted yet */ }
  try {
    fs.mkdirSync(path.dirname(stamp), { recursive: true });
    fs.writeFileSync(stamp, headers.release);
  } catch { /* cannot remember: say it every time rather than never */ }
  return true;
}
