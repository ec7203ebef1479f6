/* The argument area of the current process: mm->arg_start..arg_end, where the kernel copied
 * argv[0..argc-1] as consecutive NUL-terminated strings while exec()ing. Right after an exec
 * (sched:sched_process_exec, or the syscall's return) this memory is freshly written, so one
 * bpf_probe_read_user() gets every argument: unlike the argv pointers at syscall entry, it
 * cannot hit a page that is not faulted in yet (bcc#3343), and it costs one helper call.
 * Offsets come from the running kernel's BTF (lib/kernel/offsets.ts), never from headers. */
#ifndef BPFKIT_EXEC_ARGS_H
#define BPFKIT_EXEC_ARGS_H

#include "bpfkit/task.h"

#if !defined(TASK_MM_OFFSET) || !defined(MM_ARG_START_OFFSET) || !defined(MM_ARG_END_OFFSET)
#error "include bpfkit/exec_args.h only with the offsets from lib/kernel/offsets.ts"
#endif

/* Start and end (exclusive) user addresses of the argument strings; both 0 without an mm. */
static __always_inline void bpfkit_current_arg_area(u64 *start, u64 *end)
{
    const void *task = (const void *)bpf_get_current_task();
    const void *mm = bpfkit_read_ptr(task, TASK_MM_OFFSET);
    *start = 0;
    *end = 0;
    if (!mm)
        return;
    bpf_probe_read_kernel(start, sizeof(*start), (const char *)mm + MM_ARG_START_OFFSET);
    bpf_probe_read_kernel(end, sizeof(*end), (const char *)mm + MM_ARG_END_OFFSET);
}

#endif /* BPFKIT_EXEC_ARGS_H */
