/* runqlat: how long runnable tasks wait on a run queue before they run, as log2 histograms.
 * What it traces and why: tools/runqlat/README.md; the choices: tools/runqlat/program.ts.
 *
 * A task starts waiting when it is woken (sched_wakeup), created (sched_wakeup_new) or switched
 * out while still runnable (preempted, or yielding); it stops at its next switch-in. The wait is
 * keyed by thread id from the one to the other.
 *
 * Configuration (prepended by tools/runqlat/program.ts as #defines from validated numbers):
 *   RUNG_TRACEPOINT, RUNG_RAW_TP, RUNG_KPROBE   one is 1: how the three points are traced
 *   NS_PER_UNIT        1000 (usecs), 1000000 (-m, msecs) or 1 (the exporter's nanoseconds)
 *   KEY_TGID, KEY_TID, KEY_PIDNS   -P, -L, --pidnss: a histogram per process, thread or PID
 *                      namespace (none: one histogram)
 *   FILTER_TGID, TARGET_TGID   -p: only this process
 *   TOTALS             also add up the waits (in ns) and count them per histogram (--json, metrics)
 *   DEFER_TO_SWITCH_OUT   classic tracepoints only: the switch-in names a thread, not its process
 *                      or namespace; the wait is held until that thread is switched out again,
 *                      where it is `current` and both can be read (tools/runqlat/README.md)
 *   RUNNABLE_STATE_MASK   classic tracepoints: prev_state bits that mean "not runnable"
 *   START_ENTRIES, HIST_ENTRIES, GROUP_ENTRIES   map sizes
 *   TASK_*_OFFSET, PID_*_OFFSET, UPID_SIZE, UPID_NS_OFFSET, PIDNS_INUM_OFFSET   from the running
 *                      kernel's BTF (never from the compile-time headers, which may be another
 *                      kernel's)
 *   WAKEUP_KPROBE_ARG  kprobe rung: which argument of the wakeup function is the task (1 or 2)
 */

#if RUNG_KPROBE
#include <uapi/linux/ptrace.h>
#endif

struct hist_key {
    u64 group;
    u64 slot;
};

struct total {
    u64 ns;
    u64 count;
};

BPF_HASH(start, u32, u64, START_ENTRIES);
BPF_HASH(dist, struct hist_key, u64, HIST_ENTRIES);
#if TOTALS
BPF_HASH(totals, u64, struct total, GROUP_ENTRIES);
#endif
#if DEFER_TO_SWITCH_OUT
BPF_HASH(pending, u32, u64, START_ENTRIES);
#endif

#include "bpfkit/misses.h"

static __always_inline void *read_ptr(const void *base, unsigned long offset)
{
    void *value = 0;
    bpf_probe_read_kernel(&value, sizeof(value), (const char *)base + offset);
    return value;
}

static __always_inline u32 read_u32(const void *base, unsigned long offset)
{
    u32 value = 0;
    bpf_probe_read_kernel(&value, sizeof(value), (const char *)base + offset);
    return value;
}

#if KEY_PIDNS
/* The inode of the task's own PID namespace, task_active_pid_ns(): thread_pid->numbers[level].ns.
 * Not nsproxy->pid_ns_for_children, which is where the task's next children go (another one
 * after unshare(CLONE_NEWPID)), and which is gone once the task is exiting. A thread that is
 * exiting and already released has no thread_pid: its group leader's namespace is the same. */
static __always_inline u64 pid_namespace(const void *task)
{
    const void *pid = read_ptr(task, TASK_THREAD_PID_OFFSET);
    if (!pid)
        pid = read_ptr(read_ptr(task, TASK_GROUP_LEADER_OFFSET), TASK_THREAD_PID_OFFSET);
    if (!pid)
        return 0;
    u32 level = read_u32(pid, PID_LEVEL_OFFSET);
    const void *ns = read_ptr(pid, PID_NUMBERS_OFFSET + (u64)level * UPID_SIZE + UPID_NS_OFFSET);
    if (!ns)
        return 0;
    return read_u32(ns, PIDNS_INUM_OFFSET);
}
#endif

/* The histogram a wait goes to: its process, thread, PID namespace, or the only one. */
static __always_inline u64 group_of(u32 tid, u32 tgid, const void *task)
{
#if KEY_TGID
    return tgid;
#elif KEY_TID
    return tid;
#elif KEY_PIDNS
    return pid_namespace(task);
#else
    return 0;
#endif
}

static __always_inline int wanted(u32 tgid)
{
#if FILTER_TGID
    return tgid == TARGET_TGID;
#else
    return 1;
#endif
}

static __always_inline void account(u64 group, u64 delta_ns)
{
    struct hist_key key = { .group = group, .slot = bpf_log2l(delta_ns / NS_PER_UNIT) };
    u64 zero = 0;
    u64 *n = dist.lookup_or_try_init(&key, &zero);
    if (!n) {
        count_miss(MISS_HIST_FULL);
        return;
    }
    lock_xadd(n, 1);
#if TOTALS
    struct total tzero = {};
    struct total *t = totals.lookup_or_try_init(&group, &tzero);
    if (t) {
        lock_xadd(&t->ns, delta_ns);
        lock_xadd(&t->count, 1);
    }
#endif
}

/* The task is runnable from now on. The idle tasks (tid 0, one per CPU) are never measured. */
static __always_inline void enqueued(u32 tid)
{
    if (tid == 0)
        return;
    u64 ts = bpf_ktime_get_ns();
    if (start.update(&tid, &ts) != 0)
        count_miss(MISS_START_FULL);
}

/* The task switched in: how long it waited, or 0 when its start was not seen (it became
 * runnable before tracing began, or was filtered out). */
static __always_inline u64 waited(u32 tid)
{
    if (tid == 0)
        return 0;
    u64 *tsp = start.lookup(&tid);
    if (!tsp)
        return 0;
    s64 delta = bpf_ktime_get_ns() - *tsp;
    start.delete(&tid);
    return delta > 0 ? delta : 0;
}

#if RUNG_TRACEPOINT
/* ---- classic tracepoints: thread ids only ---- */

TRACEPOINT_PROBE(sched, sched_wakeup)
{
    enqueued(args->pid);
    return 0;
}

TRACEPOINT_PROBE(sched, sched_wakeup_new)
{
    enqueued(args->pid);
    return 0;
}

TRACEPOINT_PROBE(sched, sched_switch)
{
    /* `current` is still the previous task: its process (and namespace) can be read. */
    u32 prev = args->prev_pid;
    u32 prev_tgid = bpf_get_current_pid_tgid() >> 32;
#if DEFER_TO_SWITCH_OUT
    if (prev != 0) {
        u64 *held = pending.lookup(&prev);
        if (held) {
            u64 delta = *held;
            pending.delete(&prev);
            if (wanted(prev_tgid))
                account(group_of(prev, prev_tgid, (const void *)bpf_get_current_task()), delta);
        }
    }
#endif
    /* Preempted (prev_state has only the preemption bit above the state bits) or runnable. */
    if ((args->prev_state & RUNNABLE_STATE_MASK) == 0 && wanted(prev_tgid))
        enqueued(prev);

    u32 next = args->next_pid;
    u64 delta = waited(next);
    if (delta == 0)
        return 0;
#if DEFER_TO_SWITCH_OUT
    if (pending.update(&next, &delta) != 0)
        count_miss(MISS_START_FULL);
#else
    account(group_of(next, 0, 0), delta);
#endif
    return 0;
}

#elif RUNG_RAW_TP
/* ---- raw tracepoints: the task_structs themselves ---- */

static __always_inline int task_enqueued(const void *p)
{
    u32 tid = read_u32(p, TASK_PID_OFFSET);
    if (wanted(read_u32(p, TASK_TGID_OFFSET)))
        enqueued(tid);
    return 0;
}

/* sched_wakeup(p), sched_wakeup_new(p) */
int on_wakeup(struct bpf_raw_tracepoint_args *ctx)
{
    return task_enqueued((const void *)ctx->args[0]);
}

/* sched_switch(bool preempt, struct task_struct *prev, struct task_struct *next[, prev_state]) */
int on_switch(struct bpf_raw_tracepoint_args *ctx)
{
    const void *prev = (const void *)ctx->args[1];
    const void *next = (const void *)ctx->args[2];
    /* A preempted task stays queued whatever its state says (it may have been preempted while
     * it was about to sleep); otherwise only a task still TASK_RUNNING is. */
    if (ctx->args[0] || read_u32(prev, TASK_STATE_OFFSET) == 0)
        task_enqueued(prev);

    u32 tid = read_u32(next, TASK_PID_OFFSET);
    u32 tgid = read_u32(next, TASK_TGID_OFFSET);
    if (!wanted(tgid))
        return 0;
    u64 delta = waited(tid);
    if (delta)
        account(group_of(tid, tgid, next), delta);
    return 0;
}

#elif RUNG_KPROBE
/* ---- kprobes, bcc's way before raw tracepoints: the wakeup functions and finish_task_switch ---- */

static __always_inline int task_enqueued(const void *p)
{
    u32 tid = read_u32(p, TASK_PID_OFFSET);
    if (wanted(read_u32(p, TASK_TGID_OFFSET)))
        enqueued(tid);
    return 0;
}

int on_wakeup(struct pt_regs *ctx)
{
#if WAKEUP_KPROBE_ARG == 2
    return task_enqueued((const void *)PT_REGS_PARM2(ctx));
#else
    return task_enqueued((const void *)PT_REGS_PARM1(ctx));
#endif
}

int on_wakeup_new(struct pt_regs *ctx)
{
    return task_enqueued((const void *)PT_REGS_PARM1(ctx));
}

/* finish_task_switch(prev) runs on the next task: `current` is the one switched in. */
int on_switch(struct pt_regs *ctx)
{
    const void *prev = (const void *)PT_REGS_PARM1(ctx);
    if (read_u32(prev, TASK_STATE_OFFSET) == 0)
        task_enqueued(prev);

    u64 id = bpf_get_current_pid_tgid();
    u32 tid = id;
    u32 tgid = id >> 32;
    if (!wanted(tgid))
        return 0;
    u64 delta = waited(tid);
    if (delta)
        account(group_of(tid, tgid, (const void *)bpf_get_current_task()), delta);
    return 0;
}
#endif
