// Struct offsets the shared C helpers in bpf/include/bpfkit/ need, read from the running kernel's
// BTF and passed as #defines (see bpf/include/bpfkit/task.h for why headers cannot be trusted
// for them). Socket fields are in sock-offsets.ts; offsets only one tool reads stay with the tool
// (biolatency's request fields). A plan passes its KernelView; without one, the running kernel.
import { liveKernel, type KernelView } from './view.ts';
import { MissingPrerequisite } from '../run/errors.ts';

/** The offsets of struct.field pairs from the kernel view, or one line naming what is missing. */
function offsets(kernel: KernelView, fields: Record<string, [struct: string, field: string]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, [struct, field]] of Object.entries(fields)) {
    const at = kernel.offset(struct, field);
    if (at === undefined) throw new MissingPrerequisite(`needs ${struct}.${field} from the kernel's BTF (/sys/kernel/btf/vmlinux), which this kernel lacks`);
    out[name] = at;
  }
  return out;
}

/** For bpfkit_current_ppid(): task_struct.real_parent and task_struct.tgid. */
export function taskParentOffsets(kernel: KernelView = liveKernel()): Record<string, number> {
  return offsets(kernel, { TASK_REAL_PARENT_OFFSET: ['task_struct', 'real_parent'], TASK_TGID_OFFSET: ['task_struct', 'tgid'] });
}

/** For bpfkit_current_mntns(): task_struct.nsproxy → nsproxy.mnt_ns → mnt_namespace.ns.inum. */
export function mountNamespaceOffsets(kernel: KernelView = liveKernel()): Record<string, number> {
  return offsets(kernel, {
    TASK_NSPROXY_OFFSET: ['task_struct', 'nsproxy'], NSPROXY_MNT_NS_OFFSET: ['nsproxy', 'mnt_ns'], MNT_NS_INUM_OFFSET: ['mnt_namespace', 'ns.inum'],
  });
}

/** For bpfkit_current_arg_area() (bpfkit/exec_args.h): task_struct.mm → mm_struct.arg_start / arg_end. */
export function argAreaOffsets(kernel: KernelView = liveKernel()): Record<string, number> {
  return offsets(kernel, { TASK_MM_OFFSET: ['task_struct', 'mm'], MM_ARG_START_OFFSET: ['mm_struct', 'arg_start'], MM_ARG_END_OFFSET: ['mm_struct', 'arg_end'] });
}

/** For bpfkit_current_parent_comm() (bpfkit/parent_comm.h): task_struct.comm, with taskParentOffsets(). */
export function taskCommOffset(kernel: KernelView = liveKernel()): Record<string, number> {
  return offsets(kernel, { TASK_COMM_OFFSET: ['task_struct', 'comm'] });
}

/** The walk bpfkit/fd.h makes from the current task to the open file at an fd. */
const FD_FILE_FIELDS: Record<string, [struct: string, field: string]> = {
  TASK_FILES_OFFSET: ['task_struct', 'files'],
  FILES_FDT_OFFSET: ['files_struct', 'fdt'],
  FDTABLE_MAX_FDS_OFFSET: ['fdtable', 'max_fds'],
  FDTABLE_FD_OFFSET: ['fdtable', 'fd'],
};

/** ...and on from the file to its socket's struct sock. */
const FD_SOCKET_FIELDS: Record<string, [struct: string, field: string]> = {
  ...FD_FILE_FIELDS,
  FILE_PRIVATE_DATA_OFFSET: ['file', 'private_data'],
  SOCKET_SK_OFFSET: ['socket', 'sk'],
};

/** Offsets from the view, or the first struct.field it lacks (for a ladder's reason). */
function optionalOffsets(kernel: KernelView, fields: Record<string, [string, string]>): { defines: Record<string, number> } | { missing: string } {
  const defines: Record<string, number> = {};
  for (const [name, [struct, field]] of Object.entries(fields)) {
    const at = kernel.offset(struct, field);
    if (at === undefined) return { missing: `${struct}.${field}` };
    defines[name] = at;
  }
  return { defines };
}

/** For bpfkit_current_fd_file() (bpfkit/fd.h). */
export function fdFileOffsets(kernel: KernelView = liveKernel()): { defines: Record<string, number> } | { missing: string } {
  return optionalOffsets(kernel, FD_FILE_FIELDS);
}

/** For bpfkit_current_fd_sock() (bpfkit/fd.h): the file walk, then file.private_data and socket.sk. */
export function fdSocketOffsets(kernel: KernelView = liveKernel()): { defines: Record<string, number> } | { missing: string } {
  return optionalOffsets(kernel, FD_SOCKET_FIELDS);
}

/** The walk bpfkit/file_path.h makes from a file (or a struct path) to its absolute path. */
const FILE_PATH_FIELDS: Record<string, [struct: string, field: string]> = {
  DENTRY_PARENT_OFFSET: ['dentry', 'd_parent'],
  DENTRY_NAME_LEN_OFFSET: ['dentry', 'd_name.len'],
  DENTRY_NAME_OFFSET: ['dentry', 'd_name.name'],
  MOUNT_MNT_OFFSET: ['mount', 'mnt'],
  MOUNT_PARENT_OFFSET: ['mount', 'mnt_parent'],
  MOUNT_MOUNTPOINT_OFFSET: ['mount', 'mnt_mountpoint'],
  VFSMOUNT_ROOT_OFFSET: ['vfsmount', 'mnt_root'],
  PATH_MNT_OFFSET: ['path', 'mnt'],
  PATH_DENTRY_OFFSET: ['path', 'dentry'],
  FILE_PATH_OFFSET: ['file', 'f_path'],
  // A relative name is resolved against the working directory: task->fs->pwd.
  TASK_FS_OFFSET: ['task_struct', 'fs'],
  FS_PWD_OFFSET: ['fs_struct', 'pwd'],
};

/** For bpfkit_file_path() (bpfkit/file_path.h), or the first struct.field the kernel's BTF lacks. */
export function filePathOffsets(kernel: KernelView = liveKernel()): { defines: Record<string, number> } | { missing: string } {
  return optionalOffsets(kernel, FILE_PATH_FIELDS);
}
