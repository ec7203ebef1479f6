// Typed errors. Every failure a user can meet carries a code that callers test (like cilium/ebpf's
// sentinel errors) and a message that says what to do, because a tool turns it into its one line
// on stderr.

export type BpfErrorCode =
  | 'NOT_ROOT'          // needs root (or CAP_BPF + CAP_PERFMON)
  | 'LIBBCC_MISSING'    // libbcc.so.0 / libbpf.so.1 cannot be loaded
  | 'TRACEFS_MISSING'   // no tracefs at /sys/kernel/tracing and we cannot mount it
  | 'HEADERS_MISSING'   // no kernel headers for libbcc to compile against
  | 'COMPILE'           // clang rejected the C program
  | 'VERIFIER'          // the kernel's verifier rejected a program
  | 'LOAD'              // another failure loading a program or creating a map
  | 'ATTACH_MISSING'    // the tracepoint / function / symbol to attach to does not exist
  | 'NOT_SUPPORTED'     // the kernel lacks the feature (kprobes, fentry, ring buffer, …)
  | 'ATTACH'            // attaching failed for another reason
  | 'MAP'               // a map operation failed
  | 'INVALID_ARGUMENT'; // the caller passed something unusable

export interface BpfErrorDetails {
  cause?: unknown;
  /** errno of the failing call, when there was one. */
  errno?: number;
  /** Compiler diagnostics or the tail of the verifier log. */
  log?: string;
  /** The verifier's whole log, when a load was refused by it. */
  verifierLog?: string;
}

export class BpfError extends Error {
  readonly code: BpfErrorCode;
  readonly errno?: number;
  readonly log?: string;
  /** The verifier's whole log of a refused load (`log` keeps its last lines). */
  readonly verifierLog?: string;

  constructor(code: BpfErrorCode, message: string, details: BpfErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'BpfError';
    this.code = code;
    if (details.errno !== undefined) this.errno = details.errno;
    if (details.log !== undefined) this.log = details.log;
    if (details.verifierLog !== undefined) this.verifierLog = details.verifierLog;
  }
}

export function isBpfError(err: unknown, code?: BpfErrorCode): err is BpfError {
  return err instanceof BpfError && (code === undefined || err.code === code);
}

export const ENOENT = 2;
export const EPERM = 1;
export const EACCES = 13;
export const EINVAL = 22;
export const E2BIG = 7;
export const ENOSPC = 28;
export const EFAULT = 14;
export const EEXIST = 17;
export const ENOTSUP = 95;
export const ESRCH = 3;

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 5: 'EIO', 7: 'E2BIG', 9: 'EBADF', 11: 'EAGAIN',
  12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 16: 'EBUSY', 17: 'EEXIST', 19: 'ENODEV', 22: 'EINVAL',
  24: 'EMFILE', 28: 'ENOSPC', 95: 'ENOTSUP', 524: 'ENOTSUPP',
};

/** "EINVAL (22)": errno names are what users search for. */
export function errnoText(errno: number): string {
  return `${ERRNO_NAMES[errno] ?? 'errno'} (${errno})`;
}
