// setuids' records and lines: decoding the record setuids.bpf.c sends for each call of the setuid
// family, and printing it in bpftrace's setuids.bt layout or as JSON. Pure functions.
import { errnoName } from '../../lib/kernel/errno.ts';

/**
 * The syscalls traced, in the order of setuids.bpf.c's SYS_* numbers (setid_event.syscall is an
 * index here), with their HAS_* names and the names of their arguments.
 */
export const SYSCALLS = [
  { name: 'setuid', define: 'SETUID', args: ['uid'] },
  { name: 'setgid', define: 'SETGID', args: ['gid'] },
  { name: 'setreuid', define: 'SETREUID', args: ['ruid', 'euid'] },
  { name: 'setregid', define: 'SETREGID', args: ['rgid', 'egid'] },
  { name: 'setresuid', define: 'SETRESUID', args: ['ruid', 'euid', 'suid'] },
  { name: 'setresgid', define: 'SETRESGID', args: ['rgid', 'egid', 'sgid'] },
  { name: 'setfsuid', define: 'SETFSUID', args: ['uid'] },
  { name: 'setfsgid', define: 'SETFSGID', args: ['gid'] },
] as const;

export type Syscall = (typeof SYSCALLS)[number]['name'];

/**
 * Where each field of struct setid_event (setuids.bpf.c) starts. The C struct is the truth:
 * test/kernel/setuids.test.ts compares these with the layout libbcc reports for it.
 */
export const SETID_EVENT_OFFSETS = {
  ts: 0, pid: 8, tid: 12, syscall: 16, ret: 20, args: 24, flags: 36, uid: 40, gid: 44, cred: 48, comm: 80,
} as const;
export const COMM_LEN = 16;
export const RECORD_SIZE = SETID_EVENT_OFFSETS.comm + COMM_LEN;

/** setid_event.flags: the caller's struct cred was read (its eight ids are in `cred`). */
const CRED_KNOWN = 1;

/** The ids of struct cred in the kernel's order, as setid_event.cred holds them. */
const CRED_IDS = ['uid', 'gid', 'suid', 'sgid', 'euid', 'egid', 'fsuid', 'fsgid'] as const;
export type CredIds = Record<(typeof CRED_IDS)[number], number>;

export interface SetidEvent {
  /** bpf_ktime_get_ns() at the call: CLOCK_MONOTONIC, the clock of process.hrtime.bigint(). */
  ts: bigint;
  pid: number;
  tid: number;
  syscall: Syscall;
  /** The arguments by name, as signed 32-bit numbers: -1 is "leave unchanged". */
  args: Record<string, number>;
  /** 0 or -errno; for setfsuid/setfsgid the previous fsuid/fsgid, which they return whatever happens. */
  ret: number;
  /** The caller's real uid and gid before the call (bpf_get_current_uid_gid), bpftrace's UID column. */
  uid: number;
  gid: number;
  /** Every id of the caller's credentials before the call, where the kernel's BTF let them be read. */
  cred: CredIds | null;
  comm: string;
}

/** setfsuid() and setfsgid() return the previous id, never an error. */
export const returnsPrevious = (syscall: Syscall): boolean => syscall === 'setfsuid' || syscall === 'setfsgid';

export function decodeSetidRecord(buf: Buffer): SetidEvent {
  const o = SETID_EVENT_OFFSETS;
  const spec = SYSCALLS[buf.readUInt32LE(o.syscall)] ?? SYSCALLS[0];
  const args: Record<string, number> = {};
  spec.args.forEach((name, i) => { args[name] = buf.readInt32LE(o.args + 4 * i); });
  const nul = buf.indexOf(0, o.comm);
  let cred: CredIds | null = null;
  if (buf.readUInt32LE(o.flags) & CRED_KNOWN) {
    cred = Object.fromEntries(CRED_IDS.map((name, i) => [name, buf.readUInt32LE(o.cred + 4 * i)])) as CredIds;
  }
  return {
    ts: buf.readBigUInt64LE(o.ts),
    pid: buf.readUInt32LE(o.pid),
    tid: buf.readUInt32LE(o.tid),
    syscall: spec.name,
    args,
    ret: returnsPrevious(spec.name) ? buf.readUInt32LE(o.ret) : buf.readInt32LE(o.ret),
    uid: buf.readUInt32LE(o.uid),
    gid: buf.readUInt32LE(o.gid),
    cred,
    comm: buf.toString('utf8', o.comm, nul < 0 || nul > o.comm + COMM_LEN ? o.comm + COMM_LEN : nul),
  };
}

export interface ColumnOptions {
  /** -T: a TIME(s) column first, seconds since tracing began. */
  timestamp?: boolean;
}

/** bpftrace's header: "%-8s %-6s %-16s %-6s %-9s %s", after TIME(s) with -T. */
export function headerLine(o: ColumnOptions): string {
  const line = `${'TIME'.padEnd(8)} ${'PID'.padEnd(6)} ${'COMM'.padEnd(16)} ${'UID'.padEnd(6)} ${'SYSCALL'.padEnd(9)} ARGS (RET)`;
  return o.timestamp ? `${'TIME(s)'.padEnd(8)} ${line}` : line;
}

/**
 * The ARGS (RET) column as setuids.bt prints it ("ruid=-1 euid=65534 suid=-1 (0)",
 * "uid=0 (prevuid=65534)"); the gid calls in the same words.
 */
export function argsText(ev: SetidEvent): string {
  const args = Object.entries(ev.args).map(([name, value]) => `${name}=${value}`).join(' ');
  if (!returnsPrevious(ev.syscall)) return `${args} (${ev.ret})`;
  return `${args} (prev${ev.syscall === 'setfsuid' ? 'uid' : 'gid'}=${ev.ret})`;
}

/** One row in setuids.bt's layout; `clock` and `seconds` are the TIME and TIME(s) values. */
export function rowLine(ev: SetidEvent, o: ColumnOptions, clock: string, seconds: string): string {
  const line = `${clock.padEnd(8)} ${String(ev.pid).padEnd(6)} ${ev.comm.padEnd(16)} ${String(ev.uid).padEnd(6)} ${ev.syscall.padEnd(9)} ${argsText(ev)}`;
  return o.timestamp ? `${seconds.padEnd(8)} ${line}` : line;
}

/**
 * --json: one object per call. Fields: time, timestamp (seconds since start), pid, tid, comm,
 * syscall, args (by name, -1 for "unchanged"), old (the caller's ids before the call: uid and gid
 * always; euid, suid, fsuid, egid, sgid, fsgid where BTF let them be read), ret, errno (the name,
 * when a call other than setfsuid/setfsgid failed).
 */
export function jsonLine(ev: SetidEvent, clock: string, seconds: string): string {
  const c = ev.cred;
  const old = c
    ? { uid: c.uid, euid: c.euid, suid: c.suid, fsuid: c.fsuid, gid: c.gid, egid: c.egid, sgid: c.sgid, fsgid: c.fsgid }
    : { uid: ev.uid, gid: ev.gid };
  return JSON.stringify({
    time: clock,
    timestamp: Number(seconds),
    pid: ev.pid,
    tid: ev.tid,
    comm: ev.comm,
    syscall: ev.syscall,
    args: ev.args,
    old,
    ret: ev.ret,
    ...(ev.ret < 0 && !returnsPrevious(ev.syscall) ? { errno: errnoName(-ev.ret) ?? String(-ev.ret) } : {}),
  });
}
