// Linux error numbers by name, for options like syscount's -e/--errno ("ENOENT" or 2), and back to
// names for output. These are the asm-generic numbers, which x86_64, arm64, riscv and most other
// architectures use (alpha, mips, parisc and sparc renumber some; there every name still parses but
// numbers above 34 may differ). test/unit/syscount-tables.test.ts checks this list against the
// machine's <asm-generic/errno*.h>.

/** Canonical names, 1 to 133. */
const NAMES = [
  'EPERM', 'ENOENT', 'ESRCH', 'EINTR', 'EIO', 'ENXIO', 'E2BIG', 'ENOEXEC', 'EBADF', 'ECHILD',
  'EAGAIN', 'ENOMEM', 'EACCES', 'EFAULT', 'ENOTBLK', 'EBUSY', 'EEXIST', 'EXDEV', 'ENODEV', 'ENOTDIR',
  'EISDIR', 'EINVAL', 'ENFILE', 'EMFILE', 'ENOTTY', 'ETXTBSY', 'EFBIG', 'ENOSPC', 'ESPIPE', 'EROFS',
  'EMLINK', 'EPIPE', 'EDOM', 'ERANGE', 'EDEADLK', 'ENAMETOOLONG', 'ENOLCK', 'ENOSYS', 'ENOTEMPTY', 'ELOOP',
  '', 'ENOMSG', 'EIDRM', 'ECHRNG', 'EL2NSYNC', 'EL3HLT', 'EL3RST', 'ELNRNG', 'EUNATCH', 'ENOCSI',
  'EL2HLT', 'EBADE', 'EBADR', 'EXFULL', 'ENOANO', 'EBADRQC', 'EBADSLT', '', 'EBFONT', 'ENOSTR',
  'ENODATA', 'ETIME', 'ENOSR', 'ENONET', 'ENOPKG', 'EREMOTE', 'ENOLINK', 'EADV', 'ESRMNT', 'ECOMM',
  'EPROTO', 'EMULTIHOP', 'EDOTDOT', 'EBADMSG', 'EOVERFLOW', 'ENOTUNIQ', 'EBADFD', 'EREMCHG', 'ELIBACC', 'ELIBBAD',
  'ELIBSCN', 'ELIBMAX', 'ELIBEXEC', 'EILSEQ', 'ERESTART', 'ESTRPIPE', 'EUSERS', 'ENOTSOCK', 'EDESTADDRREQ', 'EMSGSIZE',
  'EPROTOTYPE', 'ENOPROTOOPT', 'EPROTONOSUPPORT', 'ESOCKTNOSUPPORT', 'EOPNOTSUPP', 'EPFNOSUPPORT', 'EAFNOSUPPORT', 'EADDRINUSE', 'EADDRNOTAVAIL', 'ENETDOWN',
  'ENETUNREACH', 'ENETRESET', 'ECONNABORTED', 'ECONNRESET', 'ENOBUFS', 'EISCONN', 'ENOTCONN', 'ESHUTDOWN', 'ETOOMANYREFS', 'ETIMEDOUT',
  'ECONNREFUSED', 'EHOSTDOWN', 'EHOSTUNREACH', 'EALREADY', 'EINPROGRESS', 'ESTALE', 'EUCLEAN', 'ENOTNAM', 'ENAVAIL', 'EISNAM',
  'EREMOTEIO', 'EDQUOT', 'ENOMEDIUM', 'EMEDIUMTYPE', 'ECANCELED', 'ENOKEY', 'EKEYEXPIRED', 'EKEYREVOKED', 'EKEYREJECTED', 'EOWNERDEAD',
  'ENOTRECOVERABLE', 'ERFKILL', 'EHWPOISON',
];

/** Second names for the same numbers (the first two are the kernel's, ENOTSUP is libc's, as in Python's errno). */
const ALIASES: Record<string, number> = { EWOULDBLOCK: 11, EDEADLOCK: 35, ENOTSUP: 95 };

/** Largest error a system call can return (the kernel's MAX_ERRNO). */
export const MAX_ERRNO = 4095;

export const ERRNO: Readonly<Record<string, number>> = Object.freeze({
  ...Object.fromEntries(NAMES.flatMap((name, i) => (name ? [[name, i + 1]] : []))),
  ...ALIASES,
});

/** The canonical name of an error number ("ENOENT" for 2), or undefined. */
export function errnoName(n: number): string | undefined {
  return NAMES[n - 1] || undefined;
}

/**
 * An errno given as a name (any case: "ENOENT", "enoent") or a number ("2", or "-2" as a syscall
 * returns it, like bcc's abs(int(...))); undefined when it is neither or out of 1..MAX_ERRNO.
 */
export function parseErrno(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^[+-]?\d+$/.test(trimmed)) {
    const n = Math.abs(Number(trimmed));
    return n >= 1 && n <= MAX_ERRNO ? n : undefined;
  }
  return Object.hasOwn(ERRNO, trimmed.toUpperCase()) ? ERRNO[trimmed.toUpperCase()] : undefined;
}
