// bashreadline's records and lines: decoding the record bashreadline.bpf.c sends for each line
// readline returns, and printing it in bcc's columns (bcc's tools/bashreadline.py) or as JSON.
// Pure functions.

/**
 * Where each field of struct line_event (bashreadline.bpf.c) starts. The C struct is the truth:
 * test/kernel/bashreadline.test.ts compares these with the layout libbcc reports for it.
 */
export const LINE_EVENT_OFFSETS = { ts: 0, pid: 8, uid: 12, len: 16, flags: 20, comm: 24, line: 40 } as const;
export const COMM_LEN = 16;

/** line_event.flags */
const LINE_TRUNCATED = 1;
const LINE_UNREADABLE = 2;

export interface LineEvent {
  /** bpf_ktime_get_ns() at readline's return: CLOCK_MONOTONIC, the clock of process.hrtime.bigint(). */
  ts: bigint;
  pid: number;
  uid: number;
  comm: string;
  /** The line as typed (UTF-8; bytes that are not are shown as U+FFFD, as bcc's 'replace'). */
  line: string;
  /** Longer than the bytes read (program.ts LINE_READ): `line` is its beginning. */
  truncated: boolean;
  /** readline returned a pointer the probe could not read: `line` is empty. */
  unreadable: boolean;
}

export function decodeLineRecord(buf: Buffer): LineEvent {
  const o = LINE_EVENT_OFFSETS;
  const flags = buf.readUInt32LE(o.flags);
  const nul = buf.indexOf(0, o.comm);
  const len = Math.min(buf.readUInt32LE(o.len), Math.max(0, buf.length - o.line));
  return {
    ts: buf.readBigUInt64LE(o.ts),
    pid: buf.readUInt32LE(o.pid),
    uid: buf.readUInt32LE(o.uid),
    comm: buf.toString('utf8', o.comm, nul < 0 || nul > o.comm + COMM_LEN ? o.comm + COMM_LEN : nul),
    line: buf.toString('utf8', o.line, o.line + len),
    truncated: (flags & LINE_TRUNCATED) !== 0,
    unreadable: (flags & LINE_UNREADABLE) !== 0,
  };
}

const NAMED_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\x1b': '\\e' };

/**
 * The line for one row: control characters written as C escapes (\n, \t, \e, \xNN). A pasted
 * block arrives as one line with its newlines (readline's bracketed paste), and a line may hold
 * terminal escape sequences that, printed raw, would move the watcher's cursor or hide the text:
 * one row per line, always. A typed backslash stays as it is (`printf 'a\n'` reads as typed), so
 * a typed "\n" and a newline look alike here; --json has the line exactly.
 */
export function escapeLine(line: string): string {
  // C0 controls, DEL, and the C1 controls a terminal may also act on.
  return line.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => NAMED_ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** bcc's header: "%-9s %-7s %s". */
export function headerLine(): string {
  return `${'TIME'.padEnd(9)} ${'PID'.padEnd(7)} COMMAND`;
}

/** One row in bcc's layout ("%-9s %-7d %s"); `clock` is the TIME value. */
export function rowLine(ev: LineEvent, clock: string): string {
  return `${clock.padEnd(9)} ${String(ev.pid).padEnd(7)} ${escapeLine(ev.line)}`;
}

/**
 * --json: one object per line read. Fields: time, timestamp (seconds since start), pid, uid,
 * comm, line (as typed, unescaped), and truncated: true / unreadable: true when so (else absent).
 */
export function jsonLine(ev: LineEvent, clock: string, seconds: string): string {
  return JSON.stringify({
    time: clock,
    timestamp: Number(seconds),
    pid: ev.pid,
    uid: ev.uid,
    comm: ev.comm,
    line: ev.line,
    ...(ev.truncated ? { truncated: true } : {}),
    ...(ev.unreadable ? { unreadable: true } : {}),
  });
}
