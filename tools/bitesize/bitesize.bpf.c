/* bitesize: block I/O sizes as log2 histograms per process name, and (for metrics) per disk and
 * operation. What it traces and why: tools/bitesize/README.md; the choices: tools/bitesize/program.ts.
 * The request's life (creation, issue, completion) is followed by bpf/include/bpfkit/block_requests.h,
 * which calls bpfkit_io_done() below once per completed request.
 *
 * Configuration (prepended by tools/bitesize/program.ts as #defines from validated numbers):
 *   PER_COMM           the terminal's histograms: Kbytes slots per creating task's comm (bcc's)
 *   PER_DISK           metrics: byte slots per (disk, operation), with exact byte sums
 *   FILTER_DEV, TARGET_DEV   -d: only this disk (kernel dev_t, major << 20 | minor)
 *   FILTER_COMM        -c: only this comm; the name is in the comm_filter map, never in the C text
 *   HIST_ENTRIES, GROUP_ENTRIES   map sizes: every (group, slot) pair has its own entry
 *   BLOCK_*            the block-request core's probes and offsets (lib/block/requests.ts)
 */

struct comm_name {
    char name[16];
};

/* The terminal's histograms, as bcc keys them: the process name and the Kbytes slot. */
struct comm_slot {
    char name[16];
    u64 slot;
};

/* Metrics: a disk and the operation, as cmd_flags' low byte (raw tracepoints, kprobes) or the
 * classic tracepoints' rwbs letters; user space names it (lib/block/flags.ts ioDirection). */
struct disk_op {
    u32 dev;
    u32 op;
    char rwbs[8];
};

struct disk_slot {
    struct disk_op group;
    u64 slot;
};

struct size_sum {
    u64 bytes;
    u64 count;
};

#if FILTER_COMM
BPF_ARRAY(comm_filter, struct comm_name, 1);
#endif
#if PER_COMM
BPF_HASH(dist, struct comm_slot, u64, HIST_ENTRIES);
BPF_HASH(sums, struct comm_name, struct size_sum, GROUP_ENTRIES);
#endif
#if PER_DISK
BPF_HASH(disk_dist, struct disk_slot, u64, HIST_ENTRIES);
BPF_HASH(disk_sums, struct disk_op, struct size_sum, GROUP_ENTRIES);
#endif

#include "bpfkit/misses.h"
#include "bpfkit/block_requests.h"

static __always_inline int comm_wanted(const char *comm)
{
#if FILTER_COMM
    int zero = 0;
    struct comm_name *want = comm_filter.lookup(&zero);
    if (!want)
        return 0;
#pragma unroll
    for (int i = 0; i < 16; i++) {
        if (comm[i] != want->name[i])
            return 0;
        if (comm[i] == 0)
            break;
    }
#endif
    return 1;
}

static __always_inline void count_in(u64 *n)
{
    if (n)
        lock_xadd(n, 1);
    else
        count_miss(MISS_HIST_FULL);
}

static __always_inline void add_size(struct size_sum *s, u32 bytes)
{
    if (!s)
        return;
    lock_xadd(&s->bytes, bytes);
    lock_xadd(&s->count, 1);
}

static __always_inline void bpfkit_io_done(void *ctx, const struct bpfkit_io *io, u64 done_ns, int error)
{
#if FILTER_DEV
    if (io->dev != TARGET_DEV)
        return;
#endif
    if (!comm_wanted(io->comm))
        return;
    u64 zero = 0;
    struct size_sum none = {};
#if PER_COMM
    /* bcc's slot: bpf_log2l of whole Kbytes ("4 -> 7" holds 4 KiB to 7 KiB). */
    struct comm_slot ckey = { .slot = bpf_log2l(io->bytes / 1024) };
    __builtin_memcpy(ckey.name, io->comm, sizeof(ckey.name));
    count_in(dist.lookup_or_try_init(&ckey, &zero));
    struct comm_name cname = {};
    __builtin_memcpy(cname.name, io->comm, sizeof(cname.name));
    add_size(sums.lookup_or_try_init(&cname, &none), io->bytes);
#endif
#if PER_DISK
    /* Slot i holds sizes up to 2^i bytes, so le = 2^i is exact and a 4096-byte I/O is in le="4096". */
    struct disk_slot dkey = { .slot = io->bytes ? bpf_log2l(io->bytes - 1) : 0 };
    dkey.group.dev = io->dev;
#if BLOCK_MATCH_BY_REQUEST
    /* REQ_OP_MASK since 4.10: the operation only, so the flag bits make no new series. */
    dkey.group.op = io->cmd_flags & 0xff;
#else
    __builtin_memcpy(dkey.group.rwbs, io->rwbs, sizeof(dkey.group.rwbs));
#endif
    count_in(disk_dist.lookup_or_try_init(&dkey, &zero));
    add_size(disk_sums.lookup_or_try_init(&dkey.group, &none), io->bytes);
#endif
}
