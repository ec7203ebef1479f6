// secwatch's alerts as Falco prints them, so that whatever reads Falco's output reads ours:
//
//   text (Falco's default):   19:42:01.123456789: Warning <message> | evt.type=openat proc.name=cat …
//   --json (json_output):     {"hostname":…,"output":<the text line>,"output_fields":{…},"priority":…,
//                              "rule":…,"source":"syscall","tags":[…],"time":"2026-12-06T19:42:01.123456789Z"}
//
// The fields carry Falco's own names (fd.name, proc.pname, …) where Falco has one for the value,
// and `bpfkit.*` for what is ours (the rule's id, the action taken). Pure functions: the entry
// decodes records (events.ts), decides which rules they satisfy, and hands each alert here.
//
// Lost records are not this file's: lib/run/event-output.ts's LostReporter already says on stderr,
// once a second and at the end, how many the buffer dropped.
import type { EventClock } from '../../lib/run/event-output.ts';
import { PTRACE_REQUESTS, type Action, type Outcome, type Rule, type SecEvent } from './model.ts';

export interface Alert {
  rule: Rule;
  event: SecEvent;
  /** What the rule's action did; absent when it only alerts (or its action was not taken). */
  outcome?: Outcome;
  /** The wall-clock time of the event: its local time of day and its UTC date are printed. */
  time: Date;
  /**
   * The nanoseconds within time's second (0 to 999,999,999): Falco prints nine digits, a Date
   * holds three. When given, time's milliseconds are not read; absent, they are all there is.
   * wallTime() gives both from a kernel timestamp.
   */
  nanos?: number;
  hostname: string;
  /** Why a deny became a kill (e.g. "BPF LSM refused here: …"): the entry sets it on the first such alert only. */
  fallback?: string;
}

export type FieldValue = string | number | boolean | null;

/**
 * An event's wall-clock time with its nanoseconds. EventClock knows its offset from the kernel's
 * clock to the millisecond; adding that one whole offset to every timestamp keeps the events'
 * order and spacing to the nanosecond (a Date per event would round each on its own).
 */
export function wallTime(clock: EventClock, ts: bigint): { time: Date; nanos: number } {
  const ns = ts + BigInt(clock.date(0n).getTime()) * 1_000_000n;
  return { time: new Date(Number(ns / 1_000_000n)), nanos: Number(ns % 1_000_000_000n) };
}

/** The action the program takes for a rule: where no BPF LSM hook refuses calls, a deny is a kill. */
export function enforcedAction(rule: Rule, denyByLsm: boolean): Action {
  return rule.action === 'deny' && !denyByLsm ? 'kill' : rule.action;
}

/**
 * What a rule's action did to an event: the kernel reports the rule bits it acted on (acted) and
 * those --dry-run held back. `enforced` is the action the program takes for the rule
 * (enforcedAction).
 */
export function outcomeOf(event: SecEvent, bit: number, enforced: Action): Outcome | undefined {
  if (enforced === 'alert') return undefined;
  const mask = 1n << BigInt(bit);
  if (event.acted & mask) return enforced === 'kill' ? 'killed' : 'denied';
  if (event.heldBack & mask) return enforced === 'kill' ? 'would kill' : 'would deny';
  return undefined;
}

// ---- open flags, chmod modes, ptrace requests, BPF program types as text ----

/**
 * O_* bits beyond the access mode, from the kernel's asm-generic fcntl.h; arm64 moves four of
 * them (arch/arm64/include/uapi/asm/fcntl.h). Multi-bit flags come first so that their bits are
 * named once: O_SYNC is __O_SYNC|O_DSYNC, O_TMPFILE is __O_TMPFILE|O_DIRECTORY.
 */
const ARM64 = process.arch === 'arm64';
const OPEN_FLAG_BITS: ReadonlyArray<[string, number]> = [
  ['O_SYNC', 0o4010000], ['O_TMPFILE', 0o20000000 | (ARM64 ? 0o40000 : 0o200000)],
  ['O_CREAT', 0o100], ['O_EXCL', 0o200], ['O_NOCTTY', 0o400], ['O_TRUNC', 0o1000], ['O_APPEND', 0o2000],
  ['O_NONBLOCK', 0o4000], ['O_DSYNC', 0o10000], ['O_ASYNC', 0o20000],
  ['O_DIRECT', ARM64 ? 0o200000 : 0o40000], ['O_LARGEFILE', ARM64 ? 0o400000 : 0o100000],
  ['O_DIRECTORY', ARM64 ? 0o40000 : 0o200000], ['O_NOFOLLOW', ARM64 ? 0o100000 : 0o400000],
  ['O_NOATIME', 0o1000000], ['O_CLOEXEC', 0o2000000], ['O_PATH', 0o10000000],
];
const ACCESS_MODES = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'];

/** open(2)'s flags as C spells them ("O_WRONLY|O_CREAT|O_TRUNC"); bits without a name as octal. */
export function openFlagsText(flags: number): string {
  const names = [ACCESS_MODES[flags & 3]];
  let rest = flags & ~3;
  for (const [name, bits] of OPEN_FLAG_BITS) {
    if ((rest & bits) === bits) {
      names.push(name);
      rest &= ~bits;
    }
  }
  if (rest !== 0) names.push(`0${(rest >>> 0).toString(8)}`);
  return names.join('|');
}

/** chmod's mode in octal as chmod(1) takes it, with the leading 0: "04755", "0644". */
export function modeText(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

const PTRACE_NAMES = new Map<number, string>(
  Object.entries(PTRACE_REQUESTS).map(([name, value]) => [value, `PTRACE_${name.toUpperCase()}`]),
);

/** A ptrace request as Falco (and linux/ptrace.h) names it: "PTRACE_ATTACH"; others by number. */
export function ptraceRequestText(request: number): string | number {
  return PTRACE_NAMES.get(request) ?? request;
}

/** enum bpf_prog_type (include/uapi/linux/bpf.h), in bpftool's lower-case spelling. */
const BPF_PROG_TYPES = [
  'unspec', 'socket_filter', 'kprobe', 'sched_cls', 'sched_act', 'tracepoint', 'xdp', 'perf_event',
  'cgroup_skb', 'cgroup_sock', 'lwt_in', 'lwt_out', 'lwt_xmit', 'sock_ops', 'sk_skb', 'cgroup_device',
  'sk_msg', 'raw_tracepoint', 'cgroup_sock_addr', 'lwt_seg6local', 'lirc_mode2', 'sk_reuseport',
  'flow_dissector', 'cgroup_sysctl', 'raw_tracepoint_writable', 'cgroup_sockopt', 'tracing', 'struct_ops',
  'ext', 'lsm', 'sk_lookup', 'syscall', 'netfilter',
];

/** A BPF program type by name; a type newer than this table by number. */
export function progTypeText(type: number): string | number {
  return BPF_PROG_TYPES[type] ?? type;
}

// ---- the alert ----

const orNull = <T>(value: T | undefined): T | null => (value === undefined ? null : value);
const pathOrNull = (path: string | undefined): string | null => (path ? path : null);

/** The fields of the event's kind, after the process's. */
function kindFields(e: SecEvent): Record<string, FieldValue> {
  switch (e.kind) {
    case 'exec': return { 'proc.exepath': pathOrNull(e.path) };
    case 'open': return { 'fd.name': pathOrNull(e.path), 'evt.arg.flags': e.flags === undefined ? null : openFlagsText(e.flags) };
    case 'chmod': return { 'fd.name': pathOrNull(e.path), 'evt.arg.mode': e.flags === undefined ? null : modeText(e.flags) };
    case 'truncate':
    case 'module': return { 'fd.name': pathOrNull(e.path) };
    // Falco's names for link/symlink: the existing file is the target, the new name the name.
    case 'link': return { 'fs.path.target': pathOrNull(e.path), 'fs.path.name': pathOrNull(e.linkPath) };
    case 'connect': return { 'fd.rip': orNull(e.addr), 'fd.rport': orNull(e.port) };
    case 'ptrace': return { 'evt.arg.request': e.request === undefined ? null : ptraceRequestText(e.request), 'evt.arg.pid': orNull(e.targetPid) };
    case 'dup': return { 'evt.arg.fd': orNull(e.oldFd), 'evt.arg.newfd': orNull(e.fd) };
    case 'bpf': return { 'evt.arg.prog_type': e.progType === undefined ? null : progTypeText(e.progType) };
  }
}

/**
 * The alert's fields by Falco's names, in a fixed order: the process, the event's own, then
 * bpfkit's. A field the record lacks is null (Falco's <NA>).
 */
export function alertFields(alert: Alert): Record<string, FieldValue> {
  const e = alert.event;
  const fields: Record<string, FieldValue> = {
    'evt.type': e.syscall,
    'proc.name': e.comm,
    'proc.pid': e.pid,
    'thread.tid': e.tid,
    'proc.ppid': e.ppid,
    'proc.pname': e.pcomm,
    'user.uid': e.uid,
    // Falco's container.id is the runtime's id, or "host". The kernel tells us only that the mount
    // namespace is not PID 1's (no runtime is asked), so a container is just "container".
    'container.id': e.inContainer ? 'container' : 'host',
    ...kindFields(e),
    'bpfkit.rule': alert.rule.id,
    'bpfkit.action': orNull(alert.outcome),
  };
  if (alert.fallback !== undefined) fields['bpfkit.fallback'] = alert.fallback;
  return fields;
}

/** The message's ending when a rule's action was taken or held back. */
function outcomeSuffix(alert: Alert): string {
  switch (alert.outcome) {
    case undefined: return '';
    case 'killed': return alert.fallback !== undefined || alert.rule.action === 'deny' ? ' (killed: deny unavailable)' : ' (killed)';
    case 'denied': return ' (denied)';
    case 'would kill': return ' (would kill: dry run)';
    case 'would deny': return ' (would deny: dry run)';
    case 'not enforced': return ' (not enforced: "." or ".." in the name, resolved after the call)';
  }
}

/** Falco prints values raw; only control characters are escaped, so that an alert stays one line. */
function textValue(value: FieldValue): string {
  if (value === null) return '<NA>';
  return String(value).replace(/[\x00-\x1f\x7f]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

function nanosOf(alert: Alert): string {
  return String(alert.nanos ?? alert.time.getMilliseconds() * 1_000_000).padStart(9, '0');
}

/** Falco's time_format_iso_8601: false: the local time of day with nine fractional digits. */
function localClock(alert: Alert): string {
  const t = alert.time;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}.${nanosOf(alert)}`;
}

/** Falco's JSON time: UTC, nine fractional digits. */
export function isoTime(alert: Alert): string {
  return `${alert.time.toISOString().slice(0, 19)}.${nanosOf(alert)}Z`;
}

/** The alert as Falco's text output: `HH:MM:SS.nnnnnnnnn: Priority message | key=value …`. */
export function alertLine(alert: Alert): string {
  const pairs = Object.entries(alertFields(alert)).map(([key, value]) => `${key}=${textValue(value)}`);
  return `${localClock(alert)}: ${alert.rule.priority} ${textValue(alert.rule.message)}${outcomeSuffix(alert)} | ${pairs.join(' ')}`;
}

/** Sorted by name: Falco's JSON objects (nlohmann::json) and its tag sets are ordered so. */
function sortedObject(fields: Record<string, FieldValue>): Record<string, FieldValue> {
  return Object.fromEntries(Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The alert as one line of Falco's json_output, keys in Falco's order. The rule's id is in
 * output_fields (bpfkit.rule), so the tags are the rule's own, as a Falco rule's are.
 * Every value is a string, number, boolean or null: JSON.stringify is exact here.
 */
export function alertJson(alert: Alert): string {
  return JSON.stringify({
    hostname: alert.hostname,
    output: alertLine(alert),
    output_fields: sortedObject(alertFields(alert)),
    priority: alert.rule.priority,
    rule: alert.rule.name,
    source: 'syscall',
    tags: [...new Set(alert.rule.tags)].sort(),
    time: isoTime(alert),
  });
}
