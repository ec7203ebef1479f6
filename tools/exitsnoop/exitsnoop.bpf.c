/* exitsnoop: one record per process (or, with --per-thread, per thread) that ends, sent from the
 * exiting task itself (tools/exitsnoop/README.md says what is traced where, and why).
 *
 * Configuration, as #defines of numbers (tools/exitsnoop/program.ts):
 *   EXIT_TRACEPOINT, EXIT_RAW_TRACEPOINT, EXIT_KPROBE   where the exit is seen (exactly one is 1):
 *                          sched:sched_process_exit, its raw tracepoint, or a kprobe on do_exit
 *   PER_THREAD             every thread's exit; else only the thread group leader's (the process)
 *   FILTER_PID/TARGET_PID  -p: this process (tgid) only
 *   FILTER_FAILED          -x: leave out exit status 0
 *   USE_RINGBUF/RINGBUF_PAGES   the events channel (bpfkit/events.h)
 *   TASK_EXIT_CODE_OFFSET, TASK_START_TIME_OFFSET, TASK_REAL_PARENT_OFFSET, TASK_TGID_OFFSET
 *                          task_struct offsets from the running kernel's BTF
 */
#if EXIT_KPROBE
#include <uapi/linux/ptrace.h>
#endif
#include "bpfkit/task.h"

/* The kernel's TASK_COMM_LEN. */
#define EXIT_COMM_LEN 16

struct exit_event {
    u64 start_time;  /* task_struct.start_time: CLOCK_MONOTONIC at fork, as bpf_ktime_get_ns() */
    u64 exit_time;   /* bpf_ktime_get_ns() at the exit */
    u32 pid;         /* tgid */
    u32 tid;
    u32 ppid;        /* the parent's tgid at the exit (a reaper's, if the parent ended first) */
    s32 status;      /* the wait status: code << 8, or the signal with 0x80 for a core dump */
    char comm[EXIT_COMM_LEN];
};

#define BPFKIT_EVENT struct exit_event
#include "bpfkit/events.h"

/* `code` is the status when the probe knows it before the task does (do_exit's argument);
 * otherwise it is read from task_struct.exit_code, which do_exit sets before the tracepoint. */
static __always_inline int on_exit(void *ctx, bool code_known, s32 code)
{
    u64 pid_tgid = bpf_get_current_pid_tgid();
    u32 pid = pid_tgid >> 32;
    u32 tid = pid_tgid;
#if FILTER_PID
    if (pid != TARGET_PID)
        return 0;
#endif
#if !PER_THREAD
    /* A process ends with its leader: the other threads' exits are not its end. */
    if (pid != tid)
        return 0;
#endif
    const char *task = (const char *)bpf_get_current_task();
    s32 status = code;
    if (!code_known)
        bpf_probe_read_kernel(&status, sizeof(status), task + TASK_EXIT_CODE_OFFSET);
#if FILTER_FAILED
    if (status == 0)
        return 0;
#endif
    struct exit_event *ev = bpfkit_event_reserve();
    if (!ev)
        return 0;
    u64 start = 0;
    bpf_probe_read_kernel(&start, sizeof(start), task + TASK_START_TIME_OFFSET);
    ev->start_time = start;
    ev->exit_time = bpf_ktime_get_ns();
    ev->pid = pid;
    ev->tid = tid;
    ev->ppid = bpfkit_current_ppid();
    ev->status = status;
    bpf_get_current_comm(ev->comm, sizeof(ev->comm));
    bpfkit_event_submit(ctx, ev);
    return 0;
}

#if EXIT_TRACEPOINT
TRACEPOINT_PROBE(sched, sched_process_exit)
{
    return on_exit(args, false, 0);
}
#endif

#if EXIT_RAW_TRACEPOINT
/* args: (struct task_struct *p[, bool group_dead]); p is the current task. */
RAW_TRACEPOINT_PROBE(sched_process_exit)
{
    return on_exit(ctx, false, 0);
}
#endif

#if EXIT_KPROBE
/* do_exit(long code): exit_code is not yet set at its entry, so the argument is the status. */
int exit_kprobe(struct pt_regs *ctx)
{
    return on_exit(ctx, true, (s32)PT_REGS_PARM1(ctx));
}
#endif
