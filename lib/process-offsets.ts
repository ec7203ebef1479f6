// More struct offsets from the running kernel's BTF, for the C helpers beside bpfkit/task.h:
// bpfkit/exec_args.h (a process's argument area) and bpfkit/parent_comm.h (the parent's comm).
// Passed to the program as #defines, like lib/kernel-offsets.ts does for the parent's PID.
import { kernelBtf } from 'bcc-node-bindings';

/** For bpfkit_current_arg_area(): task_struct.mm → mm_struct.arg_start / arg_end. */
export function argAreaOffsets(): Record<string, number> {
  const btf = kernelBtf();
  return {
    TASK_MM_OFFSET: btf.offsetOf('task_struct', 'mm'),
    MM_ARG_START_OFFSET: btf.offsetOf('mm_struct', 'arg_start'),
    MM_ARG_END_OFFSET: btf.offsetOf('mm_struct', 'arg_end'),
  };
}

/** For bpfkit_current_parent_comm(): task_struct.comm (with taskParentOffsets() for real_parent). */
export function taskCommOffset(): Record<string, number> {
  return { TASK_COMM_OFFSET: kernelBtf().offsetOf('task_struct', 'comm') };
}
