/* syscount: count system calls, and optionally the time spent in them, by syscall or by process.
 * Why it attaches and counts the way it does: tools/syscount/README.md.
 *
 * Configuration arrives as #defines built by configureSyscount (tools/syscount/program.ts):
 *   ENTER_RAW, EXIT_RAW          1: raw tracepoint; 0: tracepoint raw_syscalls:sys_enter / sys_exit
 *   THREAD_EXIT_RAW              1: raw tracepoint sched_process_exit; 0: tracepoint (with LATENCY)
 *   LATENCY                      time each call (sys_enter notes the start, sys_exit adds the time)
 *   BY_PROCESS                   key by process (tgid) instead of by syscall number
 *   FILTER_FAILED                count only calls that return an error (-4095..-1)
 *   FILTER_ERRNO                 count only calls that return -FILTER_ERRNO (0: off)
 *   FILTER_PID, FILTER_TID, FILTER_PPID   only this process / thread / children of it (0: off)
 *   FILTER_CGROUP                only tasks in the cgroup user space put in `cgroup` (or below it)
 *   FILTER_SYSCALL               only this syscall number (-1: off)
 *   NR_SLOTS                     syscall numbers the array covers; larger ones (x32) go to a hash
 *   MAX_PROCESSES, MAX_THREADS   sizes of the per-process table and of the start table
 *   NR_EXIT_GROUP                this architecture's exit_group (the last call of a process)
 *   REGS_NR_OFFSET, REGS_NR_SIZE where struct pt_regs keeps the syscall number (from BTF)
 *   TASK_REAL_PARENT_OFFSET, TASK_TGID_OFFSET   for bpfkit_current_ppid(), from BTF
 *   METRICS_ERRNO                --metrics with -x: also count failures by (syscall, errno)
 *   METRICS_LATENCY_HIST         --metrics with -L: also bucket each call's time (log2 of µs)
 */

#define FILTER_RESULT (FILTER_FAILED || FILTER_ERRNO)
/* Counting needs the result when filtering on it or timing; otherwise sys_enter alone counts. */
#define COUNT_AT_EXIT (FILTER_RESULT || LATENCY)
#define NEED_PID_TGID (FILTER_PID || FILTER_TID || BY_PROCESS || LATENCY)

#if FILTER_PPID
#include "bpfkit/task.h"
#endif

/* What is added up per key. Without -L only the count exists: half the memory to read per CPU. */
struct stats {
    u64 count;
#if LATENCY
    u64 total_ns;
#endif
};

#if BY_PROCESS
struct process_stats {
    u64 count;
    u64 total_ns;
    /* The name for processes gone by print time: taken at the process's first counted call, and
     * again at exit_group (after any exec), which then sets `final` on this CPU's copy. */
    char comm[16];
    u64 final;
};
BPF_PERCPU_HASH(processes, u32, struct process_stats, MAX_PROCESSES);
/* Calls not counted because `processes` was full (user space warns). */
BPF_PERCPU_ARRAY(dropped, u64, 1);
#else
BPF_PERCPU_ARRAY(counts, struct stats, NR_SLOTS);
/* Numbers past the array (x32's, with bit 30 set): rare, so a small hash is fine. */
BPF_PERCPU_HASH(wide_counts, u32, struct stats, 256);
#endif

#ifndef METRICS_ERRNO
#define METRICS_ERRNO 0
#endif
#ifndef METRICS_LATENCY_HIST
#define METRICS_LATENCY_HIST 0
#endif

#if METRICS_ERRNO
/* For bpfkit_syscall_errors_total{syscall,errno}: only with --metrics, so printing costs nothing. */
struct errno_key {
    u32 nr;
    u32 err;
};
BPF_PERCPU_HASH(errors_by_errno, struct errno_key, u64, 4096);
#endif

#if METRICS_LATENCY_HIST
/* For bpfkit_syscall_duration_seconds: bpf_log2l of the call's µs, by syscall (--metrics -L). */
struct slot_key {
    u32 nr;
    u32 slot;
};
BPF_PERCPU_HASH(latency_hist, struct slot_key, u64, 16384);
#endif

#if LATENCY
struct start_t {
    u64 ts;   /* 0: no call in progress */
    u64 id;
};
/* One entry per thread that made a traced call, reused for each of its calls and deleted when the
 * thread exits (sched_process_exit sees every thread end, killed ones included), so it never holds
 * dead threads. LRU as the safety net: should it ever fill (more live traced threads than
 * MAX_THREADS), the least recently used entry makes room and new threads are still measured. */
BPF_TABLE("lru_hash", u32, struct start_t, start, MAX_THREADS);
#endif

#if FILTER_CGROUP
BPF_CGROUP_ARRAY(cgroup, 1);
#endif

static __always_inline int task_wanted(u64 pid_tgid)
{
#if FILTER_TID
    if ((u32)pid_tgid != FILTER_TID)
        return 0;
#endif
#if FILTER_PID
    if ((pid_tgid >> 32) != FILTER_PID)
        return 0;
#endif
#if FILTER_CGROUP
    if (cgroup.check_current_task(0) != 1)
        return 0;
#endif
#if FILTER_PPID
    if (bpfkit_current_ppid() != FILTER_PPID)
        return 0;
#endif
    return 1;
}

static __always_inline int result_wanted(long ret)
{
#if FILTER_ERRNO
    return ret == -FILTER_ERRNO;
#elif FILTER_FAILED
    /* The kernel's own test for an error (IS_ERR_VALUE): fcntl(F_GETOWN) may return a negative
     * process group successfully, and large unsigned results are not errors either. */
    return (unsigned long)ret >= (unsigned long)-4095;
#else
    return 1;
#endif
}

static __always_inline void add(long id, u32 tgid, u64 ns, long ret)
{
#if BY_PROCESS
    struct process_stats *p = processes.lookup(&tgid);
    if (!p) {
        struct process_stats fresh = { .count = 1, .total_ns = ns, .final = id == NR_EXIT_GROUP };
        bpf_get_current_comm(&fresh.comm, sizeof(fresh.comm));
        if (processes.insert(&tgid, &fresh) == 0)
            return;
        p = processes.lookup(&tgid);   /* another CPU added it meanwhile */
        if (!p) {
            u32 zero = 0;
            u64 *lost = dropped.lookup(&zero);
            if (lost)
                (*lost)++;
            return;
        }
    }
    p->count++;
    p->total_ns += ns;
    if (id == NR_EXIT_GROUP) {
        bpf_get_current_comm(&p->comm, sizeof(p->comm));
        p->final = 1;
    }
#else
    struct stats *s;
    u32 key = id;
    if ((unsigned long)id < NR_SLOTS) {
        s = counts.lookup(&key);
    } else {
        if (id < 0)   /* -1: a tracer or seccomp cancelled the call; not a syscall */
            return;
        struct stats zero = {};
        s = wide_counts.lookup_or_try_init(&key, &zero);
    }
    if (!s)
        return;
    /* Per-CPU copy, and syscall tracepoints run their programs with preemption off: a plain add. */
    s->count++;
#if LATENCY
    s->total_ns += ns;
#endif
#if METRICS_ERRNO || METRICS_LATENCY_HIST
    u64 none = 0, *n;
#endif
#if METRICS_ERRNO
    struct errno_key ek = { .nr = key, .err = -ret };
    n = errors_by_errno.lookup_or_try_init(&ek, &none);
    if (n)
        (*n)++;
#endif
#if METRICS_LATENCY_HIST
    struct slot_key sk = { .nr = key, .slot = bpf_log2l(ns / 1000) };
    n = latency_hist.lookup_or_try_init(&sk, &none);
    if (n)
        (*n)++;
#endif
#endif
}

#if !LATENCY
/* Plain counting: at sys_enter by default, at sys_exit when the result matters. */
static __always_inline int count_call(long id, long ret)
{
#if FILTER_SYSCALL >= 0
    if (id != FILTER_SYSCALL)
        return 0;
#endif
#if NEED_PID_TGID
    u64 pid_tgid = bpf_get_current_pid_tgid();
#else
    u64 pid_tgid = 0;
#endif
    if (!task_wanted(pid_tgid))
        return 0;
    add(id, pid_tgid >> 32, 0, ret);
    return 0;
}
#endif

#if LATENCY
/* Filters run here only: sys_exit times just the calls whose start was noted. */
static __always_inline int start_call(long id)
{
#if FILTER_SYSCALL >= 0
    if (id != FILTER_SYSCALL)
        return 0;
#endif
    u64 pid_tgid = bpf_get_current_pid_tgid();
    if (!task_wanted(pid_tgid))
        return 0;
    u32 tid = pid_tgid;
    u64 now = bpf_ktime_get_ns();
    struct start_t *s = start.lookup(&tid);
    if (s) {
        s->ts = now;
        s->id = id;
        return 0;
    }
    struct start_t fresh = { .ts = now, .id = id };
    start.update(&tid, &fresh);
    return 0;
}

static __always_inline int end_call(long ret)
{
    u64 now = bpf_ktime_get_ns();
    u64 pid_tgid = bpf_get_current_pid_tgid();
    u32 tid = pid_tgid;
    struct start_t *s = start.lookup(&tid);
    if (!s || !s->ts)
        return 0;
    u64 ts = s->ts;
    long id = s->id;
    s->ts = 0;
    if (!result_wanted(ret))
        return 0;
    add(id, pid_tgid >> 32, now - ts, ret);
    return 0;
}
#endif

#if FILTER_RESULT && !LATENCY && EXIT_RAW
/* A raw sys_exit gets (regs, ret): the number is in the registers the call saved. Read only for
 * calls whose result passed the filter, which on a healthy system is few. */
static __always_inline long syscall_nr(const void *regs)
{
#if REGS_NR_SIZE == 8
    long nr = -1;
#else
    int nr = -1;
#endif
    bpf_probe_read_kernel(&nr, sizeof(nr), (const char *)regs + REGS_NR_OFFSET);
    return nr;
}
#endif

/* The probes: which exist depends on the mode; user space attaches what was compiled. */

#if LATENCY || !COUNT_AT_EXIT
#if ENTER_RAW
RAW_TRACEPOINT_PROBE(sys_enter)
{
    /* args: (struct pt_regs *regs, long id) */
#if LATENCY
    return start_call(ctx->args[1]);
#else
    return count_call(ctx->args[1], 0);
#endif
}
#else
TRACEPOINT_PROBE(raw_syscalls, sys_enter)
{
#if LATENCY
    return start_call(args->id);
#else
    return count_call(args->id, 0);
#endif
}
#endif
#endif

#if LATENCY
/* Runs in the exiting thread, once per thread: its start entry goes with it. */
#if THREAD_EXIT_RAW
RAW_TRACEPOINT_PROBE(sched_process_exit)
#else
TRACEPOINT_PROBE(sched, sched_process_exit)
#endif
{
    u32 tid = bpf_get_current_pid_tgid();
    start.delete(&tid);
    return 0;
}
#endif

#if COUNT_AT_EXIT
#if EXIT_RAW
RAW_TRACEPOINT_PROBE(sys_exit)
{
    /* args: (struct pt_regs *regs, long ret) */
    long ret = ctx->args[1];
#if LATENCY
    return end_call(ret);
#else
    if (!result_wanted(ret))
        return 0;
    return count_call(syscall_nr((const void *)ctx->args[0]), ret);
#endif
}
#else
TRACEPOINT_PROBE(raw_syscalls, sys_exit)
{
#if LATENCY
    return end_call(args->ret);
#else
    if (!result_wanted(args->ret))
        return 0;
    return count_call(args->id, args->ret);
#endif
}
#endif
#endif
