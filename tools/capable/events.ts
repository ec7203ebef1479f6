// capable's records and lines: decoding the record capable.bpf.c sends per check, and printing it
// in bcc's columns (bcc's tools/capable.py) with libbpf-tools' VERDICT after AUDIT, its stacks
// below, or as JSON. Pure functions: the stacks come in already symbolised.

/**
 * Where each field of struct cap_event (capable.bpf.c) starts, by its C name. The C struct is the
 * truth: test/kernel/capable.test.ts compares these with the layout libbcc reports for it.
 */
export const CAP_EVENT_OFFSETS = {
  ts: 0, pid: 8, tid: 12, uid: 16, cap: 20, ret: 24, audit: 28, insetid: 32, kernel_stack_id: 36, user_stack_id: 40, comm: 44,
} as const;
export const COMM_LEN = 16;
export const CAP_EVENT_SIZE = 64;

/** include/uapi/linux/capability.h, by number (CAP_LAST_CAP is 40 in Linux 5.9 to 6.18). */
export const CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** A capability's name; "?" for a number newer than this table, as bcc prints. */
export function capName(cap: number): string {
  return CAPABILITIES[cap] ?? '?';
}

export interface CapEvent {
  /** bpf_ktime_get_ns(): CLOCK_MONOTONIC. */
  ts: bigint;
  /** The process (tgid). */
  pid: number;
  tid: number;
  uid: number;
  cap: number;
  /** 0 when granted, a negative errno (-EPERM) when denied. */
  ret: number;
  /** Whether the check is audited (not CAP_OPT_NOAUDIT); null where the hook cannot tell. */
  audit: boolean | null;
  /** CAP_OPT_INSETID; null where the hook cannot tell. */
  insetid: boolean | null;
  kernelStackId: number;
  userStackId: number;
  comm: string;
}

const flag = (v: number): boolean | null => (v < 0 ? null : v !== 0);

export function decodeCapRecord(buf: Buffer): CapEvent {
  const at = CAP_EVENT_OFFSETS;
  const nul = buf.indexOf(0, at.comm);
  const commEnd = nul < 0 || nul > at.comm + COMM_LEN ? at.comm + COMM_LEN : nul;
  return {
    ts: buf.readBigUInt64LE(at.ts),
    pid: buf.readUInt32LE(at.pid),
    tid: buf.readUInt32LE(at.tid),
    uid: buf.readUInt32LE(at.uid),
    cap: buf.readInt32LE(at.cap),
    ret: buf.readInt32LE(at.ret),
    audit: flag(buf.readInt32LE(at.audit)),
    insetid: flag(buf.readInt32LE(at.insetid)),
    kernelStackId: buf.readInt32LE(at.kernel_stack_id),
    userStackId: buf.readInt32LE(at.user_stack_id),
    comm: buf.toString('utf8', at.comm, commEnd),
  };
}

/** libbpf-tools' words for ret. */
export function verdict(ret: number): 'allow' | 'deny' {
  return ret === 0 ? 'allow' : 'deny';
}

/** What AUDIT and INSETID show where the hook cannot tell: bcc's word for INSETID before 5.1. */
export const UNKNOWN = 'N/A';

const flagText = (v: boolean | null) => (v === null ? UNKNOWN : v ? '1' : '0');

/** bcc's header ("%-9s %-6s %-6s %-16s %-4s %-20s %-6s"; -x adds TID and INSETID), with VERDICT after AUDIT as libbpf-tools'. */
export function headerLine(extra: boolean): string {
  const head = `${'TIME'.padEnd(9)} ${'UID'.padEnd(6)} ${'PID'.padEnd(6)} ${extra ? `${'TID'.padEnd(6)} ` : ''}${'COMM'.padEnd(16)} ${'CAP'.padEnd(4)} ${'NAME'.padEnd(20)} ${'AUDIT'.padEnd(6)}`;
  return extra ? `${head} ${'VERDICT'.padEnd(7)} INSETID` : `${head} VERDICT`;
}

/** One check's row. */
export function rowLine(ev: CapEvent, clock: string, extra: boolean): string {
  const head = `${clock.padEnd(9)} ${String(ev.uid).padEnd(6)} ${String(ev.pid).padEnd(6)} ${extra ? `${String(ev.tid).padEnd(6)} ` : ''}` +
    `${ev.comm.padEnd(16)} ${String(ev.cap).padEnd(4)} ${capName(ev.cap).padEnd(20)} ${flagText(ev.audit).padEnd(6)}`;
  return extra ? `${head} ${verdict(ev.ret).padEnd(7)} ${flagText(ev.insetid)}` : `${head} ${verdict(ev.ret)}`;
}

/** Frames as bcc prints them below a row: one per line, eight spaces in; a stack that could not be recorded as one line. */
export function stackLines(frames: readonly string[] | null, missed: string): string[] {
  if (frames === null) return [`    ${missed}`];
  return frames.map((f) => `        ${f}`);
}

/**
 * --json: one object per check. Field names are stable: time, uid, pid, tid, comm, cap, name,
 * verdict ("allow" or "deny"), ret (0 or -errno), audit and insetid (booleans, null where the hook
 * cannot tell), and with -K kernel_stack, with -U user_stack (frames innermost first, null when
 * the kernel could not record the stack).
 */
export function jsonLine(ev: CapEvent, clock: string, stacks: { kernel?: readonly string[] | null; user?: readonly string[] | null } = {}): string {
  return JSON.stringify({
    time: clock,
    uid: ev.uid,
    pid: ev.pid,
    tid: ev.tid,
    comm: ev.comm,
    cap: ev.cap,
    name: capName(ev.cap),
    verdict: verdict(ev.ret),
    ret: ev.ret,
    audit: ev.audit,
    insetid: ev.insetid,
    ...('kernel' in stacks ? { kernel_stack: stacks.kernel } : {}),
    ...('user' in stacks ? { user_stack: stacks.user } : {}),
  });
}
