// secwatch's vocabulary, shared by the rules loader (rules.ts), the kernel program's configuration
// (program.ts), the record decoder (events.ts) and the alert printer (alerts.ts). The numbers here
// are ABI with secwatch.bpf.c: an event kind's index is its EVENT_* number there, and the flag
// bits are the ones the program computes.

/** What a rule watches, in secwatch.bpf.c's EVENT_* order. */
export const EVENT_KINDS = ['exec', 'open', 'connect', 'ptrace', 'module', 'chmod', 'link', 'dup', 'bpf', 'truncate'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** Falco's priorities, most severe first. */
export const PRIORITIES = ['Emergency', 'Alert', 'Critical', 'Error', 'Warning', 'Notice', 'Informational', 'Debug'] as const;
export type Priority = (typeof PRIORITIES)[number];

/**
 * What happens when a rule matches. `kill`: the BPF program sends SIGKILL at the hook (the call
 * completes; the process runs no further instruction). `deny`: a BPF LSM program refuses the call
 * with EPERM before it has any effect (exec, open, connect only); where the kernel refuses BPF LSM
 * programs, deny falls back to kill.
 */
export const ACTIONS = ['alert', 'kill', 'deny'] as const;
export type Action = (typeof ACTIONS)[number];

/** Events whose calls a BPF LSM hook can refuse (action: deny). */
export const DENIABLE: readonly EventKind[] = ['exec', 'open', 'connect'];

/** open's flags as the program reports them (computed from O_* in the kernel, not the raw bits). */
export const OPEN_FLAGS = { read: 1, write: 2, create: 4, trunc: 8, append: 16 } as const;
export type OpenFlag = keyof typeof OPEN_FLAGS;

/** chmod's mode bits a rule can ask for (the raw S_IS* bits of the mode). */
export const MODE_BITS = { setuid: 0o4000, setgid: 0o2000, sticky: 0o1000 } as const;
export type ModeBit = keyof typeof MODE_BITS;

/** ptrace requests by name (linux/ptrace.h). */
export const PTRACE_REQUESTS = {
  traceme: 0, peektext: 1, peekdata: 2, poketext: 4, pokedata: 5, attach: 16, detach: 17, seize: 0x4206,
} as const;
export type PtraceRequest = keyof typeof PTRACE_REQUESTS;

/**
 * A rule's conditions: every one present must hold. Lists mean "any of"; `…Not` lists are
 * exceptions ("none of"). `path` is the file the event acts on: the executable (exec), the file
 * opened, chmod-ed or truncated, the module file (finit_module), and for link/symlink the existing
 * file the new name points at. Paths are absolute (relative ones are resolved in the kernel).
 */
export interface Conditions {
  comm?: string[];
  commNot?: string[];
  /** The parent's comm. */
  pcomm?: string[];
  pcommNot?: string[];
  uid?: number[];
  uidNot?: number[];
  /** Exact paths. */
  path?: string[];
  /** Path prefixes ("/etc/" matches everything below /etc). */
  pathPrefix?: string[];
  pathNot?: string[];
  pathPrefixNot?: string[];
  /** Path endings: decided in user space (the kernel's path filter is a prefix tree). */
  pathSuffix?: string[];
  /** open: any of these flags. */
  flags?: OpenFlag[];
  /** chmod: any of these mode bits set. */
  mode?: ModeBit[];
  /** connect: the destination port is one of these. */
  port?: number[];
  /** ptrace: the request is one of these. */
  request?: PtraceRequest[];
  /** dup: the new descriptor is one of these (0, 1, 2 for stdio). */
  fd?: number[];
  /** Only in a container (true) or only on the host (false): mount namespace other than PID 1's. */
  container?: boolean;
}

/** Where a rule came from: `--list-rules` and error messages name it. */
export interface RuleSource {
  file: string;
  line: number;
}

export interface Rule {
  /** Short and stable: `--only`, `--skip`, `--kill`, `--deny` and the metrics' `rule` label use it. */
  id: string;
  /** Falco's rule name: the JSON's `rule`. */
  name: string;
  description: string;
  priority: Priority;
  event: EventKind;
  when: Conditions;
  /** The alert's text before ` | key=value …`. */
  message: string;
  action: Action;
  tags: string[];
  source: RuleSource;
}

/** Conditions the kernel cannot decide; a rule with any of them cannot kill or deny. */
export const USER_SPACE_CONDITIONS: ReadonlyArray<keyof Conditions> = ['pathSuffix'];

// ---- What the kernel program is given (program.ts writes these into secwatch.bpf.c's maps) ----

/** The most rules one program holds (bits of a u64 mask). */
export const MAX_RULES = 64;

/** The length of a path in the kernel: its prefix-tree key, and the records' path fields. */
export const PATH_LEN = 256;

/** A rule as the kernel evaluates it (secwatch.bpf.c's struct rule_slot); its index is its bit. */
export interface RuleSlot {
  /** EVENT_KINDS index. */
  event: number;
  /** The rule has path or pathPrefix: its bit must be in the path's include mask. */
  needPath: boolean;
  /** The rule has any path condition, exceptions and suffixes included. */
  pathCond: boolean;
  needComm: boolean;
  needPcomm: boolean;
  /** open: OPEN_FLAGS bits, chmod: MODE_BITS bits; any must be set. 0: no condition. */
  flagsAny: number;
  /** 0 either, 1 in a container only, 2 on the host only. */
  container: 0 | 1 | 2;
  /** ACTIONS index (0 alert, 1 kill, 2 deny). */
  action: 0 | 1 | 2;
  /** uid is one of these (uidNot false) or none of these (uidNot true); empty: no condition. At most 4. */
  uids: number[];
  uidNot: boolean;
  /** port (connect), request (ptrace) or fd (dup) is one of these; empty: no condition. At most 8. */
  values: number[];
}

export const MAX_SLOT_UIDS = 4;
export const MAX_SLOT_VALUES = 8;

/** Masks of rule bits: `include` rules list the key, `exclude` rules list it as an exception. */
export interface RuleMasks {
  include: bigint;
  exclude: bigint;
}

/**
 * An entry of the kernel's path prefix tree (an LPM trie). `exact` entries match the whole path
 * only (the key includes the terminating NUL). Masks are closed over shorter entries: the trie
 * returns only the longest match, so each entry also carries the masks of every entry that is a
 * prefix of it.
 */
export interface PathEntry extends RuleMasks {
  path: string;
  exact: boolean;
}

export interface KernelRules {
  slots: RuleSlot[];
  paths: PathEntry[];
  comms: Map<string, RuleMasks>;
  pcomms: Map<string, RuleMasks>;
  /** The events some rule watches: only their hooks are attached. */
  events: Set<EventKind>;
  /** Some rule names a parent comm: the program reads the parent's comm. */
  usesPcomm: boolean;
}

// ---- What the kernel reports (events.ts decodes secwatch.bpf.c's struct alert_record) ----

export interface SecEvent {
  /** bpf_ktime_get_ns() at the hook. */
  ts: bigint;
  kind: EventKind;
  /** The system call (or "execve" for exec, whichever exec call it was). */
  syscall: string;
  pid: number;
  tid: number;
  ppid: number;
  uid: number;
  comm: string;
  pcomm: string;
  /** Its mount namespace is not PID 1's. */
  inContainer: boolean;
  /** Rule bits the kernel matched. */
  matched: bigint;
  /** Rule bits whose action the kernel took (kill sent, or call denied). */
  acted: bigint;
  /** Rule bits whose action --dry-run held back. */
  heldBack: bigint;
  /** The file acted on (see Conditions.path), absolute; "" when the event has none. */
  path: string;
  /** The path was longer than the kernel keeps (PATH_LEN - 1 bytes): its start is cut. */
  pathTruncated?: boolean;
  /**
   * The name had "." or ".." segments (or "//"), which the kernel side does not collapse: `path`
   * is collapsed here, the rules' path conditions decided here, and no action was taken.
   */
  unresolved?: boolean;
  /** link/symlink: the new name. */
  linkPath?: string;
  /** open: the O_* flags as passed; chmod: the mode. */
  flags?: number;
  /** connect: destination address and port. */
  addr?: string;
  port?: number;
  /** ptrace: request and target pid. */
  request?: number;
  targetPid?: number;
  /** dup: the descriptor duplicated (a socket) and the new one. */
  oldFd?: number;
  fd?: number;
  /** bpf: the program type loaded. */
  progType?: number;
}

/** How an action ended, for the alert: `killed`, `denied`, `would kill`/`would deny` (dry run). */
export type Outcome = 'killed' | 'denied' | 'would kill' | 'would deny' | 'not enforced';
