/* The binding's cost per event, Node against bcc's Python module: one small event for each
 * getppid() call of one process (the target), through a ring buffer (USE_RINGBUF=1) or a perf
 * buffer. Everything else is filtered out in the kernel, so what user space pays is per event.
 * Submissions that found the buffer full are counted in `drops`, the same way for both kinds.
 * GETPPID_NR is this architecture's syscall number, passed as -D. */
struct event {
    u64 ts;
    u32 pid;
    u32 seq;
};

#if USE_RINGBUF
BPF_RINGBUF_OUTPUT(events, 2048);   /* 8 MiB: a whole burst fits */
#else
BPF_PERF_OUTPUT(events);            /* user space asks for 2048 pages per CPU */
#endif
BPF_ARRAY(target, u32, 1);
BPF_ARRAY(drops, u64, 1);

RAW_TRACEPOINT_PROBE(sys_enter)
{
    if (ctx->args[1] != GETPPID_NR)
        return 0;
    int zero = 0;
    u32 *target_pid = target.lookup(&zero);
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    if (!target_pid || *target_pid != pid)
        return 0;
    struct event e = { .ts = bpf_ktime_get_ns(), .pid = pid };
#if USE_RINGBUF
    int err = events.ringbuf_output(&e, sizeof(e), 0);
#else
    int err = events.perf_submit(ctx, &e, sizeof(e));
#endif
    if (err)
        drops.increment(zero);
    return 0;
}
