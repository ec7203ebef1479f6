// Struct offsets the C programs need, read from the running kernel's BTF and passed as #defines
// (see bpf/include/bpfkit/task.h for why headers cannot be trusted for them).
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
