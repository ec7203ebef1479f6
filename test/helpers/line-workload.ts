// Workloads that say what they did in lines of a word and numbers ("server PID PORT", "client PID
// LPORT...", "refused PID N": test/workloads/tcpflows.c and its kin). A test waits for a line by
// its word; a workload still running when its test ends (it failed half-way) is killed by
// stopLineWorkloads, which a test file runs after each test.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface LineWorkload {
  proc: ChildProcess;
  /** The numbers on the first line that starts with `word`; rejects if the workload ends first. */
  line(word: string): Promise<number[]>;
  /** Lets a workload waiting on stdin ("wait-connect", "wait-transfer") go on. */
  go(): void;
  /** Its exit code. */
  done: Promise<number>;
}

const running = new Set<ChildProcess>();

/** Kills what the last test left running: `afterEach(stopLineWorkloads)`. */
export function stopLineWorkloads(): void {
  for (const proc of running) proc.kill('SIGKILL');
  running.clear();
}

export function startLineWorkload(file: string, args: string[], uid?: number): LineWorkload {
  const proc = spawn(file, args, { stdio: ['pipe', 'pipe', 'inherit'], ...(uid === undefined ? {} : { uid, gid: uid }) });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  let out = '';
  // 'close', not 'exit': only then has every byte of stdout been read.
  let closed = false;
  proc.once('close', () => { closed = true; });
  const waiters: Array<() => void> = [];
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; for (const w of waiters.splice(0)) w(); });
  const line = (word: string) => new Promise<number[]>((resolve, reject) => {
    const check = () => {
      const m = new RegExp(`^${word}((?: \\d+)+)\\n`, 'm').exec(out);
      if (m) resolve(m[1].trim().split(' ').map(Number));
      else if (closed) reject(new Error(`${file} exited without a "${word}" line`));
      else waiters.push(check);
    };
    check();
    proc.once('close', check);
  });
  return { proc, line, go: () => proc.stdin!.write('go\n'), done: once(proc, 'close').then(([code]) => code as number) };
}
