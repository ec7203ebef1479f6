/* biolatency: block I/O latency as log2 histograms, per disk or per flag set if asked.
 * What it traces and why: tools/biolatency/README.md; the choices: tools/biolatency/program.ts.
 *
 * Configuration (prepended by tools/biolatency/program.ts as #defines from validated numbers):
 *   MATCH_BY_REQUEST   1: keys are request pointers; 0: (dev, sector) from classic tracepoints
 *   QUEUED             -Q: start at the queued probe, keep that time through issue and requeue
 *   NS_PER_UNIT        1000 (usecs), 1000000 (-m, msecs) or 1 (the exporter's nanoseconds)
 *   GROUP_BY_DISK      -D: a histogram per disk
 *   GROUP_BY_FLAGS     -F: a histogram per set of request flags (neither: one histogram)
 *   FILTER_DEV, TARGET_DEV   -d: only this disk (kernel dev_t, major << 20 | minor)
 *   EXTENSION          -e, and for metrics (_sum): also sum latencies and counts per group
 *   HIST_ENTRIES, GROUP_ENTRIES   map sizes: every (group, slot) pair gets its own entry
 *   FLAGS_MASK         -F: the cmd_flags bits the names describe
 *   <POINT>_<VARIANT>  one boolean per way to trace each point, at most one set per point:
 *                      ISSUE_, DONE_   RAW_TP, TRACEPOINT, KPROBE
 *                      QUEUED_         RAW_TP, TRACEPOINT_IO_START, TRACEPOINT_RQ_INSERT, KPROBE
 *                      REQUEUE_, MERGE_   RAW_TP, TRACEPOINT
 *   <POINT>_ARG        with <POINT>_RAW_TP: the raw tracepoint argument that is the request
 *   RQ_*_OFFSET, Q_DISK_OFFSET, DISK_*_OFFSET   from the running kernel's BTF (never from the
 *                      compile-time headers, which may be another kernel's)
 *   RWBS_*             -F on classic tracepoints: flag values for the rwbs letters
 */

#if ISSUE_KPROBE || QUEUED_KPROBE || DONE_KPROBE
#include <uapi/linux/ptrace.h>
#endif

/* A request in flight: its address (stable from queue to completion, whatever merges do to its
 * sector), or, where only classic tracepoints exist, its disk and first sector as bcc keys it. */
struct start_key {
    u64 id;
    u64 sector;
};

struct start_val {
    u64 ts;
    u32 dev;
    u32 flags;
    u32 requeued;
    u32 _pad;
};

/* One histogram bucket of one disk or flag set: bcc keeps all of them in 64 entries in total and
 * drops buckets once several disks are busy; here every pair has room. */
struct hist_key {
    u64 group;
    u64 slot;
};

struct ext_val {
    u64 total;
    u64 count;
};

BPF_HASH(start, struct start_key, struct start_val, 10240);
BPF_HASH(dist, struct hist_key, u64, HIST_ENTRIES);
#if EXTENSION
BPF_HASH(ext, u64, struct ext_val, GROUP_ENTRIES);
#endif

#include "bpfkit/misses.h"

static __always_inline int wanted(u32 dev)
{
#if FILTER_DEV
    return dev == TARGET_DEV;
#else
    return 1;
#endif
}

static __always_inline void remember(struct start_key *key, u32 dev, u32 flags)
{
    struct start_val val = { .ts = bpf_ktime_get_ns(), .dev = dev, .flags = flags };
    if (start.update(key, &val) != 0)
        count_miss(MISS_START_FULL);
}

/* -Q: the request entered the OS's queue (or was queued again after a requeue). */
static __always_inline int io_queued(struct start_key *key, u32 dev, u32 flags)
{
    struct start_val *val = start.lookup(key);
    if (val && val->requeued) {
        /* Re-inserted after a requeue: the I/O has waited since it was first queued. */
        val->requeued = 0;
        return 0;
    }
    if (wanted(dev))
        remember(key, dev, flags);
    return 0;
}

/* The request went to the device driver. */
static __always_inline int io_issued(struct start_key *key, u32 dev, u32 flags)
{
#if QUEUED
    /* Keep the queued time; requests that were never seen queued (driver-internal ones) start here. */
    struct start_val *val = start.lookup(key);
    if (val) {
        val->requeued = 0;
        return 0;
    }
#endif
    /* Without -Q a re-issue after a requeue restarts the device time, as bcc's blk_mq_start_request does. */
    if (wanted(dev))
        remember(key, dev, flags);
    return 0;
}

/* The driver gave the request back to be issued again later. */
static __always_inline int io_requeued(struct start_key *key)
{
#if QUEUED
    struct start_val *val = start.lookup(key);
    if (val)
        val->requeued = 1;
#else
    start.delete(key);
#endif
    return 0;
}

/* -Q: the request was merged into another before issue and will never complete by itself. */
static __always_inline int io_merged(struct start_key *key)
{
    start.delete(key);
    return 0;
}

static __always_inline int io_done(struct start_key *key)
{
    struct start_val *val = start.lookup(key);
    if (!val)
        return 0;   /* started before tracing began, filtered out, or a later partial completion */
    u64 delta = bpf_ktime_get_ns() - val->ts;
#if GROUP_BY_DISK
    u64 group = val->dev;
#elif GROUP_BY_FLAGS
    u64 group = val->flags;
#else
    u64 group = 0;
#endif
    start.delete(key);
    if ((s64)delta < 0)
        return 0;
    delta /= NS_PER_UNIT;

    struct hist_key hkey = { .group = group, .slot = bpf_log2l(delta) };
    u64 zero = 0;
    u64 *n = dist.lookup_or_try_init(&hkey, &zero);
    if (!n) {
        count_miss(MISS_HIST_FULL);
        return 0;
    }
    lock_xadd(n, 1);
#if EXTENSION
    struct ext_val ezero = {};
    struct ext_val *e = ext.lookup_or_try_init(&group, &ezero);
    if (e) {
        lock_xadd(&e->total, delta);
        lock_xadd(&e->count, 1);
    }
#endif
    return 0;
}

#if MATCH_BY_REQUEST
/* ---- probes that receive the request itself (raw tracepoints, kprobes) ---- */

static __always_inline u32 request_dev(u64 rq)
{
#if GROUP_BY_DISK || FILTER_DEV
    /* disk_devt(rq->q->disk), as the block tracepoints compute their dev field */
    void *q = 0, *disk = 0;
    int major = 0, minor = 0;
    bpf_probe_read_kernel(&q, sizeof(q), (void *)(rq + RQ_Q_OFFSET));
    bpf_probe_read_kernel(&disk, sizeof(disk), (char *)q + Q_DISK_OFFSET);
    if (!disk)
        return 0;
    bpf_probe_read_kernel(&major, sizeof(major), (char *)disk + DISK_MAJOR_OFFSET);
    bpf_probe_read_kernel(&minor, sizeof(minor), (char *)disk + DISK_FIRST_MINOR_OFFSET);
    return ((u32)major << 20) | (u32)minor;
#else
    return 0;
#endif
}

static __always_inline u32 request_flags(u64 rq)
{
#if GROUP_BY_FLAGS
    u32 flags = 0;
    bpf_probe_read_kernel(&flags, sizeof(flags), (void *)(rq + RQ_CMD_FLAGS_OFFSET));
    return flags & FLAGS_MASK;
#else
    return 0;
#endif
}

static __always_inline int request_queued(u64 rq)
{
    struct start_key key = { .id = rq };
    return io_queued(&key, request_dev(rq), request_flags(rq));
}

static __always_inline int request_issued(u64 rq)
{
    struct start_key key = { .id = rq };
    return io_issued(&key, request_dev(rq), request_flags(rq));
}

static __always_inline int request_requeued(u64 rq)
{
    struct start_key key = { .id = rq };
    return io_requeued(&key);
}

static __always_inline int request_merged(u64 rq)
{
    struct start_key key = { .id = rq };
    return io_merged(&key);
}

/* nr_bytes < bytes left: a partial completion (the kernel traces each part); the I/O is done
 * only at the last one. Without the offset every request ends at its first completion event. */
static __always_inline int request_done(u64 rq, u64 nr_bytes, int has_bytes)
{
#ifdef RQ_DATA_LEN_OFFSET
    if (has_bytes) {
        u32 left = 0;
        bpf_probe_read_kernel(&left, sizeof(left), (void *)(rq + RQ_DATA_LEN_OFFSET));
        if ((u32)nr_bytes < left)
            return 0;
    }
#endif
    struct start_key key = { .id = rq };
    return io_done(&key);
}

#if ISSUE_RAW_TP
int on_issue(struct bpf_raw_tracepoint_args *ctx) { return request_issued(ctx->args[ISSUE_ARG]); }
#elif ISSUE_KPROBE
int on_issue(struct pt_regs *ctx) { return request_issued(PT_REGS_PARM1(ctx)); }
#endif

#if QUEUED_RAW_TP
int on_queued(struct bpf_raw_tracepoint_args *ctx) { return request_queued(ctx->args[QUEUED_ARG]); }
#elif QUEUED_KPROBE
int on_queued(struct pt_regs *ctx) { return request_queued(PT_REGS_PARM1(ctx)); }
#endif

#if REQUEUE_RAW_TP
int on_requeue(struct bpf_raw_tracepoint_args *ctx) { return request_requeued(ctx->args[REQUEUE_ARG]); }
#endif

#if MERGE_RAW_TP
int on_merge(struct bpf_raw_tracepoint_args *ctx) { return request_merged(ctx->args[MERGE_ARG]); }
#endif

#if DONE_RAW_TP
/* block_rq_complete(rq, error, nr_bytes) */
int on_done(struct bpf_raw_tracepoint_args *ctx) { return request_done(ctx->args[DONE_ARG], ctx->args[DONE_ARG + 2], 1); }
#elif DONE_KPROBE
int on_done(struct pt_regs *ctx) { return request_done(PT_REGS_PARM1(ctx), 0, 0); }
#endif

#else
/* ---- classic tracepoints: (dev, sector) and the rwbs string ---- */

/* The flag bits rwbs shows (see the kernel's blk_fill_rwbs): [F]{W|R|D|DE|F|N}[F][A][S][M]. */
static __always_inline u32 rwbs_flags(const char *field)
{
#if GROUP_BY_FLAGS
    /* The context may only be read at constant offsets: parse a copy on the stack. */
    char rwbs[8];
    __builtin_memcpy(rwbs, field, sizeof(rwbs));
    u32 flags = RWBS_OP_OTHER;
    int i = 0;
    /* A leading F before an operation letter is a preflush, which bcc does not name. */
    if (rwbs[0] == 'F' && rwbs[1] != 0 && rwbs[1] != 'F' && rwbs[1] != 'A' && rwbs[1] != 'S' && rwbs[1] != 'M')
        i = 1;
    char op = i ? rwbs[1] : rwbs[0];
    char op2 = i ? rwbs[2] : rwbs[1];
    if (op == 'R') flags = RWBS_OP_READ;
    else if (op == 'W') flags = RWBS_OP_WRITE;
    else if (op == 'F') flags = RWBS_OP_FLUSH;
    else if (op == 'D' && op2 == 'E') { flags = RWBS_OP_SECURE_ERASE; i++; }
    else if (op == 'D') flags = RWBS_OP_DISCARD;
    i++;
#pragma unroll
    for (int j = 1; j < 8; j++) {
        if (j < i)
            continue;
        char c = rwbs[j];
        if (c == 0)
            break;
        if (c == 'F') flags |= RWBS_FUA;
        else if (c == 'A') flags |= RWBS_RAHEAD;
        else if (c == 'S') flags |= RWBS_SYNC;
        else if (c == 'M') flags |= RWBS_META;
    }
    return flags & FLAGS_MASK;
#else
    return 0;
#endif
}

#define DEV_SECTOR_KEY(args) { .id = (args)->dev, .sector = (args)->sector }

#if ISSUE_TRACEPOINT
TRACEPOINT_PROBE(block, block_rq_issue)
{
    struct start_key key = DEV_SECTOR_KEY(args);
    return io_issued(&key, args->dev, rwbs_flags(args->rwbs));
}
#endif

#if QUEUED_TRACEPOINT_IO_START
TRACEPOINT_PROBE(block, block_io_start)
{
    struct start_key key = DEV_SECTOR_KEY(args);
    return io_queued(&key, args->dev, rwbs_flags(args->rwbs));
}
#elif QUEUED_TRACEPOINT_RQ_INSERT
TRACEPOINT_PROBE(block, block_rq_insert)
{
    struct start_key key = DEV_SECTOR_KEY(args);
    return io_queued(&key, args->dev, rwbs_flags(args->rwbs));
}
#endif

#if REQUEUE_TRACEPOINT
TRACEPOINT_PROBE(block, block_rq_requeue)
{
    struct start_key key = DEV_SECTOR_KEY(args);
    return io_requeued(&key);
}
#endif

#if MERGE_TRACEPOINT
TRACEPOINT_PROBE(block, block_rq_merge)
{
    struct start_key key = DEV_SECTOR_KEY(args);
    return io_merged(&key);
}
#endif

#if DONE_TRACEPOINT
TRACEPOINT_PROBE(block, block_rq_complete)
{
    struct start_key key = DEV_SECTOR_KEY(args);
    return io_done(&key);
}
#endif

#endif /* MATCH_BY_REQUEST */
