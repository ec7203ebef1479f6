// Struct offsets the shared C helpers in bpf/include/bpfkit/ need, read from the running kernel's
// BTF and passed as #defines (see bpf/include/bpfkit/task.h for why headers cannot be trusted
// for them). Tool-specific offsets stay with their tool (biolatency's request fields, tcptop's
// socket fields); helpers used by two tools live here.
import { kernelBtf } from 'bcc-node-bindings';

/** For bpfkit_current_ppid(): task_struct.real_parent and task_struct.tgid. */
export function taskParentOffsets(): Record<string, number> {
  const btf = kernelBtf();
  return {
    TASK_REAL_PARENT_OFFSET: btf.offsetOf('task_struct', 'real_parent'),
    TASK_TGID_OFFSET: btf.offsetOf('task_struct', 'tgid'),
  };
}

/** For bpfkit_current_mntns(): task_struct.nsproxy → nsproxy.mnt_ns → mnt_namespace.ns.inum. */
export function mountNamespaceOffsets(): Record<string, number> {
  const btf = kernelBtf();
  return {
    TASK_NSPROXY_OFFSET: btf.offsetOf('task_struct', 'nsproxy'),
    NSPROXY_MNT_NS_OFFSET: btf.offsetOf('nsproxy', 'mnt_ns'),
    MNT_NS_INUM_OFFSET: btf.offsetOf('mnt_namespace', 'ns.inum'),
  };
}

/** For bpfkit_current_arg_area() (bpfkit/exec_args.h): task_struct.mm → mm_struct.arg_start / arg_end. */
export function argAreaOffsets(): Record<string, number> {
  const btf = kernelBtf();
  return {
    TASK_MM_OFFSET: btf.offsetOf('task_struct', 'mm'),
    MM_ARG_START_OFFSET: btf.offsetOf('mm_struct', 'arg_start'),
    MM_ARG_END_OFFSET: btf.offsetOf('mm_struct', 'arg_end'),
  };
}

/** For bpfkit_current_parent_comm() (bpfkit/parent_comm.h): task_struct.comm, with taskParentOffsets(). */
export function taskCommOffset(): Record<string, number> {
  return { TASK_COMM_OFFSET: kernelBtf().offsetOf('task_struct', 'comm') };
}
