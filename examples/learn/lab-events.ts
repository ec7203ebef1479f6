// What step 6 needs besides its programs: the workload held at its start line until the programs
// know its pid, the libc name its openat call goes through, the kernel's cost per run of each
// program, and the perf samples' kernel stacks sorted into "in openat" and the rest.
import { execFileSync, spawn } from 'node:child_process';
import { ksym, programInfo, type HashTable, type StackTraceTable } from 'bcc-node-bindings';

/** openat's syscall number, which the raw tracepoint sys_enter sees instead of a name. */
const OPENAT_NR: Partial<Record<NodeJS.Architecture, number>> = { x64: 257, arm64: 56 };

export function openatNumber(arch: NodeJS.Architecture = process.arch): number | undefined {
  return OPENAT_NR[arch];
}

export interface Held {
  pid: number;
  /** Lets the workload go and settles with its exit status once it has ended (killed after `seconds`). */
  go(seconds: number): Promise<number | null>;
  kill(): void;
}

/**
 * Starts a workload that prints "ready" and then waits for a byte on stdin: by then the dynamic
 * loader has opened what it opens, so a program filtered to the pid from now on sees only the
 * workload's own calls.
 */
export function startHeld(command: string, args: string[]): Promise<Held> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('close', (status) => resolve(status)));
  const kill = () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); };
  return new Promise((resolve, reject) => {
    let out = '';
    child.on('error', reject);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out !== 'ready\n') return;
      resolve({
        pid: child.pid ?? 0,
        kill,
        go: async (seconds) => {
          const timer = setTimeout(kill, seconds * 1000);
          child.stdin.end('g');
          const status = await exited;
          clearTimeout(timer);
          return status;
        },
      });
    });
    void exited.then((status) => reject(new Error(`${command} ended (status ${status}) before it was ready`)));
  });
}

/**
 * The first of `names` that `binary` imports (its undefined dynamic symbols, as `nm -D` lists
 * them): the libc entry its call goes through, which a uprobe must name. glibc exports each
 * under several aliases at one address (open = open64 = __open64; openat = openat64).
 */
export function importedSymbol(binary: string, names: string[]): string | undefined {
  const text = execFileSync('nm', ['-D', '--undefined-only', binary], { encoding: 'utf8' });
  const imported = new Set(text.split('\n').map((line) => line.trim().split(/\s+/).pop()?.replace(/@.*$/, '')));
  return names.find((name) => imported.has(name));
}

/** The kernel's run statistics of one loaded program (enableRunStats must be on). */
export function runCost(fd: number): { runs: bigint; nsPerRun: number } {
  const info = programInfo(fd);
  return { runs: info.runCount, nsPerRun: info.runCount ? Number(info.runTimeNs / info.runCount) : 0 };
}

export interface SampleShare {
  user: number;
  /** Kernel samples with a function named *openat* on the stack: the system call's own work. */
  openat: number;
  /** Kernel samples in the breakpoint and single-step traps through which a uprobe runs. */
  uprobe: number;
  /** The rest of the kernel: close, the syscall entry and exit, the tracing programs' callers. */
  kernel: number;
}

const UPROBE_TRAP = /^(asm_exc_int3|asm_exc_debug|uprobe_notify_resume)$/;

/** Sorts the workload's samples by where its CPU was: user space, openat, a uprobe's trap, the rest of the kernel. */
export function sampleShare(sampled: HashTable<number, bigint>, stacks: StackTraceTable): SampleShare {
  const share: SampleShare = { user: 0, openat: 0, uprobe: 0, kernel: 0 };
  for (const [id, n] of sampled.entries()) {
    const frames = id < 0 ? null : stacks.walk(id).map((ip) => ksym(ip).replace(/\+.*$/, ''));
    if (!frames) share.user += Number(n);
    else if (frames.some((f) => f.includes('openat'))) share.openat += Number(n);
    else if (frames.some((f) => UPROBE_TRAP.test(f))) share.uprobe += Number(n);
    else share.kernel += Number(n);
  }
  return share;
}
