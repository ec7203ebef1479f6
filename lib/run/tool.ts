// The life of a tool run, shared by every tool: parse options, print help or the program, load
// and attach, run the tool's loop, and end cleanly however the run ends.
//
// Exit status: 0 on a normal end (Ctrl-C included, as bcc's tools do), 2 on bad usage or a missing
// prerequisite (not root, no libbcc, no tracefs, no headers), 1 on any other failure. Every error
// is one line on stderr; BPFKIT_DEBUG=1 adds the stack and the compiler or verifier log.
import v8 from 'node:v8';
import { BPF, BpfError, closeAll, closeAllAsync, headersMismatchNotice, isBpfError, requireRoot } from 'bcc-node-bindings';
import { helpText, parseArgs, UsageError, type ParsedOptions, type ToolSpec } from './cli.ts';
import { buildProgram, type ProgramConfig, type ToolProgram } from './program.ts';
import { explain } from './explain.ts';
import { MissingPrerequisite } from './errors.ts';
import type { AttachChoice } from './attach-plan.ts';

// V8 doubles its young generation each time a burst of short-lived objects outgrows it (up to
// 16 MB per half), and keeps it: one tcptop interval over 10,000 flows left the process at 83 MB
// for good. Not growing it keeps such a tool at ~74 MB during that interval and back to ~54 MB
// after; the cost is more, smaller scavenges (no change in execsnoop's CPU per exec). Set here,
// not as a node option: any V8 option on node's command line costs ~20 ms of start-up.
v8.setFlagsFromString('--semi-space-growth-factor=1');

const SETUP_ERRORS = new Set(['NOT_ROOT', 'LIBBCC_MISSING', 'TRACEFS_MISSING', 'HEADERS_MISSING', 'INVALID_ARGUMENT']);

export interface ToolContext<O> {
  opts: O & ParsedOptions;
  /** Resolves when the run should end: Ctrl-C, SIGTERM, SIGHUP, or a call to stop(). */
  readonly stopped: Promise<void>;
  readonly isStopping: boolean;
  stop(): void;
  /** Waits `ms`, or less if the run is stopped meanwhile; returns false when stopped. */
  sleep(ms: number): Promise<boolean>;
  /**
   * Builds the C program from bpf/<file> with validated #defines, prints it and exits for
   * --ebpf, otherwise compiles and loads it (attaching what its names say).
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
}

export async function runTool<O>(spec: ToolSpec, body: (ctx: ToolContext<O>) => Promise<void> | void, argv = process.argv.slice(2)): Promise<void> {
  let opts: ParsedOptions;
  try {
    opts = parseArgs(spec, argv);
  } catch (err) {
    return fail(spec.name, err);
  }
  if (opts.help) {
    process.stdout.write(helpText(spec));
    return;
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
  const onSignal = () => {
    // A second Ctrl-C while the tool prints its summary ends it at once, probes detached.
    if (stopping) { closeAll(); process.exit(130); }
    stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') { closeAll(); process.exit(0); }
    fail(spec.name, err);
  });

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
        process.exit(0);
      }
      const bpf = new BPF({ text: program.text, includeDirs: program.includeDirs, autoAttach: config.autoAttach, cache: !opts['no-cache'] });
      const notice = headersMismatchNotice(bpf.headers);
      if (notice) process.stderr.write(`${spec.name}: ${notice}\n`);
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
      if (process.env.BPFKIT_READY === '1') process.stderr.write(`${spec.name}: ready\n`);
    },
    print: (line) => { process.stdout.write(`${line}\n`); },
    json: (value) => { process.stdout.write(`${toJson(value)}\n`); },
    warn: (message) => { process.stderr.write(`${spec.name}: ${message}\n`); },
  };

  try {
    // Before anything probes the kernel: without root every probe fails, and the reason would be lost.
    if (!opts.ebpf) requireRoot();
    await body(ctx);
  } catch (err) {
    closeAll();
    return fail(spec.name, err);
  }
  await closeAllAsync();
  // process.exit() drops what a pipe has not taken yet (anything beyond its 64 KiB buffer).
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(0);
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
    return v;
  });
}

function fail(tool: string, err: unknown): never {
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
  process.exit(status);
}
