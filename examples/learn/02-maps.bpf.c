/* Step 2's program (step 10 exports the same map): per process, how many sendmsg() and recvmsg()
 * system calls it made and how many bytes they moved. Four syscall tracepoints share one hash map;
 * user space reads the map whenever it likes, while the program keeps adding to it. */

struct stats {
    u64 sendmsg;      /* calls, counted on entry: failed ones too */
    u64 recvmsg;
    u64 bytes_sent;   /* the return values of the calls that succeeded, counted on exit */
    u64 bytes_recv;
    char comm[16];    /* the process's name when it was first seen */
};

BPF_HASH(stats, u32, struct stats, 10240);   /* key: the process ID (tgid) */

/* This process's entry, created on its first call. NULL only when the map is full. */
static __always_inline struct stats *current_stats(void)
{
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    struct stats *s = stats.lookup(&pid);
    if (s)
        return s;
    struct stats zero = {};
    bpf_get_current_comm(&zero.comm, sizeof(zero.comm));
    return stats.lookup_or_try_init(&pid, &zero);
}

/* Atomic adds: two threads of one process can be in the same entry at once, on two CPUs. */
TRACEPOINT_PROBE(syscalls, sys_enter_sendmsg)
{
    struct stats *s = current_stats();
    if (s)
        __sync_fetch_and_add(&s->sendmsg, 1);
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_recvmsg)
{
    struct stats *s = current_stats();
    if (s)
        __sync_fetch_and_add(&s->recvmsg, 1);
    return 0;
}

/* A failed call returns -errno: it moved no bytes. */
TRACEPOINT_PROBE(syscalls, sys_exit_sendmsg)
{
    struct stats *s = args->ret > 0 ? current_stats() : 0;
    if (s)
        __sync_fetch_and_add(&s->bytes_sent, args->ret);
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_exit_recvmsg)
{
    struct stats *s = args->ret > 0 ? current_stats() : 0;
    if (s)
        __sync_fetch_and_add(&s->bytes_recv, args->ret);
    return 0;
}
