// killsnoop's records and lines: decoding the record killsnoop.bpf.c sends for each signal
// syscall, and printing it in bcc's columns (bcc's tools/killsnoop.py) or as JSON. Pure functions.
import { signalName } from '../../lib/kernel/signals.ts';
import { errnoName } from '../../lib/kernel/errno.ts';

/** The syscalls traced (signal_event.syscall is an index here), in the order of killsnoop.bpf.c's SYS_* numbers, with their HAS_* names. */
export const SYSCALLS = [
  { name: 'kill', define: 'KILL' },
  { name: 'tkill', define: 'TKILL' },
  { name: 'tgkill', define: 'TGKILL' },
  { name: 'pidfd_send_signal', define: 'PIDFD' },
  { name: 'rt_sigqueueinfo', define: 'SIGQUEUE' },
  { name: 'rt_tgsigqueueinfo', define: 'TGSIGQUEUE' },
] as const;

/**
 * Where each field of struct signal_event (killsnoop.bpf.c) starts. The C struct is the truth:
 * test/kernel/killsnoop.test.ts compares these with the layout libbcc reports for it.
 */
export const SIGNAL_EVENT_OFFSETS = {
  ts: 0, pid: 8, tid: 12, tpid: 16, tgid: 20, sig: 24, ret: 28, pidfd: 32, syscall: 36, flags: 40, uid: 44, comm: 48,
} as const;
export const COMM_LEN = 16;
export const RECORD_SIZE = SIGNAL_EVENT_OFFSETS.comm + COMM_LEN;

/** signal_event.flags: a pidfd whose process could not be named. */
const TPID_UNKNOWN = 1;

export interface SignalEvent {
  /** bpf_ktime_get_ns() at the call: CLOCK_MONOTONIC, the clock of process.hrtime.bigint(). */
  ts: bigint;
  pid: number;
  tid: number;
  /** The target as the call named it (kill's 0, -1 and -PGID included), or null for a pidfd that names no process. */
  tpid: number | null;
  /** tgkill's and rt_tgsigqueueinfo's thread group, else 0. */
  tgid: number;
  sig: number;
  /** 0, or -errno. */
  ret: number;
  /** pidfd_send_signal's descriptor, else -1. */
  pidfd: number;
  syscall: string;
  uid: number;
  comm: string;
}

export function decodeSignalRecord(buf: Buffer): SignalEvent {
  const o = SIGNAL_EVENT_OFFSETS;
  const flags = buf.readUInt32LE(o.flags);
  const nul = buf.indexOf(0, o.comm);
  return {
    ts: buf.readBigUInt64LE(o.ts),
    pid: buf.readUInt32LE(o.pid),
    tid: buf.readUInt32LE(o.tid),
    tpid: flags & TPID_UNKNOWN ? null : buf.readInt32LE(o.tpid),
    tgid: buf.readInt32LE(o.tgid),
    sig: buf.readInt32LE(o.sig),
    ret: buf.readInt32LE(o.ret),
    pidfd: buf.readInt32LE(o.pidfd),
    syscall: SYSCALLS[buf.readUInt32LE(o.syscall)]?.name ?? 'unknown',
    uid: buf.readUInt32LE(o.uid),
    comm: buf.toString('utf8', o.comm, nul < 0 || nul > o.comm + COMM_LEN ? o.comm + COMM_LEN : nul),
  };
}

/** The name `kill -l` prints ("KILL", "RTMIN+2"), "0" for the null signal, else the number. */
export function signalLabel(sig: number): string {
  return signalName(sig) ?? String(sig);
}

/** bcc's PID column width: the digits of the largest PID, and one more. */
export function pidWidth(pidMax: number): number {
  return String(pidMax).length + 1;
}

/** bcc's header: "%-9s %-*s %-16s %-4s %-*s %s". */
export function headerLine(width: number): string {
  return `${'TIME'.padEnd(9)} ${'PID'.padEnd(width)} ${'COMM'.padEnd(16)} ${'SIG'.padEnd(4)} ${'TPID'.padEnd(width)} RESULT`;
}

/** One row in bcc's layout; `clock` is the TIME value. With -n the SIG column holds the name. */
export function rowLine(ev: SignalEvent, width: number, clock: string, names: boolean): string {
  const sig = names ? signalLabel(ev.sig) : String(ev.sig);
  const tpid = ev.tpid === null ? '?' : String(ev.tpid);
  return `${clock.padEnd(9)} ${String(ev.pid).padEnd(width)} ${ev.comm.padEnd(16)} ${sig.padEnd(4)} ${tpid.padEnd(width)} ${ev.ret}`;
}

/**
 * --json: one object per signal syscall. Fields: time, timestamp (seconds since start), pid,
 * tid, uid, comm, syscall, sig, signal (the kill -l name), tpid (null when a pidfd names no
 * process), tgid (tgkill, rt_tgsigqueueinfo; else absent), pidfd (pidfd_send_signal; else
 * absent), ret, errno (the name, when ret < 0).
 */
export function jsonLine(ev: SignalEvent, clock: string, seconds: string): string {
  return JSON.stringify({
    time: clock,
    timestamp: Number(seconds),
    pid: ev.pid,
    tid: ev.tid,
    uid: ev.uid,
    comm: ev.comm,
    syscall: ev.syscall,
    sig: ev.sig,
    signal: signalLabel(ev.sig),
    tpid: ev.tpid,
    ...(ev.syscall === 'tgkill' || ev.syscall === 'rt_tgsigqueueinfo' ? { tgid: ev.tgid } : {}),
    ...(ev.syscall === 'pidfd_send_signal' ? { pidfd: ev.pidfd } : {}),
    ret: ev.ret,
    ...(ev.ret < 0 ? { errno: errnoName(-ev.ret) ?? String(-ev.ret) } : {}),
  });
}
