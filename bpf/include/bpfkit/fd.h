/* The open file behind one of the current task's file descriptors, and the socket behind it:
 * current->files->fdt->fd[fd], then ->private_data->sk, each at an offset from the running
 * kernel's BTF (lib/kernel/offsets.ts fdFileOffsets / fdSocketOffsets pass them as #defines).
 * Used at a syscall's exit, where the fd it returned (accept) or took is known and the task is
 * the caller. Whatever fails to read gives 0. Another thread closing the fd meanwhile can only
 * make this find nothing, or another open file: callers check what they find like anything else.
 *
 * Needs TASK_FILES_OFFSET, FILES_FDT_OFFSET, FDTABLE_MAX_FDS_OFFSET, FDTABLE_FD_OFFSET; and for
 * bpfkit_current_fd_sock() FILE_PRIVATE_DATA_OFFSET and SOCKET_SK_OFFSET. */
#ifndef BPFKIT_FD_H
#define BPFKIT_FD_H

#if !defined(TASK_FILES_OFFSET) || !defined(FILES_FDT_OFFSET) || !defined(FDTABLE_MAX_FDS_OFFSET) || \
    !defined(FDTABLE_FD_OFFSET)
#error "include bpfkit/fd.h only with the offsets from lib/kernel/offsets.ts fdFileOffsets()"
#endif

static __always_inline const void *bpfkit_fd_read_ptr(const void *base, unsigned long offset)
{
    const void *value = 0;
    if (base)
        bpf_probe_read_kernel(&value, sizeof(value), (const char *)base + offset);
    return value;
}

/* The struct file * at `fd` in the current task's table, or 0. */
static __always_inline const void *bpfkit_current_fd_file(long fd)
{
    if (fd < 0)
        return 0;
    const void *task = (const void *)bpf_get_current_task();
    const void *fdt = bpfkit_fd_read_ptr(bpfkit_fd_read_ptr(task, TASK_FILES_OFFSET), FILES_FDT_OFFSET);
    if (!fdt)
        return 0;
    u32 max_fds = 0;
    bpf_probe_read_kernel(&max_fds, sizeof(max_fds), (const char *)fdt + FDTABLE_MAX_FDS_OFFSET);
    if ((unsigned long)fd >= max_fds)
        return 0;
    const void *fds = bpfkit_fd_read_ptr(fdt, FDTABLE_FD_OFFSET);
    return bpfkit_fd_read_ptr(fds, (unsigned long)fd * sizeof(void *));
}

#ifdef SOCKET_SK_OFFSET
/* The struct sock * of the socket at `fd`, or 0. Not every file is a socket: private_data of
 * another file is something else, so callers check what they read from the "socket" (its
 * family and protocol) or look it up in a map of sockets they know. */
static __always_inline const void *bpfkit_current_fd_sock(long fd)
{
    const void *socket = bpfkit_fd_read_ptr(bpfkit_current_fd_file(fd), FILE_PRIVATE_DATA_OFFSET);
    return bpfkit_fd_read_ptr(socket, SOCKET_SK_OFFSET);
}
#endif

#endif /* BPFKIT_FD_H */
