// Whether a sampling perf event of a counter opens on this machine, found by opening one (and
// closing it at once): a virtual machine has no hardware counters unless its hypervisor passes the
// PMU through, and no file says so on every architecture (x86's /sys/bus/event_source/devices/cpu,
// arm64's armv8_pmuv3_0, …), while perf_event_open() answers the same way everywhere.
import os from 'node:os';
import { notAllowed, samplingEventErrno } from 'bcc-node-bindings';

export type PerfCounter = 'cpu-cycles' | 'cpu-clock';

const ATTR: Record<PerfCounter, { type: number; config: number }> = {
  'cpu-cycles': { type: 0, config: 0 }, // PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES
  'cpu-clock': { type: 1, config: 0 }, // PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK
};

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
  const errno = samplingEventErrno(ATTR[counter].type, ATTR[counter].config);
  // Refused to a user who is not root, the kernel has said nothing about the counter itself.
  if ((errno === os.constants.errno.EACCES || errno === os.constants.errno.EPERM) && process.geteuid?.() !== 0) {
    throw notAllowed('sampling CPUs (perf_event_open)', `perf_event_paranoid refuses unprivileged users`, errno);
  }
  const answer = errno === 0 ? null : why(errno);
  answers.set(counter, answer);
  return answer;
}
