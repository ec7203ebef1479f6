// The syscalls statsnoop traces: every call that looks a path up to report on it without opening
// it, under the kernel's names (syscalls:sys_enter_<name>, bcc's -s names). `id` is the number
// records carry: statsnoop.bpf.c's SC_<NAME> (test/unit/statsnoop.test.ts compares them).
// A kernel has only some of them: x86_64 has newstat, newlstat, newfstatat, statx, statfs,
// access, faccessat and faccessat2; arm64 has no newstat, newlstat or access; 32-bit
// architectures have stat64, lstat64, fstatat64 and statfs64.

export interface StatSyscall {
  id: number;
  name: string;
  /** Takes a directory fd (the *at() calls and statx): records carry it. */
  dirfd: boolean;
  /** Takes AT_* flags (AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, …): records carry them. */
  flags: boolean;
  /** Takes an access mode (F_OK, R_OK, W_OK, X_OK): records carry it. */
  mode: boolean;
}

const row = (id: number, name: string, dirfd = false, flags = false, mode = false): StatSyscall => ({ id, name, dirfd, flags, mode });

export const STAT_SYSCALLS: readonly StatSyscall[] = [
  row(1, 'stat'),
  row(2, 'lstat'),
  row(3, 'newstat'),
  row(4, 'newlstat'),
  row(5, 'stat64'),
  row(6, 'lstat64'),
  row(7, 'newfstatat', true, true),
  row(8, 'fstatat64', true, true),
  row(9, 'statx', true, true),
  row(10, 'statfs'),
  row(11, 'statfs64'),
  row(12, 'access', false, false, true),
  row(13, 'faccessat', true, false, true),
  row(14, 'faccessat2', true, true, true),
];

const BY_ID = new Map(STAT_SYSCALLS.map((s) => [s.id, s]));

/** The syscall a record names, or undefined for a number this table lacks. */
export function statSyscall(id: number): StatSyscall | undefined {
  return BY_ID.get(id);
}
