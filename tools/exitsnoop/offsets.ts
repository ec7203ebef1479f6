// The task_struct fields only exitsnoop reads, at offsets from the running kernel's BTF (passed as
// #defines, as lib/kernel/offsets.ts does for the shared helpers' fields, and for the same reason:
// the compile-time headers may be another kernel's). Should a second tool need them, this moves
// to lib/kernel/offsets.ts.
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';

/**
 * task_struct.exit_code (the wait status do_exit stores before sched_process_exit fires) and
 * task_struct.start_time: CLOCK_MONOTONIC at fork, the clock of bpf_ktime_get_ns(), so their
 * difference is the age. (start_boottime also counts suspended time, and would need
 * bpf_ktime_get_boot_ns(); bcc and libbpf-tools both use start_time.)
 */
export function taskExitOffsets(kernel: KernelView = liveKernel()): Record<string, number> {
  const fields: Record<string, string> = { TASK_EXIT_CODE_OFFSET: 'exit_code', TASK_START_TIME_OFFSET: 'start_time' };
  const out: Record<string, number> = {};
  for (const [name, field] of Object.entries(fields)) {
    const at = kernel.offset('task_struct', field);
    if (at === undefined) {
      throw new MissingPrerequisite(`needs task_struct.${field} from the kernel's BTF (/sys/kernel/btf/vmlinux), which this kernel lacks`);
    }
    out[name] = at;
  }
  return out;
}
