// exitsnoop's records and lines: decoding the record exitsnoop.bpf.c sends per exit, and printing
// it in bcc's columns (bcc's tools/exitsnoop.py) or as JSON. Pure functions.
import { signalName } from '../../lib/kernel/signals.ts';

/**
 * Where each field of struct exit_event (exitsnoop.bpf.c) starts, by its C name. The C struct is
 * the truth: test/kernel/exitsnoop.test.ts compares these with the layout libbcc reports for it.
 */
export const EXIT_EVENT_OFFSETS = { start_time: 0, exit_time: 8, pid: 16, tid: 20, ppid: 24, status: 28, comm: 32 } as const;
/** comm[]: the kernel's TASK_COMM_LEN. */
export const COMM_LEN = 16;
export const RECORD_SIZE = EXIT_EVENT_OFFSETS.comm + COMM_LEN;

export interface ExitEvent {
  /** The task's start (fork), CLOCK_MONOTONIC ns. */
  start: bigint;
  /** The exit, CLOCK_MONOTONIC ns: the clock of process.hrtime.bigint(). */
  ts: bigint;
  pid: number;
  tid: number;
  ppid: number;
  /** The wait status (task_struct.exit_code): code << 8, or the signal | 0x80 for a core dump. */
  status: number;
  comm: string;
}

export function decodeExitRecord(buf: Buffer): ExitEvent {
  const at = EXIT_EVENT_OFFSETS;
  const nul = buf.indexOf(0, at.comm);
  const end = nul < 0 || nul > at.comm + COMM_LEN ? at.comm + COMM_LEN : nul;
  return {
    start: buf.readBigUInt64LE(at.start_time),
    ts: buf.readBigUInt64LE(at.exit_time),
    pid: buf.readUInt32LE(at.pid),
    tid: buf.readUInt32LE(at.tid),
    ppid: buf.readUInt32LE(at.ppid),
    status: buf.readInt32LE(at.status),
    comm: buf.toString('utf8', at.comm, end),
  };
}

/** What the status says, as wait(2)'s macros read it. */
export interface Outcome {
  /** WEXITSTATUS: the exit code (bcc's exit_code, status >> 8). */
  code: number;
  /** WTERMSIG: the signal that ended it, 0 for a normal exit. */
  signal: number;
  /** WCOREDUMP */
  core: boolean;
}

export function outcome(status: number): Outcome {
  return { code: status >> 8, signal: status & 0x7f, core: (status & 0x80) !== 0 };
}

/** Seconds from start to exit (bcc's AGE). */
export function ageSeconds(ev: ExitEvent): number {
  return ev.ts > ev.start ? Number(ev.ts - ev.start) / 1e9 : 0;
}

/** bcc's EXIT_CODE column: "0", "code 3", "signal 9 (KILL)", "signal 6 (ABRT), core dumped". */
export function exitText(status: number): string {
  const { code, signal, core } = outcome(status);
  if ((status & 0xff) === 0) return code === 0 ? '0' : `code ${code}`;
  let text = signal ? `signal ${signal} (${signalName(signal) ?? 'unknown'})` : '';
  if (core) text += ', core dumped';
  return text;
}

export interface ColumnOptions {
  /** -t: the TIME-<zone> column (HH:MM:SS.mmm). */
  timestamp?: boolean;
  /** --utc: that column in UTC. */
  utc?: boolean;
  /** --label: the LABEL column's text. */
  label?: string;
}

/** The time zone's short name as strftime's %Z gives it where Intl knows one ("UTC", "EST"). */
export function zoneName(date = new Date()): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(date).find((p) => p.type === 'timeZoneName');
  return part?.value ?? 'local';
}

const two = (n: number) => String(n).padStart(2, '0');

/** HH:MM:SS.mmm, local or UTC (bcc's %H:%M:%S.%f cut to milliseconds). */
export function clockMs(date: Date, utc: boolean): string {
  const [h, m, s] = utc ? [date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()] : [date.getHours(), date.getMinutes(), date.getSeconds()];
  return `${two(h)}:${two(m)}:${two(s)}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

/** bcc's JSON timestamp: YYYY-MM-DDTHH:MM:SS.mmm, local or UTC, without a zone. */
export function isoMs(date: Date, utc: boolean): string {
  const [y, mo, d] = utc ? [date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()] : [date.getFullYear(), date.getMonth(), date.getDate()];
  return `${y}-${two(mo + 1)}-${two(d)}T${clockMs(date, utc)}`;
}

/** bcc's header: printf("%-13s") for TIME-<zone>, "%-6s" for LABEL, then the fixed columns. */
export function headerLine(o: ColumnOptions, zone = o.utc ? 'UTC' : zoneName()): string {
  let line = '';
  if (o.timestamp) line += `TIME-${zone}`.padEnd(13);
  if (o.label !== undefined) line += 'LABEL'.padEnd(6);
  return `${line}${'PCOMM'.padEnd(16)} ${'PID'.padEnd(7)} ${'PPID'.padEnd(7)} ${'TID'.padEnd(7)} ${'AGE(s)'.padEnd(7)} EXIT_CODE`;
}

/** One row in bcc's layout: "%-16s %-7d %-7d %-7d %-7.2f " and the EXIT_CODE text. */
export function rowLine(ev: ExitEvent, o: ColumnOptions, clock: string): string {
  let line = '';
  if (o.timestamp) line += clock.padEnd(13);
  if (o.label !== undefined) line += o.label.padEnd(6);
  return `${line}${ev.comm.padEnd(16)} ${String(ev.pid).padEnd(7)} ${String(ev.ppid).padEnd(7)} ${String(ev.tid).padEnd(7)} ` +
    `${ageSeconds(ev).toFixed(2).padEnd(7)} ${exitText(ev.status)}`;
}

/**
 * --json: bcc's fields (timestamp, task, pid, ppid, tid, age, exit_code, sig_info), then the
 * status decoded: signal (0 for a normal exit), signal_name (null then), core_dumped; and label
 * with --label.
 */
export function jsonLine(ev: ExitEvent, timestamp: string, label?: string): string {
  const { code, signal, core } = outcome(ev.status);
  return JSON.stringify({
    timestamp,
    task: ev.comm,
    pid: ev.pid,
    ppid: ev.ppid,
    tid: ev.tid,
    age: ageSeconds(ev),
    exit_code: code,
    sig_info: ev.status & 0xff,
    signal,
    signal_name: signal ? signalName(signal) ?? null : null,
    core_dumped: core,
    ...(label !== undefined ? { label } : {}),
  });
}
