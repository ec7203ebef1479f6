/* The command name (comm) of the current task's parent, read at offsets from the running
 * kernel's BTF (lib/kernel/offsets.ts): task->real_parent->comm compiled from mismatched
 * headers would read whatever sits at 6.12's offset on a 6.18 kernel. */
#ifndef BPFKIT_PARENT_COMM_H
#define BPFKIT_PARENT_COMM_H

#include "bpfkit/task.h"

#ifndef TASK_COMM_OFFSET
#error "include bpfkit/parent_comm.h only with the offsets from lib/kernel/offsets.ts"
#endif

#define BPFKIT_COMM_LEN 16

/* Copies the parent's comm into dst, NUL-padded to 16 bytes: a comm is a hash key, and
 * bpf_probe_read_kernel_str() leaves what follows the NUL as it was. */
static __always_inline void bpfkit_current_parent_comm(char *dst)
{
    __builtin_memset(dst, 0, BPFKIT_COMM_LEN);
    const void *task = (const void *)bpf_get_current_task();
    const void *parent = bpfkit_read_ptr(task, TASK_REAL_PARENT_OFFSET);
    bpf_probe_read_kernel_str(dst, BPFKIT_COMM_LEN, (const char *)parent + TASK_COMM_OFFSET);
}

#endif /* BPFKIT_PARENT_COMM_H */
