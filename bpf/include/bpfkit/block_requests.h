/* A block request's life, from creation to completion, for the tools that report per I/O or per
 * process (biosnoop, biotop, bitesize): who created it (pid, comm), when it was created, issued to
 * the driver and completed, and its disk, first sector, size and operation. The tool defines
 * bpfkit_io_done(), called once per completed request; this header owns the probes (on_block_*)
 * and the in-flight map. lib/block/requests.ts chooses the probes and passes the #defines:
 *
 *   BLOCK_MATCH_BY_REQUEST  1: probes receive the struct request * (raw tracepoints, kprobes) and
 *                           requests are keyed by address, which holds from creation to completion
 *                           whatever merges do to sectors; 0: classic tracepoints, keyed by
 *                           (dev, sector) as bcc keys them, the rest read from their fields
 *   BLOCK_<POINT>_<KIND>    one per probe point, at most one set: POINT is CREATED, ISSUE, DONE,
 *                           REQUEUE, MERGE; KIND is RAW_TP, TRACEPOINT, KPROBE, and for CREATED
 *                           TRACEPOINT_IO_START or TRACEPOINT_RQ_INSERT
 *   BLOCK_<POINT>_ARG       with RAW_TP: which raw tracepoint argument is the request
 *   BLOCK_RQ_*_OFFSET ...   request fields at offsets from the running kernel's BTF
 *   BLOCK_INFLIGHT_ENTRIES  requests in flight at once (default 10240)
 *
 * Why the creation point: a request is issued, and completes, in whatever context the block
 * layer is in then (a kworker, an interrupt, another process's plug flush); only where it is
 * created (blk_account_io_start, the block_io_start tracepoint since 6.5) is `current` the task
 * that asked for the I/O. Where no creation probe exists the task current at issue is taken. */
#ifndef BPFKIT_BLOCK_REQUESTS_H
#define BPFKIT_BLOCK_REQUESTS_H

#if BLOCK_CREATED_KPROBE || BLOCK_ISSUE_KPROBE || BLOCK_DONE_KPROBE
#include <uapi/linux/ptrace.h>
#endif

#ifndef BLOCK_INFLIGHT_ENTRIES
#define BLOCK_INFLIGHT_ENTRIES 10240
#endif

struct bpfkit_io {
    u64 created_ns;   /* when it was created (or queued); 0 if not seen */
    u64 issued_ns;    /* when it went to the driver (the last time, after a requeue); 0 if not seen */
    u64 cgroup_id;    /* the owner's cgroup v2 id (bpf_get_current_cgroup_id), for cgroup filters */
    u64 sector;       /* first sector at issue */
    u32 bytes;        /* size at issue */
    u32 dev;          /* the disk: major << 20 | minor, as the block tracepoints report it */
    u32 tgid;         /* the process that created it */
    u32 tid;
    u32 cmd_flags;    /* BLOCK_MATCH_BY_REQUEST: the request's cmd_flags (operation and modifiers) */
    u32 requeued;     /* given back by the driver: the next creation event is a re-insert */
    char rwbs[8];     /* classic tracepoints: the operation as letters ("WS", "R", "FWS") */
    char comm[16];
};

/* In flight: by request address (id) or by (dev as id, sector). */
struct bpfkit_io_key {
    u64 id;
    u64 sector;
};

/* An LRU hash: a request whose completion is never seen (freed without one, keyed by a sector a
 * front merge changed) leaves its entry behind, and a plain hash that filled up with those would
 * refuse every new request from then on, silently. Here they make room, oldest first. */
BPF_TABLE("lru_hash", struct bpfkit_io_key, struct bpfkit_io, bpfkit_inflight, BLOCK_INFLIGHT_ENTRIES);

/* The tool's: one completed request. `error` is 0 on success; otherwise the block status
 * (blk_status_t, raw tracepoints) or a negative errno (classic tracepoints): treat it as failed. */
static __always_inline void bpfkit_io_done(void *ctx, const struct bpfkit_io *io, u64 done_ns, int error);

static __always_inline void bpfkit_io_owner(struct bpfkit_io *io)
{
    u64 id = bpf_get_current_pid_tgid();
    io->tgid = id >> 32;
    io->tid = (u32)id;
    bpf_get_current_comm(&io->comm, sizeof(io->comm));
    io->cgroup_id = bpf_get_current_cgroup_id();
}

/* Created (or, with block_rq_insert as the creation point, inserted): the owner is `current`. */
static __always_inline void bpfkit_io_created(struct bpfkit_io_key *key)
{
    struct bpfkit_io *seen = bpfkit_inflight.lookup(key);
    if (seen && seen->requeued) {
        /* Inserted again after a requeue, from a kworker: the request keeps its owner. */
        seen->requeued = 0;
        return;
    }
    struct bpfkit_io io = { .created_ns = bpf_ktime_get_ns() };
    bpfkit_io_owner(&io);
    bpfkit_inflight.update(key, &io);
}

/* Issued to the driver: the entry, made here if the creation was not seen. */
static __always_inline struct bpfkit_io *bpfkit_io_issued(struct bpfkit_io_key *key)
{
    struct bpfkit_io *io = bpfkit_inflight.lookup(key);
    if (!io) {
        struct bpfkit_io fresh = {};
        bpfkit_io_owner(&fresh);
        bpfkit_inflight.update(key, &fresh);
        io = bpfkit_inflight.lookup(key);
        if (!io)
            return 0;
    }
    io->issued_ns = bpf_ktime_get_ns();
    io->requeued = 0;
    return io;
}

static __always_inline void bpfkit_io_requeued(struct bpfkit_io_key *key)
{
    struct bpfkit_io *io = bpfkit_inflight.lookup(key);
    if (io)
        io->requeued = 1;
}

static __always_inline void bpfkit_io_finished(void *ctx, struct bpfkit_io_key *key, int error)
{
    struct bpfkit_io *io = bpfkit_inflight.lookup(key);
    if (!io)
        return;   /* created before tracing began */
    if (io->issued_ns)
        bpfkit_io_done(ctx, io, bpf_ktime_get_ns(), error);
    bpfkit_inflight.delete(key);
}

#if BLOCK_MATCH_BY_REQUEST
/* ---- probes that receive the request (raw tracepoints, kprobes) ---- */

static __always_inline u64 bpfkit_rq_read(u64 rq, unsigned long offset, int size)
{
    u64 value = 0;
    bpf_probe_read_kernel(&value, size, (void *)(rq + offset));
    return value;
}

/* disk_devt(rq->q->disk) (rq->rq_disk before 5.17), as the block tracepoints compute dev. */
static __always_inline u32 bpfkit_rq_dev(u64 rq)
{
#ifdef BLOCK_RQ_DISK_OFFSET
    u64 disk = bpfkit_rq_read(rq, BLOCK_RQ_DISK_OFFSET, 8);
#else
    u64 q = bpfkit_rq_read(rq, BLOCK_RQ_Q_OFFSET, 8);
    u64 disk = q ? bpfkit_rq_read(q, BLOCK_Q_DISK_OFFSET, 8) : 0;
#endif
    if (!disk)
        return 0;
    u32 major = bpfkit_rq_read(disk, BLOCK_DISK_MAJOR_OFFSET, 4);
    u32 minor = bpfkit_rq_read(disk, BLOCK_DISK_FIRST_MINOR_OFFSET, 4);
    return (major << 20) | minor;
}

static __always_inline int bpfkit_rq_created(u64 rq)
{
    struct bpfkit_io_key key = { .id = rq };
    bpfkit_io_created(&key);
    return 0;
}

static __always_inline int bpfkit_rq_issued(u64 rq)
{
    struct bpfkit_io_key key = { .id = rq };
    struct bpfkit_io *io = bpfkit_io_issued(&key);
    if (!io)
        return 0;
    io->sector = bpfkit_rq_read(rq, BLOCK_RQ_SECTOR_OFFSET, 8);
    io->bytes = bpfkit_rq_read(rq, BLOCK_RQ_DATA_LEN_OFFSET, 4);
    io->cmd_flags = bpfkit_rq_read(rq, BLOCK_RQ_CMD_FLAGS_OFFSET, 4);
    io->dev = bpfkit_rq_dev(rq);
    return 0;
}

static __always_inline int bpfkit_rq_requeued(u64 rq)
{
    struct bpfkit_io_key key = { .id = rq };
    bpfkit_io_requeued(&key);
    return 0;
}

/* Merged into another request before issue: it will never complete by itself. */
static __always_inline int bpfkit_rq_merged(u64 rq)
{
    struct bpfkit_io_key key = { .id = rq };
    bpfkit_inflight.delete(&key);
    return 0;
}

/* nr_bytes below what is left: a partial completion (the kernel traces each part); the request
 * is done at its last part. Without nr_bytes (kprobes) at its accounting, which is once. */
static __always_inline int bpfkit_rq_completed(void *ctx, u64 rq, int error, u64 nr_bytes, int has_bytes)
{
    if (has_bytes && (u32)nr_bytes < (u32)bpfkit_rq_read(rq, BLOCK_RQ_DATA_LEN_OFFSET, 4))
        return 0;
    struct bpfkit_io_key key = { .id = rq };
    bpfkit_io_finished(ctx, &key, error);
    return 0;
}

#if BLOCK_CREATED_RAW_TP
int on_block_created(struct bpf_raw_tracepoint_args *ctx) { return bpfkit_rq_created(ctx->args[BLOCK_CREATED_ARG]); }
#elif BLOCK_CREATED_KPROBE
int on_block_created(struct pt_regs *ctx) { return bpfkit_rq_created(PT_REGS_PARM1(ctx)); }
#endif

#if BLOCK_ISSUE_RAW_TP
int on_block_issue(struct bpf_raw_tracepoint_args *ctx) { return bpfkit_rq_issued(ctx->args[BLOCK_ISSUE_ARG]); }
#elif BLOCK_ISSUE_KPROBE
int on_block_issue(struct pt_regs *ctx) { return bpfkit_rq_issued(PT_REGS_PARM1(ctx)); }
#endif

#if BLOCK_REQUEUE_RAW_TP
int on_block_requeue(struct bpf_raw_tracepoint_args *ctx) { return bpfkit_rq_requeued(ctx->args[BLOCK_REQUEUE_ARG]); }
#endif

#if BLOCK_MERGE_RAW_TP
int on_block_merge(struct bpf_raw_tracepoint_args *ctx) { return bpfkit_rq_merged(ctx->args[BLOCK_MERGE_ARG]); }
#endif

#if BLOCK_DONE_RAW_TP
/* block_rq_complete(rq, error, nr_bytes) */
int on_block_done(struct bpf_raw_tracepoint_args *ctx)
{
    return bpfkit_rq_completed(ctx, ctx->args[BLOCK_DONE_ARG], (int)(u8)ctx->args[BLOCK_DONE_ARG + 1], ctx->args[BLOCK_DONE_ARG + 2], 1);
}
#elif BLOCK_DONE_KPROBE
int on_block_done(struct pt_regs *ctx) { return bpfkit_rq_completed(ctx, PT_REGS_PARM1(ctx), 0, 0, 0); }
#endif

#else
/* ---- classic tracepoints: (dev, sector) and the fields they carry ---- */

#define BPFKIT_DEV_SECTOR_KEY(args) { .id = (args)->dev, .sector = (args)->sector }

#if BLOCK_CREATED_TRACEPOINT_IO_START
TRACEPOINT_PROBE(block, block_io_start)
{
    struct bpfkit_io_key key = BPFKIT_DEV_SECTOR_KEY(args);
    bpfkit_io_created(&key);
    return 0;
}
#elif BLOCK_CREATED_TRACEPOINT_RQ_INSERT
TRACEPOINT_PROBE(block, block_rq_insert)
{
    struct bpfkit_io_key key = BPFKIT_DEV_SECTOR_KEY(args);
    bpfkit_io_created(&key);
    return 0;
}
#endif

#if BLOCK_ISSUE_TRACEPOINT
TRACEPOINT_PROBE(block, block_rq_issue)
{
    struct bpfkit_io_key key = BPFKIT_DEV_SECTOR_KEY(args);
    struct bpfkit_io *io = bpfkit_io_issued(&key);
    if (!io)
        return 0;
    io->sector = args->sector;
    io->bytes = args->bytes;
    io->dev = args->dev;
    __builtin_memcpy(io->rwbs, args->rwbs, sizeof(io->rwbs));
    return 0;
}
#endif

#if BLOCK_REQUEUE_TRACEPOINT
TRACEPOINT_PROBE(block, block_rq_requeue)
{
    struct bpfkit_io_key key = BPFKIT_DEV_SECTOR_KEY(args);
    bpfkit_io_requeued(&key);
    return 0;
}
#endif

#if BLOCK_MERGE_TRACEPOINT
TRACEPOINT_PROBE(block, block_rq_merge)
{
    struct bpfkit_io_key key = BPFKIT_DEV_SECTOR_KEY(args);
    bpfkit_inflight.delete(&key);
    return 0;
}
#endif

#if BLOCK_DONE_TRACEPOINT
TRACEPOINT_PROBE(block, block_rq_complete)
{
    struct bpfkit_io_key key = BPFKIT_DEV_SECTOR_KEY(args);
    bpfkit_io_finished(args, &key, args->error);
    return 0;
}
#endif

#endif /* BLOCK_MATCH_BY_REQUEST */

#endif /* BPFKIT_BLOCK_REQUESTS_H */
