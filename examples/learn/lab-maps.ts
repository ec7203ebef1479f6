// What steps 1, 2, 5 and 10 of the course need besides eBPF: workloads that run while the step
// watches (lab.ts's run() only hands back a finished one), the table step 2 prints, the totals the
// sendrecv workload reports, and step 10's --port option.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { usageError } from './lab.ts';

export interface Running {
  /** Known at once, so that a step can filter its events by it while the workload runs. */
  pid: number;
  /** Settles when the workload has exited: its status and all it printed. */
  exited: Promise<{ status: number | null; stdout: string }>;
}

/** Starts a workload and returns at once. Its stderr is the step's. */
export function start(command: string, args: string[] = []): Running {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
  const exited = new Promise<{ status: number | null; stdout: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout }));
  });
  if (child.pid === undefined) throw new Error(`cannot start ${command}`);
  return { pid: child.pid, exited };
}

/**
 * A maps-worker process (step 5): each command is one line on its stdin, answered by one line
 * (a number) once done, so that the step knows exactly what it did before reading the maps.
 */
export class Worker {
  readonly pid: number;
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  private buffered = '';
  private waiting: Array<{ resolve: (n: number) => void; reject: (err: Error) => void }> = [];

  constructor(binary: string, cpu: number) {
    this.child = spawn(binary, [String(cpu)], { stdio: ['pipe', 'pipe', 'inherit'] });
    if (this.child.pid === undefined) throw new Error(`cannot start ${binary}`);
    this.pid = this.child.pid;
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.buffered += chunk;
      for (let nl = this.buffered.indexOf('\n'); nl >= 0; nl = this.buffered.indexOf('\n')) {
        const answer = Number(this.buffered.slice(0, nl));
        this.buffered = this.buffered.slice(nl + 1);
        this.waiting.shift()?.resolve(answer);
      }
    });
    this.child.on('exit', (code, signal) => {
      for (const w of this.waiting.splice(0)) w.reject(new Error(`maps-worker ${this.pid} ended (${signal ?? code}) before answering`));
    });
  }

  /** Sends `calls N` or `spin MS`; resolves with the number of getppid calls the worker made. */
  command(line: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin.write(`${line}\n`);
    });
  }

  /** Ends the worker (end of its input) and waits for it to exit. */
  end(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.stdin.end();
    });
  }
}

/** One process's entry of step 2's map (02-maps.bpf.c's struct stats). */
export interface Stats {
  sendmsg: bigint;
  recvmsg: bigint;
  bytes_sent: bigint;
  bytes_recv: bigint;
  comm: string;
}

export const COUNTERS = ['sendmsg', 'recvmsg', 'bytes_sent', 'bytes_recv'] as const;
export type Totals = Record<(typeof COUNTERS)[number], bigint>;

/** The sendrecv workload's last line, "sendmsg=21 recvmsg=27 bytes_sent=9100 bytes_recv=9100". */
export function parseTotals(stdout: string): Totals {
  const found = /sendmsg=(\d+) recvmsg=(\d+) bytes_sent=(\d+) bytes_recv=(\d+)/.exec(stdout);
  if (!found) throw new Error(`the sendrecv workload printed no totals: ${JSON.stringify(stdout)}`);
  return { sendmsg: BigInt(found[1]), recvmsg: BigInt(found[2]), bytes_sent: BigInt(found[3]), bytes_recv: BigInt(found[4]) };
}

/** One line of counters, the same for what the workload did and what the map holds. */
export function totalsLine(t: Totals): string {
  return COUNTERS.map((c) => `${c}=${t[c]}`).join(' ');
}

/**
 * Step 2's table: the processes with the most calls (at most `limit`), the marked one always
 * included and flagged, so that the workload's row is there even on a busy machine.
 */
export function statsTable(entries: Array<[number, Stats]>, marked: number, limit = 5): string {
  const calls = (s: Stats): bigint => s.sendmsg + s.recvmsg;
  const sorted = [...entries].sort((a, b) => (calls(b[1]) > calls(a[1]) ? 1 : calls(b[1]) < calls(a[1]) ? -1 : a[0] - b[0]));
  const shown = sorted.slice(0, limit);
  const mine = sorted.find(([pid]) => pid === marked);
  if (mine && !shown.includes(mine)) shown[shown.length - 1] = mine;
  const row = (cells: Array<string | number | bigint>): string =>
    cells.map((c, i) => (i === 1 ? String(c).padEnd(16) : String(c).padStart(i === 0 ? 7 : 11))).join(' ').trimEnd();
  const lines = [row(['PID', 'COMM', 'SENDMSG', 'RECVMSG', 'BYTES_SENT', 'BYTES_RECV'])];
  for (const [pid, s] of shown) {
    lines.push(`${row([pid, s.comm, s.sendmsg, s.recvmsg, s.bytes_sent, s.bytes_recv])}${pid === marked ? '   <- the workload' : ''}`);
  }
  return lines.join('\n');
}

/** Parses a TCP port for listening: 1-65535, digits only. */
export function parsePort(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/**
 * Takes `--port N` (or --port=N) out of process.argv before lab.ts's stepOptions, which knows
 * only --seconds and refuses other options.
 */
export function takePort(step: string, fallback: number): number {
  const args = process.argv;
  for (let i = 2; i < args.length; i++) {
    if (args[i] !== '--port' && !args[i].startsWith('--port=')) continue;
    const text = args[i].includes('=') ? args[i].slice(args[i].indexOf('=') + 1) : args[i + 1];
    const port = parsePort(text);
    if (port === undefined) usageError(step, `--port needs a whole number from 1 to 65535, not ${JSON.stringify(text ?? '')}`);
    args.splice(i, args[i].includes('=') ? 1 : 2);
    return port;
  }
  return fallback;
}
