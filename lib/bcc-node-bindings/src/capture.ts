// libbcc reports compile errors, verifier logs and attach failures only by printing them (clang and
// the verifier on stderr, "Unable to find kernel headers" on stdout) and returning NULL or -1.
// To turn them into errors we point fds 1 and 2 at memfds around the call. A memfd, not a pipe:
// a pipe fills at 64 KiB and a long verifier log would block libbcc forever.
import fs from 'node:fs';
import koffi from 'koffi';
import { libc } from './ffi/libc.ts';

export interface Captured<T> {
  result: T;
  /** errno right after the call, before anything else could change it. */
  errno: number;
  output: string;
}

/**
 * Set by the compile worker's parent to a file descriptor the worker inherited (a memfd of the
 * parent's): capture there instead of a memfd of our own, so that what LLVM printed before ending
 * the process itself (exit() on a fatal error, with no return to us) can still be read by the
 * parent. No file system is involved: the exporter's container has a read-only root.
 */
export const CAPTURE_FD_ENV = 'BPFKIT_CAPTURE_FD';

function openSink(): number {
  const inherited = Number(process.env[CAPTURE_FD_ENV]);
  if (Number.isInteger(inherited) && inherited > 2) {
    const fd = libc.dup(inherited) as number;
    if (fd >= 0) return fd;
  }
  return libc.memfd_create('bpfkit-capture', 0) as number;
}

export function captureOutput<T>(call: () => T): Captured<T> {
  const sink = openSink();
  if (sink < 0) return { result: call(), errno: koffi.errno(), output: '' };
  const savedOut = libc.dup(1) as number;
  const savedErr = libc.dup(2) as number;
  let result: T;
  let errno = 0;
  try {
    libc.dup2(sink, 1);
    libc.dup2(sink, 2);
    result = call();
    errno = koffi.errno();
  } finally {
    libc.fflush(null);
    libc.dup2(savedOut, 1);
    libc.dup2(savedErr, 2);
    libc.close(savedOut);
    libc.close(savedErr);
  }
  let output = '';
  try {
    output = fs.readFileSync(`/proc/self/fd/${sink}`, 'utf8');
  } finally {
    libc.close(sink);
  }
  return { result, errno, output };
}
