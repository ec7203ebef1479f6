/* cpudist: on-CPU (and/or off-CPU) time per task slice, as log2 histograms.
 * What it traces and why: tools/cpudist/README.md; the choices: tools/cpudist/program.ts.
 *
 * Configuration (prepended by tools/cpudist/program.ts as #defines from validated numbers):
 *   ONCPU, OFFCPU      which times to measure (the tool sets one, -O choosing OFFCPU; the exporter both)
 *   NS_PER_UNIT        1000 (usecs) or 1000000 (-m, msecs): the histogram's unit
 *   GROUP_PID, GROUP_TID   -P / -L: a histogram per process / per thread (neither: one histogram)
 *   FILTER_TGID, TARGET_TGID   -p: only this process's threads
 *   INCLUDE_IDLE       -I: the idle tasks (tid 0, one per CPU) too
 *   EXTENSION          keep per-histogram sums and counts (-e, --json, --metrics)
 *   START_ON_ENTRIES, START_OFF_ENTRIES, HIST_ENTRIES, EXT_ENTRIES   map sizes
 *   SWITCH_TRACEPOINT, SWITCH_RAW_TP, SWITCH_KPROBE   where the context switch is seen, one set
 *   PREV_ARG           with SWITCH_RAW_TP: the argument that is prev (next follows it)
 *   TASK_PID_OFFSET, TASK_TGID_OFFSET, TASK_STATE_OFFSET   task_struct fields from the running
 *                      kernel's BTF (raw tracepoint and kprobe), never from the compile-time headers
 */

#if SWITCH_KPROBE
#include <uapi/linux/ptrace.h>
#endif

/* A task waiting for its slice (on- or off-CPU) to end. Idle tasks all have tid 0, one per CPU
 * and never migrate: they are told apart by CPU. Any other task is keyed by tid alone, so an
 * off-CPU period that ends on another CPU is still matched. */
struct start_key {
    u32 tid;
    u32 cpu;
};

struct start_val {
    u64 ts;
    u32 tgid;   /* known when the task went off: the tgid of `current` at the switch */
    u32 _pad;
};

#define KIND_ON 0
#define KIND_OFF 1

struct hist_key {
    u32 group;  /* tgid (-P), tid (-L), else 0 */
    u32 kind;   /* KIND_ON or KIND_OFF */
    u64 slot;
};

struct ext_key {
    u32 group;
    u32 kind;
};

struct ext_val {
    u64 total;      /* sum of the values in the histogram's unit, each truncated as bcc's -e does */
    u64 total_ns;   /* the exact sum, in nanoseconds */
    u64 count;
};

#if ONCPU
BPF_HASH(start_on, struct start_key, struct start_val, START_ON_ENTRIES);
#endif
#if OFFCPU
BPF_HASH(start_off, struct start_key, struct start_val, START_OFF_ENTRIES);
#endif
BPF_HASH(dist, struct hist_key, u64, HIST_ENTRIES);
#if EXTENSION
BPF_HASH(ext, struct ext_key, struct ext_val, EXT_ENTRIES);
#endif

#include "bpfkit/misses.h"

static __always_inline int traced(u32 tid, u32 tgid)
{
#if !INCLUDE_IDLE
    if (tid == 0)
        return 0;
#endif
#if FILTER_TGID
    if (tgid != TARGET_TGID)
        return 0;
#endif
    return 1;
}

static __always_inline struct start_key key_of(u32 tid, u32 cpu)
{
    struct start_key key = { .tid = tid, .cpu = tid == 0 ? cpu : 0 };
    return key;
}

static __always_inline void record(u32 tid, u32 tgid, u32 kind, u64 delta_ns)
{
#if GROUP_PID
    u32 group = tgid;
#elif GROUP_TID
    u32 group = tid;
#else
    u32 group = 0;
#endif
    u64 delta = delta_ns / NS_PER_UNIT;
    struct hist_key hkey = { .group = group, .kind = kind, .slot = bpf_log2l(delta) };
    u64 zero = 0;
    u64 *n = dist.lookup_or_try_init(&hkey, &zero);
    if (!n) {
        count_miss(MISS_HIST_FULL);
        return;
    }
    lock_xadd(n, 1);
#if EXTENSION
    struct ext_key ekey = { .group = group, .kind = kind };
    struct ext_val ezero = {};
    struct ext_val *e = ext.lookup_or_try_init(&ekey, &ezero);
    if (e) {
        lock_xadd(&e->total, delta);
        lock_xadd(&e->total_ns, delta_ns);
        lock_xadd(&e->count, 1);
    }
#endif
}

static __always_inline void slice_done(u32 tid, u32 tgid, u32 kind, u64 ts, u64 now)
{
    if (now < ts)
        return;     /* two CPUs' clocks disagreeing: nothing sensible to record */
    record(tid, tgid, kind, now - ts);
}

/* bcc rewrites map calls only where the map is named: one pair of functions per start map. */
#if ONCPU
/* On-CPU: the tgid is known when the task goes off, and the filter applies then. */
static __always_inline void on_cpu_ended(u32 tid, u32 tgid, u32 cpu, u64 now)
{
    struct start_key key = key_of(tid, cpu);
    struct start_val *val = start_on.lookup(&key);
    if (!val)
        return;     /* came on before tracing began */
    u64 ts = val->ts;
    start_on.delete(&key);
    if (traced(tid, tgid))
        slice_done(tid, tgid, KIND_ON, ts, now);
}

static __always_inline void on_cpu_began(u32 tid, u32 cpu, u64 now)
{
    struct start_key key = key_of(tid, cpu);
    struct start_val val = { .ts = now };
    if (start_on.update(&key, &val) != 0)
        count_miss(MISS_START_FULL);
}
#endif

#if OFFCPU
/* Off-CPU: filtered when the task went off, its tgid kept in the entry until it comes back. */
static __always_inline void off_cpu_began(u32 tid, u32 tgid, u32 cpu, u64 now)
{
    struct start_key key = key_of(tid, cpu);
    struct start_val val = { .ts = now, .tgid = tgid };
    if (start_off.update(&key, &val) != 0)
        count_miss(MISS_START_FULL);
}

static __always_inline void off_cpu_ended(u32 tid, u32 cpu, u64 now)
{
    struct start_key key = key_of(tid, cpu);
    struct start_val *val = start_off.lookup(&key);
    if (!val)
        return;     /* went off before tracing began, or filtered out then */
    u64 ts = val->ts;
    u32 tgid = val->tgid;
    start_off.delete(&key);
    slice_done(tid, tgid, KIND_OFF, ts, now);
}
#endif

/*
 * One context switch on this CPU: prev goes off, next comes on. prev's tgid is always known
 * (every rung can read it), next's only on some, so both measurements decide whom to keep when
 * prev's side is seen: on-CPU time is recorded when prev goes off; off-CPU time begins when prev
 * goes off, with its tgid kept in the start entry until it comes back on.
 * prev_dead: prev has exited and will never come back, so no off-CPU period begins.
 */
static __always_inline int on_switch(u32 prev_tid, u32 prev_tgid, int prev_dead, u32 next_tid)
{
    u64 now = bpf_ktime_get_ns();
    u32 cpu = bpf_get_smp_processor_id();
#if ONCPU
    on_cpu_ended(prev_tid, prev_tgid, cpu, now);
    /* next's tgid may be unknown here: every task gets a start, filtered when it goes off. */
#if INCLUDE_IDLE
    on_cpu_began(next_tid, cpu, now);
#else
    if (next_tid != 0)
        on_cpu_began(next_tid, cpu, now);
#endif
#endif
#if OFFCPU
    if (!prev_dead && traced(prev_tid, prev_tgid))
        off_cpu_began(prev_tid, prev_tgid, cpu, now);
    off_cpu_ended(next_tid, cpu, now);
#endif
    return 0;
}

#if SWITCH_RAW_TP || SWITCH_KPROBE
static __always_inline u32 task_u32(void *task, int offset)
{
    u32 v = 0;
    bpf_probe_read_kernel(&v, sizeof(v), (char *)task + offset);
    return v;
}

/* TASK_DEAD in task_struct.__state (0x80 on every kernel with raw tracepoints, 4.17+). */
static __always_inline int task_dead(void *task)
{
    return (task_u32(task, TASK_STATE_OFFSET) & 0x80) != 0;
}
#endif

#if SWITCH_TRACEPOINT
/* `current` is still prev at this tracepoint: its tgid is bpf_get_current_pid_tgid()'s. */
TRACEPOINT_PROBE(sched, sched_switch)
{
    u32 prev_tgid = bpf_get_current_pid_tgid() >> 32;
    /* The tracepoint reports an exited task's exit_state: EXIT_ZOMBIE 0x20 or EXIT_DEAD 0x10. */
    int prev_dead = (args->prev_state & 0x30) != 0;
    return on_switch(args->prev_pid, prev_tgid, prev_dead, args->next_pid);
}
#elif SWITCH_RAW_TP
/* sched_switch(bool preempt, struct task_struct *prev, struct task_struct *next, ...) */
int on_sched_switch(struct bpf_raw_tracepoint_args *ctx)
{
    void *prev = (void *)ctx->args[PREV_ARG];
    void *next = (void *)ctx->args[PREV_ARG + 1];
    return on_switch(task_u32(prev, TASK_PID_OFFSET), task_u32(prev, TASK_TGID_OFFSET), task_dead(prev),
                     task_u32(next, TASK_PID_OFFSET));
}
#elif SWITCH_KPROBE
/* finish_task_switch(prev) runs on next, after the switch: `current` is next. bcc's only way. */
int on_finish_task_switch(struct pt_regs *ctx)
{
    void *prev = (void *)PT_REGS_PARM1(ctx);
    u32 next_tid = (u32)bpf_get_current_pid_tgid();
    return on_switch(task_u32(prev, TASK_PID_OFFSET), task_u32(prev, TASK_TGID_OFFSET), task_dead(prev), next_tid);
}
#endif
