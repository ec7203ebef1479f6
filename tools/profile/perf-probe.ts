// Whether a sampling perf event of a counter opens on this machine, found by opening one (and
// closing it at once): a virtual machine has no hardware counters unless its hypervisor passes the
// PMU through, and no file says so on every architecture (x86's /sys/bus/event_source/devices/cpu,
// arm64's armv8_pmuv3_0, …), while perf_event_open() answers the same way everywhere.
import os from 'node:os';
import koffi from 'koffi';
import { notAllowed, onlineCpus } from 'bcc-node-bindings';

export type PerfCounter = 'cpu-cycles' | 'cpu-clock';

const ATTR: Record<PerfCounter, { type: number; config: bigint }> = {
  'cpu-cycles': { type: 0, config: 0n }, // PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES
  'cpu-clock': { type: 1, config: 0n }, // PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK
};
const SYS_PERF_EVENT_OPEN = process.arch === 'arm64' ? 241 : 298;
const PERF_FLAG_FD_CLOEXEC = 1 << 3;
const ATTR_SIZE = 128;
const DISABLED = 1n;
const FREQ = 1n << 10n;

function loadLibc() {
  const lib = koffi.load('libc.so.6');
  return { syscall: lib.func('long syscall(long number, ...)'), close: lib.func('int close(int fd)') };
}

let libc: ReturnType<typeof loadLibc> | undefined;
const answers = new Map<PerfCounter, string | null>();

function why(errno: number): string {
  switch (errno) {
    case os.constants.errno.ENOENT: return 'no such counter on this machine (no hardware PMU here: a VM without one passed through)';
    case os.constants.errno.EOPNOTSUPP: return 'the PMU here cannot sample (perf_event_open: EOPNOTSUPP)';
    case os.constants.errno.EACCES:
    case os.constants.errno.EPERM: return 'not allowed (perf_event_open: EACCES; see /proc/sys/kernel/perf_event_paranoid)';
    default: return `perf_event_open failed: errno ${errno}`;
  }
}

/** null when a sampling event of `counter` opens (on the first online CPU, every task), else why not. */
export function perfEventProbe(counter: PerfCounter): string | null {
  const known = answers.get(counter);
  if (known !== undefined) return known;
  libc ??= loadLibc();
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(ATTR[counter].type, 0);
  attr.writeUInt32LE(ATTR_SIZE, 4);
  attr.writeBigUInt64LE(ATTR[counter].config, 8);
  attr.writeBigUInt64LE(49n, 16); // sample_freq
  attr.writeBigUInt64LE(DISABLED | FREQ, 40);
  let cpu = 0;
  try { cpu = onlineCpus()[0] ?? 0; } catch { /* cpu 0 */ }
  const fd = Number(libc.syscall(SYS_PERF_EVENT_OPEN, 'void *', attr, 'int', -1, 'int', cpu, 'int', -1, 'unsigned long', PERF_FLAG_FD_CLOEXEC));
  const errno = fd >= 0 ? 0 : koffi.errno();
  // Refused to a user who is not root, the kernel has said nothing about the counter itself.
  if ((errno === os.constants.errno.EACCES || errno === os.constants.errno.EPERM) && process.geteuid?.() !== 0) {
    throw notAllowed('sampling CPUs (perf_event_open)', `perf_event_paranoid refuses unprivileged users`, errno);
  }
  const answer = fd >= 0 ? null : why(errno);
  if (fd >= 0) libc.close(fd);
  answers.set(counter, answer);
  return answer;
}
