// The kernel's version, for the few choices no feature probe can make (an argument a function
// lost, an argument order a tracepoint changed). Feature probes come first wherever they exist.
import os from 'node:os';

/** Whether `release` ("6.1.0-18-amd64", "5.15.0-91-generic") is at least major.minor. */
export function releaseAtLeast(major: number, minor: number, release = os.release()): boolean {
  const [have, haveMinor] = release.split(/[.-]/).map((n) => parseInt(n, 10));
  return have > major || (have === major && haveMinor >= minor);
}
