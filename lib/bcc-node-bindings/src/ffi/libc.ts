// The few libc calls the binding needs that Node does not offer: memfd-backed capture of the
// diagnostics libbcc prints on fd 1/2, and memcpy out of event buffers.
import koffi from 'koffi';

const lib = koffi.load('libc.so.6');

export const libc = {
  dup: lib.func('int dup(int fd)'),
  dup2: lib.func('int dup2(int oldfd, int newfd)'),
  close: lib.func('int close(int fd)'),
  /** fflush(NULL): libbcc writes through C stdio, which buffers when fd 1 is not a terminal. */
  fflush: lib.func('int fflush(void *stream)'),
  memfd_create: lib.func('int memfd_create(const char *name, unsigned int flags)'),
  /** memcpy from a C pointer (as koffi hands it to callbacks) into a Buffer. */
  memcpy: lib.func('void *memcpy(void *dst, void *src, size_t n)'),
  geteuid: lib.func('uint32_t geteuid(void)'),
  strerror: lib.func('const char *strerror(int errnum)'),
  /** syscall(2) and ioctl(2) are variadic: koffi takes each extra argument's type at the call. */
  syscall: lib.func('long syscall(long number, ...)'),
  ioctl: lib.func('int ioctl(int fd, unsigned long request, ...)'),
};

export const SYS_PERF_EVENT_OPEN = process.arch === 'arm64' ? 241 : 298;

export function errnoMessage(errno: number): string {
  return libc.strerror(errno) as string;
}
