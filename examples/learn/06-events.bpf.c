/* Step 6: five programs, one question: how often does the workload call openat?
 * Each program is a different event type; all share one filter (the workload's pid, written
 * from user space) and one array of counters. OPENAT_NR comes from a -D flag: the syscall's
 * number on this architecture (x86-64 257, arm64 56). */
#include <uapi/linux/bpf_perf_event.h>

BPF_ARRAY(target, u32, 1);          /* the workload's pid, 0 until it is ready */
BPF_ARRAY(counts, u64, 5);          /* 0 tracepoint, 1 raw tracepoint, 2 kprobe, 3 uprobe, 4 samples */
BPF_STACK_TRACE(stacks, 1024);      /* kernel stacks of the workload's samples */
BPF_HASH(sampled, int, u64, 1024);  /* stack id -> samples */

static __always_inline int workload(void)
{
    int zero = 0;
    u32 *pid = target.lookup(&zero);
    return pid && *pid != 0 && *pid == bpf_get_current_pid_tgid() >> 32;
}

static __always_inline void count(int event)
{
    u64 *n = counts.lookup(&event);
    if (n)
        __sync_fetch_and_add(n, 1);
}

/* (a) The syscall's own tracepoint: fires for openat only, with its arguments by name. */
TRACEPOINT_PROBE(syscalls, sys_enter_openat)
{
    if (workload())
        count(0);
    return 0;
}

/* (b) The raw tracepoint under every syscall: args[0] is pt_regs, args[1] the syscall number. */
RAW_TRACEPOINT_PROBE(sys_enter)
{
    if (ctx->args[1] == OPENAT_NR && workload())
        count(1);
    return 0;
}

/* (c) A kprobe on the kernel function behind openat (where the kernel has kprobes). */
int on_kprobe(struct pt_regs *ctx)
{
    if (workload())
        count(2);
    return 0;
}

/* (d) A uprobe on libc's openat: runs in the process's own context, before the syscall. */
int on_uprobe(struct pt_regs *ctx)
{
    if (workload())
        count(3);
    return 0;
}

/* (e) A cpu-clock sample: not an openat at all, a timer tick that found the workload on a CPU. */
int on_sample(struct bpf_perf_event_data *ctx)
{
    if (!workload())
        return 0;
    count(4);
    /* The kernel stack; negative (EFAULT) when the tick found the CPU in user space. */
    int id = stacks.get_stackid(ctx, BPF_F_REUSE_STACKID);
    sampled.increment(id);
    return 0;
}
