/* offcputime: time threads spend blocked off CPU, summed per thread and stack (tools/offcputime/README.md).
 *
 * A thread leaving the CPU is noted with the time and its stacks (walked there, since it is still
 * `current`); when it comes back, the time away is added to its (thread, stacks) total.
 *
 * #defines it takes (numbers only; tools/offcputime/program.ts computes them):
 *   HOOK_TP, HOOK_RAW_TP, HOOK_KPROBE   where switches are seen: exactly one is 1
 *   RAW_PREV_ARG, RAW_NEXT_ARG          the raw tracepoint's task arguments
 *   TASK_PID_OFFSET, TASK_TGID_OFFSET   struct task_struct fields from the running kernel's BTF
 *   TASK_FLAGS_OFFSET, TASK_STATE_OFFSET, TASK_STATE_LONG (`state` was a long before 5.14)
 *   FILTER_TGID/TARGET_TGID, FILTER_TID/TARGET_TID   -p / -t
 *   USER_THREADS_ONLY, KERNEL_THREADS_ONLY           -u / -k
 *   FILTER_STATE/TARGET_STATE           --state: 0 means runnable, else any of these bits
 *   MIN_BLOCK_US, MAX_BLOCK_US          -m / -M: blocks outside are not counted
 *   USER_STACKS, KERNEL_STACKS          -K / -U leave one out
 *   STACK_STORAGE_SIZE, COUNTS_ENTRIES, START_ENTRIES, NEW_TGID_ENTRIES   map sizes
 */
#if HOOK_TP + HOOK_RAW_TP + HOOK_KPROBE != 1
#error "exactly one HOOK_* must be 1"
#endif
#if HOOK_KPROBE
#include <uapi/linux/ptrace.h>
#endif

/* Our own names: the kernel headers, included on some paths, define the usual ones. */
#define PF_KTHREAD_ 0x00200000
/* The idle tasks all have pid 0, one per CPU: each is kept under a key no thread can have. */
#define IDLE_KEY_BASE 0xffff0000u

struct key_t {
    u32 pid;                /* the thread (bcc's pid) */
    u32 tgid;               /* its process */
    int user_stack_id;      /* in stack_traces; negative: none (-errno of bpf_get_stackid, or -1 when not asked) */
    int kernel_stack_id;
    char name[16];
};

struct start_t {
    u64 ts;                 /* bpf_ktime_get_ns() when it went off CPU */
    struct key_t key;       /* what its time adds to (the kprobe rung fills it when it comes back) */
};

BPF_HASH(counts, struct key_t, u64, COUNTS_ENTRIES);
/* LRU: a thread that exits never comes back, and its entry must not stay for ever. */
BPF_TABLE("lru_hash", u32, struct start_t, start, START_ENTRIES);
BPF_STACK_TRACE(stack_traces, STACK_STORAGE_SIZE);
/* Processes with a first count since user space last looked: it keeps their mappings while they
 * live, so that their user stacks are named even after they exit. */
BPF_HASH(new_tgids, u32, u8, NEW_TGID_ENTRIES);
/* [0] blocks not counted because `counts` was full; [1] negative durations (bcc's warning). */
BPF_ARRAY(dropped, u64, 2);

static __always_inline u32 thread_key(u32 tid)
{
    return tid ? tid : IDLE_KEY_BASE + bpf_get_smp_processor_id();
}

static __always_inline u32 read_u32(const void *base, unsigned long offset)
{
    u32 value = 0;
    bpf_probe_read_kernel(&value, sizeof(value), (const char *)base + offset);
    return value;
}

/* bcc's THREAD_FILTER and STATE_FILTER, on the task leaving the CPU. */
static __always_inline int allowed(u32 tid, u32 tgid, const void *task)
{
#if FILTER_TGID
    if (tgid != TARGET_TGID)
        return 0;
#endif
#if FILTER_TID
    if (tid != TARGET_TID)
        return 0;
#endif
#if USER_THREADS_ONLY || KERNEL_THREADS_ONLY
    u32 flags = read_u32(task, TASK_FLAGS_OFFSET);
#if USER_THREADS_ONLY
    if (flags & PF_KTHREAD_)
        return 0;
#else
    if (!(flags & PF_KTHREAD_))
        return 0;
#endif
#endif
#if FILTER_STATE
#if TASK_STATE_LONG
    long state = 0;
    bpf_probe_read_kernel(&state, sizeof(state), (const char *)task + TASK_STATE_OFFSET);
#else
    u32 state = read_u32(task, TASK_STATE_OFFSET);
#endif
#if TARGET_STATE == 0
    if (state != 0)
        return 0;
#else
    if (!(state & TARGET_STATE))
        return 0;
#endif
#endif
    return 1;
}

/* The current task's stacks and name, into key (ctx is the probe's: stacks of `current`). */
static __always_inline void current_stacks(void *ctx, struct key_t *key)
{
#if USER_STACKS
    key->user_stack_id = stack_traces.get_stackid(ctx, BPF_F_USER_STACK);
#else
    key->user_stack_id = -1;
#endif
#if KERNEL_STACKS
    key->kernel_stack_id = stack_traces.get_stackid(ctx, 0);
#else
    key->kernel_stack_id = -1;
#endif
    bpf_get_current_comm(&key->name, sizeof(key->name));
}

static __always_inline void add_block(struct key_t *key, u64 delta_us)
{
    u64 *total = counts.lookup(key);
    if (!total) {
        u64 zero = 0;
        if (counts.insert(key, &zero) == 0 && key->user_stack_id >= 0) {
            u32 tgid = key->tgid;
            u8 one = 1;
            new_tgids.insert(&tgid, &one);
        }
        total = counts.lookup(key);
        if (!total) {
            int full = 0;
            dropped.increment(full);
            return;
        }
    }
    __sync_fetch_and_add(total, delta_us);
}

/* The time since s->ts in microseconds, or -1 when it is not to be counted. */
static __always_inline s64 blocked_us(const struct start_t *s)
{
    u64 now = bpf_ktime_get_ns();
    if (now < s->ts) {
        int negative = 1;
        dropped.increment(negative);
        return -1;
    }
    u64 delta = (now - s->ts) / 1000;
    if (delta < MIN_BLOCK_US || delta > MAX_BLOCK_US)
        return -1;
    return delta;
}

#if HOOK_TP || HOOK_RAW_TP
/* `current` is prev, about to leave the CPU: its stacks are walked now. */
static __always_inline void going_off(void *ctx, const void *task)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = id, tgid = id >> 32;
    if (!allowed(tid, tgid, task))
        return;
    struct start_t s = {};
    s.key.pid = tid;
    s.key.tgid = tgid;
    current_stacks(ctx, &s.key);
    s.ts = bpf_ktime_get_ns();
    u32 k = thread_key(tid);
    start.update(&k, &s);
}

/* next is coming back: it went off through going_off() above, if it was to be traced. */
static __always_inline void coming_on(u32 tid)
{
    u32 k = thread_key(tid);
    struct start_t *s = start.lookup(&k);
    if (!s)
        return;
    s64 delta = blocked_us(s);
    if (delta >= 0) {
        struct key_t key = s->key;
        add_block(&key, delta);
    }
    start.delete(&k);
}
#endif

#if HOOK_TP
TRACEPOINT_PROBE(sched, sched_switch)
{
    going_off(args, (const void *)bpf_get_current_task());
    coming_on(args->next_pid);
    return 0;
}
#endif

#if HOOK_RAW_TP
RAW_TRACEPOINT_PROBE(sched_switch)
{
    const void *prev = (const void *)ctx->args[RAW_PREV_ARG];
    const void *next = (const void *)ctx->args[RAW_NEXT_ARG];
    going_off(ctx, prev);
    coming_on(read_u32(next, TASK_PID_OFFSET));
    return 0;
}
#endif

#if HOOK_KPROBE
/* bcc's way: finish_task_switch() runs in the next task, with prev as its argument. The stacks
 * are walked here, as the thread resumes, with finish_task_switch on top of its kernel stack. */
int oncpu(struct pt_regs *ctx, void *prev)
{
    u32 tid = read_u32(prev, TASK_PID_OFFSET);
    u32 tgid = read_u32(prev, TASK_TGID_OFFSET);
    if (allowed(tid, tgid, prev)) {
        struct start_t s = {};
        s.ts = bpf_ktime_get_ns();
        u32 k = thread_key(tid);
        start.update(&k, &s);
    }

    u64 id = bpf_get_current_pid_tgid();
    u32 k = thread_key((u32)id);
    struct start_t *s = start.lookup(&k);
    if (!s)
        return 0;
    s64 delta = blocked_us(s);
    start.delete(&k);
    if (delta < 0)
        return 0;
    struct key_t key = {};
    key.pid = id;
    key.tgid = id >> 32;
    current_stacks(ctx, &key);
    add_block(&key, delta);
    return 0;
}
#endif
