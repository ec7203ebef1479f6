/* profile: on every sample of a perf event (a timer on each CPU), the task that was running there
 * is counted by its process, command and stacks, in the kernel. Only the distinct stacks and their
 * counts reach user space, once, at the end (tools/profile/README.md says what and why).
 *
 * Configuration, as #defines of numbers (tools/profile/program.ts):
 *   FILTER_PID, FILTER_TID, MAX_TARGETS   -p / -L: the tgids or tids put in `targets` before attaching
 *   INCLUDE_IDLE        -I: count the idle tasks (thread 0) too
 *   KERNEL_STACKS, USER_STACKS            -U / -K leave one out
 *   PER_THREAD          keep the thread in the key (-L with --json)
 *   STACK_STORAGE_SIZE  --stack-storage-size; COUNT_ENTRIES the counts map's size
 *   FILTER_CGROUP_MAP, FILTER_MNTNS_MAP   bcc's container filters (PIN_ID, offsets: bpfkit/containers.h)
 */
#include <uapi/linux/bpf_perf_event.h>
#include "bpfkit/containers.h"

struct key_t {
    u32 pid;              /* the process (tgid), as bcc's key */
    u32 tid;              /* the thread with PER_THREAD, else 0 */
    int user_stack_id;    /* an id in stack_traces, or -errno */
    int kernel_stack_id;
    char name[16];        /* TASK_COMM_LEN */
};

BPF_HASH(counts, struct key_t, u64, COUNT_ENTRIES);
BPF_STACK_TRACE(stack_traces, STACK_STORAGE_SIZE);
/* Samples not counted because the counts map was full. */
BPF_ARRAY(lost, u64, 1);

#if FILTER_PID || FILTER_TID
BPF_HASH(targets, u32, u8, MAX_TARGETS);
#endif

int do_perf_event(struct bpf_perf_event_data *ctx)
{
    /* A perf event's program runs on the sampled CPU, in the interrupt that cut into the task: the
     * current task is the one sampled (the idle task, thread 0, when the CPU had nothing to run). */
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32;
    u32 tid = id;

#if !INCLUDE_IDLE
    if (tid == 0)
        return 0;
#endif
#if FILTER_PID
    if (!targets.lookup(&tgid))
        return 0;
#elif FILTER_TID
    if (!targets.lookup(&tid))
        return 0;
#endif
    if (!bpfkit_container_allowed())
        return 0;

    struct key_t key = {.pid = tgid};
#if PER_THREAD
    key.tid = tid;
#endif
    bpf_get_current_comm(&key.name, sizeof(key.name));
    /* The stacks from the sample's registers. The kernel one starts at the interrupted
     * instruction already (bcc adds that address again, so its first frame shows twice). */
#if USER_STACKS
    key.user_stack_id = stack_traces.get_stackid(ctx, BPF_F_USER_STACK);
#else
    key.user_stack_id = -1;
#endif
#if KERNEL_STACKS
    key.kernel_stack_id = stack_traces.get_stackid(ctx, 0);
#else
    key.kernel_stack_id = -1;
#endif

    u64 *count = counts.lookup(&key);
    if (count) {
        __sync_fetch_and_add(count, 1);
        return 0;
    }
    u64 one = 1;
    if (counts.insert(&key, &one) == 0)
        return 0;
    /* Another CPU may have added the key meanwhile; else the map is full. */
    count = counts.lookup(&key);
    if (count) {
        __sync_fetch_and_add(count, 1);
    } else {
        int zero = 0;
        u64 *n = lost.lookup(&zero);
        if (n)
            __sync_fetch_and_add(n, 1);
    }
    return 0;
}
