// execsnoop's records and lines: decoding the one record execsnoop.bpf.c sends per exec(), and
// printing it in bcc's columns (bcc's tools/execsnoop.py) or as JSON. Pure functions, called once
// per exec on the hot path, so they work on the record's bytes directly and allocate little.

/** bcc's per-argument size: longer arguments are cut to this many bytes and marked "...". */
export const ARGSIZE = 128;
/** bcc's --max-args default: the file name plus 19 arguments. */
export const DEFAULT_MAX_ARGS = 20;

/**
 * Where each field of struct exec_event (execsnoop.bpf.c) starts, by its C name. The C struct is
 * the truth: test/kernel/execsnoop.test.ts compares these with the layout libbcc reports for it.
 */
export const EXEC_EVENT_OFFSETS = {
  ts: 0, pid: 8, ppid: 12, uid: 16, retval: 20, cpu: 24, data_len: 28, area_len: 32, flags: 36,
  comm: 40, pcomm: 56, data: 72,
} as const;
/** comm[] and pcomm[]: the kernel's TASK_COMM_LEN. */
export const COMM_LEN = 16;
/** Bytes before data[]: a record is this header and data_len bytes of data. */
export const RECORD_HEADER_SIZE = EXEC_EVENT_OFFSETS.data;

const {
  ts: OFF_TS, pid: OFF_PID, ppid: OFF_PPID, uid: OFF_UID, retval: OFF_RETVAL, cpu: OFF_CPU, data_len: OFF_DATA_LEN,
  area_len: OFF_AREA_LEN, flags: OFF_FLAGS, comm: OFF_COMM, pcomm: OFF_PCOMM,
} = EXEC_EVENT_OFFSETS;

// Bits of exec_event.flags (EXEC_ARGS_* in execsnoop.bpf.c).
const EXEC_ARGS_MORE = 1;
const EXEC_ARGS_UNREADABLE = 2;

export interface ExecEvent {
  /** bpf_ktime_get_ns() at the exec: CLOCK_MONOTONIC, the clock of process.hrtime.bigint(). */
  ts: bigint;
  pid: number;
  ppid: number;
  uid: number;
  /** 0, or the negative errno of a failed exec. */
  ret: number;
  cpu: number;
  comm: string;
  pcomm: string;
  /** What bcc shows: the file name, then argv[1…], at most --max-args in all, each cut to ARGSIZE bytes. */
  args: string[];
  /** More arguments existed than are shown (bcc's trailing "..."). */
  truncated: boolean;
}

function cString(buf: Buffer, start: number, end: number): string {
  const nul = buf.indexOf(0, start);
  return buf.toString('utf8', start, nul < 0 || nul > end ? end : nul);
}

/** An argument's bytes as text, cut to ARGSIZE bytes (at a character boundary) and marked. */
function argText(buf: Buffer, start: number, end: number): string {
  if (end - start <= ARGSIZE) return buf.toString('utf8', start, end);
  let cut = start + ARGSIZE;
  while (cut > start && (buf[cut] & 0xc0) === 0x80) cut--; // not inside a UTF-8 sequence
  return `${buf.toString('utf8', start, cut)}...`;
}

/**
 * Decodes one record. `maxArgs` is --max-args: the file name and argv[1…maxArgs-1] are kept,
 * and `truncated` says whether argv had more (argc > maxArgs), which bcc cannot tell apart from
 * exactly maxArgs.
 */
export function decodeExecRecord(buf: Buffer, maxArgs: number): ExecEvent {
  const dataLen = buf.readUInt32LE(OFF_DATA_LEN);
  const end = Math.min(buf.length, RECORD_HEADER_SIZE + dataLen);
  const flags = buf.readUInt32LE(OFF_FLAGS);
  const ret = buf.readInt32LE(OFF_RETVAL);

  // data: filename\0 argv[0]\0 argv[1]\0 … — argv[0] is skipped, as bcc shows the file name.
  let at = RECORD_HEADER_SIZE;
  let nul = buf.indexOf(0, at);
  if (nul < 0 || nul >= end) nul = end;
  const args = [argText(buf, at, nul)];
  at = nul + 1;
  // A success whose argument area is larger than what the kernel copied had more arguments.
  let truncated = (flags & (EXEC_ARGS_MORE | EXEC_ARGS_UNREADABLE)) !== 0 ||
    (ret === 0 && buf.readUInt32LE(OFF_AREA_LEN) > Math.max(0, end - at));
  let argc = 0;
  while (at < end) {
    nul = buf.indexOf(0, at);
    const complete = nul >= 0 && nul < end;
    if (!complete) nul = end;
    if (argc > 0) {
      if (args.length === maxArgs) { truncated = true; break; }
      args.push(complete ? argText(buf, at, nul) : `${argText(buf, at, nul)}...`);
    }
    argc++;
    at = nul + 1;
  }
  return {
    ts: buf.readBigUInt64LE(OFF_TS),
    pid: buf.readUInt32LE(OFF_PID),
    ppid: buf.readUInt32LE(OFF_PPID),
    uid: buf.readUInt32LE(OFF_UID),
    ret,
    cpu: buf.readUInt32LE(OFF_CPU),
    comm: cString(buf, OFF_COMM, OFF_COMM + COMM_LEN),
    pcomm: cString(buf, OFF_PCOMM, OFF_PCOMM + COMM_LEN),
    args,
    truncated,
  };
}

export interface ColumnOptions {
  /** -T: TIME (HH:MM:SS) */
  time?: boolean;
  /** -t: TIME(s), seconds since the tool started */
  timestamp?: boolean;
  /** -U: UID */
  printUid?: boolean;
  /** -M: PCOMM, the parent's command name */
  printPcomm?: boolean;
  /** -C: CPU */
  printCpu?: boolean;
  /** -q: "quote" each argument, escaping " as \" */
  quote?: boolean;
}

/** bcc's header, column by column with its widths. */
export function headerLine(o: ColumnOptions): string {
  let line = '';
  if (o.time) line += 'TIME'.padEnd(9);
  if (o.timestamp) line += 'TIME(s)'.padEnd(8);
  if (o.printUid) line += 'UID'.padEnd(6);
  line += `${'COMM'.padEnd(16)} ${'PID'.padEnd(7)} `;
  if (o.printPcomm) line += `${'PCOMM'.padEnd(16)} `;
  line += `${'PPID'.padEnd(7)} `;
  if (o.printCpu) line += `${'CPU'.padEnd(4)} `;
  return `${line}RET ARGS`;
}

/** The ARGS column: arguments joined by spaces (quoted with -q), " ..." when cut, newlines as \n. */
export function argsText(ev: ExecEvent, quote = false): string {
  const parts = quote ? ev.args.map((a) => `"${a.replaceAll('"', '\\"')}"`) : ev.args;
  let text = parts.join(' ');
  // Unquoted even with -q, so that it cannot be mistaken for an argument "..." (bcc quotes it).
  if (ev.truncated) text += ' ...';
  return text.includes('\n') ? text.replaceAll('\n', '\\n') : text;
}

/** The text -l matches: the arguments as bcc joins them, before quoting. */
export function argsLine(ev: ExecEvent): string {
  return ev.truncated ? `${ev.args.join(' ')} ...` : ev.args.join(' ');
}

/** One row in bcc's layout; `clock` and `seconds` are the TIME and TIME(s) values. */
export function rowLine(ev: ExecEvent, o: ColumnOptions, clock: string, seconds: string): string {
  let line = '';
  if (o.time) line += clock.padEnd(9);
  if (o.timestamp) line += seconds.padEnd(8);
  if (o.printUid) line += String(ev.uid).padEnd(6);
  line += `${ev.comm.padEnd(16)} ${String(ev.pid).padEnd(7)} `;
  if (o.printPcomm) line += `${ev.pcomm.padEnd(16)} `;
  line += `${String(ev.ppid).padEnd(7)} `;
  if (o.printCpu) line += `${String(ev.cpu).padEnd(4)} `;
  return `${line}${String(ev.ret).padStart(3)} ${argsText(ev, o.quote)}`;
}

/**
 * --json: one object per exec, the same values as the text columns (all of them, whatever the
 * column options). Field names are stable: time, timestamp, uid, comm, pid, pcomm, ppid, cpu,
 * ret, args (array of strings, the file name first), args_truncated.
 */
export function jsonLine(ev: ExecEvent, clock: string, seconds: string): string {
  return JSON.stringify({
    time: clock,
    timestamp: Number(seconds),
    uid: ev.uid,
    comm: ev.comm,
    pid: ev.pid,
    pcomm: ev.pcomm,
    ppid: ev.ppid,
    cpu: ev.cpu,
    ret: ev.ret,
    args: ev.args,
    args_truncated: ev.truncated,
  });
}
