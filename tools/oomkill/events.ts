// oomkill's records and lines: decoding the record oomkill.bpf.c sends per OOM victim, and
// printing it as bcc's oomkill does (one line per kill, with /proc/loadavg) or as JSON.
import fs from 'node:fs';

/**
 * Where each field of struct oom_event (oomkill.bpf.c) starts, by its C name. The C struct is the
 * truth: test/kernel/oomkill.test.ts compares these with the layout libbcc reports for it.
 */
export const OOM_EVENT_OFFSETS = {
  ts: 0, trigger_pid: 8, victim_pid: 12, victim_uid: 16, oom_score_adj: 20, flags: 24, reserved: 28,
  total_pages: 32, total_vm_kb: 40, anon_rss_kb: 48, file_rss_kb: 56, shmem_rss_kb: 64, pgtables_kb: 72,
  trigger_comm: 80, victim_comm: 96,
} as const;
export const COMM_LEN = 16;
export const OOM_EVENT_SIZE = OOM_EVENT_OFFSETS.victim_comm + COMM_LEN;

// Bits of oom_event.flags (OOM_* in oomkill.bpf.c).
export const OOM_VICTIM_COMM = 1;
export const OOM_VICTIM_MEMORY = 2;
export const OOM_TOTAL_PAGES = 4;

/** The victim's memory as oom:mark_victim reports it (Linux 6.9+), in kB as the kernel's log has it. */
export interface VictimMemory {
  uid: number;
  oomScoreAdj: number;
  totalVmKb: bigint;
  anonRssKb: bigint;
  fileRssKb: bigint;
  shmemRssKb: bigint;
  pgtablesKb: bigint;
}

export interface OomEvent {
  /** bpf_ktime_get_ns(): CLOCK_MONOTONIC, the clock of process.hrtime.bigint(). */
  ts: bigint;
  /** The task running when the victim was chosen: the one whose allocation could not be met. */
  triggerPid: number;
  triggerComm: string;
  victimPid: number;
  /** null when the hook could not tell (a pre-6.9 mark_victim, for a victim other than the trigger). */
  victimComm: string | null;
  /** The kprobe's oom_control.totalpages (bcc's "pages"), else null. */
  totalPages: bigint | null;
  /** The tracepoint's fields, else null. */
  memory: VictimMemory | null;
}

function cString(buf: Buffer, start: number, len: number): string {
  const nul = buf.indexOf(0, start);
  return buf.toString('utf8', start, nul < 0 || nul > start + len ? start + len : nul);
}

export function decodeOomRecord(buf: Buffer): OomEvent {
  const o = OOM_EVENT_OFFSETS;
  const flags = buf.readUInt32LE(o.flags);
  return {
    ts: buf.readBigUInt64LE(o.ts),
    triggerPid: buf.readUInt32LE(o.trigger_pid),
    triggerComm: cString(buf, o.trigger_comm, COMM_LEN),
    victimPid: buf.readUInt32LE(o.victim_pid),
    victimComm: flags & OOM_VICTIM_COMM ? cString(buf, o.victim_comm, COMM_LEN) : null,
    totalPages: flags & OOM_TOTAL_PAGES ? buf.readBigUInt64LE(o.total_pages) : null,
    memory: flags & OOM_VICTIM_MEMORY
      ? {
        uid: buf.readUInt32LE(o.victim_uid),
        oomScoreAdj: buf.readInt32LE(o.oom_score_adj),
        totalVmKb: buf.readBigUInt64LE(o.total_vm_kb),
        anonRssKb: buf.readBigUInt64LE(o.anon_rss_kb),
        fileRssKb: buf.readBigUInt64LE(o.file_rss_kb),
        shmemRssKb: buf.readBigUInt64LE(o.shmem_rss_kb),
        pgtablesKb: buf.readBigUInt64LE(o.pgtables_kb),
      }
      : null,
  };
}

/** The victim's resident pages (anon + file + shmem), what killing it frees; null without the tracepoint's fields. */
export function rssPages(ev: OomEvent, pageKb: number): bigint | null {
  const m = ev.memory;
  return m ? (m.anonRssKb + m.fileRssKb + m.shmemRssKb) / BigInt(pageKb) : null;
}

/**
 * The "N pages" of the line: the victim's resident pages where the tracepoint tells them; with the
 * kprobe, bcc's number (the OOM domain's size, oom_control.totalpages); null when neither is known.
 */
export function shownPages(ev: OomEvent, pageKb: number): bigint | null {
  return rssPages(ev, pageKb) ?? ev.totalPages;
}

/** bcc's first line. */
export const HEADER = 'Tracing OOM kills... Ctrl-C to stop.';

/** bcc's line: `HH:MM:SS Triggered by PID … ("comm"), OOM kill of PID … ("comm"), N pages, loadavg: …`. */
export function killLine(ev: OomEvent, clock: string, pageKb: number, loadavg: string): string {
  const pages = shownPages(ev, pageKb);
  return `${clock} Triggered by PID ${ev.triggerPid} ("${ev.triggerComm}"), OOM kill of PID ${ev.victimPid} ` +
    `("${ev.victimComm ?? '?'}"), ${pages ?? '?'} pages, loadavg: ${loadavg}`;
}

const num = (v: bigint | null): number | null => (v === null ? null : Number(v));

/**
 * --json: one object per kill. Field names are stable: time, trigger_pid, trigger_comm, victim_pid,
 * victim_comm, pages (as the line shows it), rss_pages, total_pages, victim_uid, oom_score_adj,
 * total_vm_kb, anon_rss_kb, file_rss_kb, shmem_rss_kb, pgtables_kb, loadavg. A value the attach
 * point cannot give is null (README.md says which gives what).
 */
export function jsonLine(ev: OomEvent, clock: string, pageKb: number, loadavg: string): string {
  const m = ev.memory;
  return JSON.stringify({
    time: clock,
    trigger_pid: ev.triggerPid,
    trigger_comm: ev.triggerComm,
    victim_pid: ev.victimPid,
    victim_comm: ev.victimComm,
    pages: num(shownPages(ev, pageKb)),
    rss_pages: num(rssPages(ev, pageKb)),
    total_pages: num(ev.totalPages),
    victim_uid: m ? m.uid : null,
    oom_score_adj: m ? m.oomScoreAdj : null,
    total_vm_kb: m ? Number(m.totalVmKb) : null,
    anon_rss_kb: m ? Number(m.anonRssKb) : null,
    file_rss_kb: m ? Number(m.fileRssKb) : null,
    shmem_rss_kb: m ? Number(m.shmemRssKb) : null,
    pgtables_kb: m ? Number(m.pgtablesKb) : null,
    loadavg,
  });
}

/** /proc/loadavg as bcc prints it (trailing newline removed), read when the line is printed. */
export function readLoadavg(): string {
  try {
    return fs.readFileSync('/proc/loadavg', 'utf8').trimEnd();
  } catch {
    return '?';
  }
}

/** The kernel's page size in kB, from the first KernelPageSize line of /proc/self/smaps (4 where unreadable). */
export function pageSizeKb(smaps = '/proc/self/smaps'): number {
  try {
    const fd = fs.openSync(smaps, 'r');
    try {
      const buf = Buffer.alloc(4096);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      const m = /^KernelPageSize:\s+(\d+) kB$/m.exec(buf.toString('latin1', 0, n));
      return m && Number(m[1]) > 0 ? Number(m[1]) : 4;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return 4;
  }
}

/** A victim's name the kernel did not send (pre-6.9 tracepoint): /proc/PID/comm while it is still there. */
export function commFromProc(pid: number): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trimEnd();
  } catch {
    return null;
  }
}
