/* runqlen: the run queue length of each CPU, sampled by a timer on every CPU.
 * What it counts and why: tools/runqlen/README.md; the choices: tools/runqlen/program.ts.
 *
 * Configuration (prepended by tools/runqlen/program.ts as #defines from validated numbers):
 *   MAX_SLOTS             histogram slots; the last one also counts every longer queue
 *   TASK_SE_OFFSET        task_struct.se, the task's CFS scheduling entity (embedded)
 *   SE_CFS_RQ_OFFSET      sched_entity.cfs_rq, the CFS queue the entity is (or would be) queued on
 *   HOST                  -H: count the whole CPU's queue (rq.nr_running, every scheduling class)
 *   CFS_RQ_NR_OFFSET      without -H: cfs_rq.nr_queued (6.13+) or cfs_rq.nr_running (before)
 *   CFS_RQ_RQ_OFFSET, RQ_NR_RUNNING_OFFSET   with -H: cfs_rq.rq and rq.nr_running
 * Offsets come from the running kernel's BTF: the cfs_rq layout is private to kernel/sched/ and
 * no header libbcc compiles with declares it (bcc declares its first fields by hand).
 */

/* Slot n counts the samples that saw n tasks waiting; summed over CPUs unless read per CPU.
 * A per-CPU array: each CPU's timer writes only its own copy, so no atomic operation is needed
 * and the per-CPU histograms (-C) come for free. User space never clears it: it subtracts the
 * previous reading, so no sample is lost between a read and a clear. */
BPF_PERCPU_ARRAY(dist, u64, MAX_SLOTS);

static __always_inline const char *read_ptr(const char *base, unsigned long offset)
{
    const char *value = 0;
    bpf_probe_read_kernel(&value, sizeof(value), base + offset);
    return value;
}

int do_perf_event(void *ctx)
{
    const char *task = (const char *)bpf_get_current_task();
    const char *cfs_rq = read_ptr(task, TASK_SE_OFFSET + SE_CFS_RQ_OFFSET);
    u32 len = 0;

#if HOST
    const char *rq = read_ptr(cfs_rq, CFS_RQ_RQ_OFFSET);
    bpf_probe_read_kernel(&len, sizeof(len), rq + RQ_NR_RUNNING_OFFSET);
#else
    bpf_probe_read_kernel(&len, sizeof(len), cfs_rq + CFS_RQ_NR_OFFSET);
#endif
    /* Both counts include the task on the CPU when it belongs to the queue: what waits is one
     * fewer. An idle CPU's queue is empty (the idle task is on no queue), so 0 stays 0. */
    if (len > 0)
        len--;

    u32 slot = len < MAX_SLOTS - 1 ? len : MAX_SLOTS - 1;
    u64 *count = dist.lookup(&slot);
    if (count)
        (*count)++;
    return 0;
}
