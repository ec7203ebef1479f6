// What is measured, per tool: our tool and its anchors (bcc's Python tool from Debian's
// bpfcc-tools, bpftrace's packaged tool and/or an equivalent bpftrace program on tracepoints), how
// each is started in each mode, how it says it is ready, the workload that makes its events, and
// how to read from its output what it saw. Each tool's entry is test/bench/tools/<tool>.ts (a
// ToolBench named `bench`), built from the helpers here.
import fs from 'node:fs';
import path from 'node:path';
import type { Command, Readiness } from './proc.ts';
import type { WorkloadBinaries } from './workloads.ts';

import { TOOL_NAMES as REGISTERED } from '../../../tools/index.ts';

export type ToolName = string;
/** Every tool of the registry is measured; each has its file test/bench/tools/<tool>.ts. */
export const TOOL_NAMES: readonly ToolName[] = REGISTERED;

/** How our tool is started: the installed package (compiled JS) or the checkout through tsx. */
export type OurPath = 'installed' | 'tsx';

export interface Setup {
  repo: string;
  /** Directory where the packed tarball was installed (holds node_modules/bpfkit), or null. */
  installDir: string | null;
  /** Kernel headers for bcc's Python tools (BCC_KERNEL_SOURCE), as our binding finds them. */
  headers: string | null;
  bin: WorkloadBinaries;
  /** The loop device biolatency's workload reads (/dev/loopN). */
  loopDevice: string | null;
}

export interface Launch {
  mode: string;
  /** PID to filter on, for modes that take one. */
  pid?: number;
  /** For our tool: which path and which compile cache directory. */
  path?: OurPath;
  cacheDir?: string;
}

export interface Tracer {
  /** "bpfkit", "bcc", "bpftrace one-liner", "bpftrace execsnoop.bt", … */
  id: string;
  kind: 'bpfkit' | 'bcc' | 'bpftrace';
  /** The modes it can run in (syscount: default, -p, -P, -L); the first is its default. */
  modes: string[];
  ready: Readiness;
  command(setup: Setup, launch: Launch): Command;
}

export interface ToolBench {
  name: ToolName;
  /** The modes the overhead is measured in (rows of its table). */
  modes: string[];
  tracers: Tracer[];
  /** What one event is, for "ns per …". */
  event: string;
  /** The workload for the added-cost runs (a count) and for load windows (@seconds). */
  workload(setup: Setup, amount: string): { file: string; args: string[] };
  /** Events per added-cost run (default 10,000; the first four tools take theirs from options). */
  overheadEvents?: number;
  /** Events the tracer counted, from its output after it stopped (where it prints a total). */
  counted?(tracer: Tracer, stdout: string): number | null;
  /** More added-cost measurements of the same tool on other events (secwatch: exec beside open). */
  variants?: Array<Pick<ToolBench, 'event' | 'tracers' | 'workload' | 'overheadEvents'>>;
}

export const BPFTRACE = ['/usr/bin/bpftrace', '/usr/sbin/bpftrace'].find((f) => fs.existsSync(f)) ?? 'bpftrace';

/** Our `tool`; `id` other than 'bpfkit' names it in the tables (another tool beside the one measured). */
export function ours(tool: ToolName, modes: string[], args: (launch: Launch) => string[], id = 'bpfkit'): Tracer {
  return {
    id,
    kind: 'bpfkit',
    modes,
    ready: { stream: 'stderr', pattern: new RegExp(`^${tool}: ready$`, 'm') },
    command(setup, launch) {
      // Started as a user starts them: the installed package's bin, or the checkout's script (both
      // run node through their sh launcher line, which also drops NODE_EXTRA_CA_CERTS).
      const file = launch.path === 'tsx' || !setup.installDir
        ? path.join(setup.repo, 'tools', `${tool}.ts`)
        : path.join(setup.installDir, 'node_modules/.bin', tool);
      return {
        file,
        args: args(launch),
        cwd: launch.path === 'tsx' ? setup.repo : setup.installDir ?? setup.repo,
        env: { BPFKIT_READY: '1', ...(launch.cacheDir ? { BPFKIT_COMPILE_CACHE_DIR: launch.cacheDir } : {}) },
      };
    },
  };
}

export function bcc(tool: ToolName, modes: string[], ready: RegExp, args: (launch: Launch) => string[]): Tracer {
  return {
    id: 'bcc',
    kind: 'bcc',
    modes,
    // Python buffers stdout into a pipe: unbuffered, the header line arrives when it is printed.
    ready: { stream: 'stdout', pattern: ready },
    command: (setup, launch) => ({
      file: `/usr/sbin/${tool}-bpfcc`,
      args: args(launch),
      env: { PYTHONUNBUFFERED: '1', ...(setup.headers ? { BCC_KERNEL_SOURCE: setup.headers } : {}) },
    }),
  };
}

/** A bpftrace program (a packaged tool's path, or program text with -e). bpftrace runs BEGIN once every probe is attached. */
export function bpftrace(id: string, modes: string[], ready: RegExp, program: (launch: Launch) => { file: string } | { text: string }): Tracer {
  return {
    id,
    kind: 'bpftrace',
    modes,
    ready: { stream: 'stdout', pattern: ready },
    command(_setup, launch) {
      const p = program(launch);
      return { file: BPFTRACE, args: 'file' in p ? [p.file] : ['-e', p.text] };
    },
  };
}

export const pidArg = (launch: Launch) => {
  if (!Number.isInteger(launch.pid)) throw new Error(`mode ${launch.mode} needs a PID`);
  return String(launch.pid);
};

export const ANCHORS = path.resolve(import.meta.dirname, '../anchors');

// --- helpers several tools' entries use ---

/** Exec events of the bench's noop program in a tracer's output: each line names its path. */
export function execsSeen(stdout: string, noopPath: string): number {
  let n = 0;
  for (const line of stdout.split('\n')) if (line.includes(noopPath)) n++;
  return n;
}

/** Lost events a tracer reported: ours "execsnoop: lost N events", bpftrace "Lost N events", bcc "Possibly lost N samples". */
export function lostReported(output: string): number {
  let n = 0;
  for (const m of output.matchAll(/\blost (\d+)/gi)) n += Number(m[1]);
  return n;
}

/** Total count in printed log2 histograms: bcc's format ("  4 -> 7  : 12  |**|") or bpftrace's ("[4, 8)  12 |@@|"). */
export function histogramTotal(stdout: string): number | null {
  let total = 0;
  let rows = 0;
  for (const m of stdout.matchAll(/^\s*\d+\s*->\s*\d+\s*:\s*(\d+)\s*\|/gm)) { total += Number(m[1]); rows++; }
  for (const m of stdout.matchAll(/^\[[^\]\n]*[\])]\s+(\d+)\s+\|/gm)) { total += Number(m[1]); rows++; }
  return rows ? total : 0;
}

/** Bytes per send in tcptop's workload (the many-flows run reads it too). */
export const TCP_MESSAGE_BYTES = 64;

/** Every registered tool's bench entry, from test/bench/tools/<tool>.ts. */
export async function loadToolBenches(names: readonly ToolName[] = TOOL_NAMES): Promise<Record<ToolName, ToolBench>> {
  const entries = await Promise.all(names.map(async (name) => {
    const { bench } = await import(`../tools/${name}.ts`) as { bench: ToolBench };
    if (bench.name !== name) throw new Error(`test/bench/tools/${name}.ts names ${bench.name}`);
    return [name, bench] as const;
  }));
  return Object.fromEntries(entries);
}
