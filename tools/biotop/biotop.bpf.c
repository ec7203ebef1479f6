/* biotop: block I/O summed per process, direction and disk, drained by the tool each interval.
 * What it traces and why: tools/biotop/README.md; the choices: tools/biotop/program.ts and
 * lib/block/requests.ts (the shared block-request core, bpf/include/bpfkit/block_requests.h).
 *
 * Configuration (prepended by tools/biotop/program.ts as #defines from validated numbers):
 *   FILTER_PID     -p: only I/O created by this process (0: every process)
 *   KEY_BY_PID     1: rows per process as bcc's; 0 (metrics alone): per command, pid 0, so that the
 *                  never-drained table holds one row per command, disk and direction, not per PID
 *   MAX_ENTRIES    rows the counts table holds per interval (full: counted in `dropped`)
 *   BLOCK_*        the core's probe choices and request offsets (see the header)
 */

/* bcc's info_t: the row an I/O is added to. */
struct biotop_key {
    u32 pid;
    u32 rwflag;   /* 1: a write; 0: anything else, as bcc's D column */
    u32 major;
    u32 minor;
    char comm[16];
};

struct biotop_val {
    u64 bytes;
    u64 ns;       /* issue -> completion, summed exactly (bcc sums truncated microseconds) */
    u64 io;
};

BPF_HASH(counts, struct biotop_key, struct biotop_val, MAX_ENTRIES);
/* I/Os not counted because the counts table was full. */
BPF_ARRAY(dropped, u64, 1);

#include "bpfkit/block_requests.h"

/* The operation is the low byte of cmd_flags since 4.10 (REQ_OP_BITS 8), REQ_OP_WRITE 1; on
 * classic tracepoints the letter after an optional 'F' (preflush), as lib/block/flags.ts reads it. */
static __always_inline u32 biotop_is_write(const struct bpfkit_io *io)
{
#if BLOCK_MATCH_BY_REQUEST
    return (io->cmd_flags & 0xff) == 1;
#else
    return io->rwbs[0] == 'W' || (io->rwbs[0] == 'F' && io->rwbs[1] == 'W');
#endif
}

static __always_inline void bpfkit_io_done(void *ctx, const struct bpfkit_io *io, u64 done_ns, int error)
{
    if (FILTER_PID && io->tgid != FILTER_PID)
        return;
    struct biotop_key key = {};
    key.pid = KEY_BY_PID ? io->tgid : 0;
    key.rwflag = biotop_is_write(io);
    key.major = io->dev >> 20;
    key.minor = io->dev & ((1U << 20) - 1);
    __builtin_memcpy(key.comm, io->comm, sizeof(key.comm));

    struct biotop_val zero = {};
    struct biotop_val *val = counts.lookup_or_try_init(&key, &zero);
    if (!val) {
        int first = 0;
        u64 *n = dropped.lookup(&first);
        if (n)
            lock_xadd(n, 1);
        return;
    }
    /* Completions on several CPUs may add to one row at once. */
    lock_xadd(&val->bytes, io->bytes);
    lock_xadd(&val->ns, done_ns - io->issued_ns);
    lock_xadd(&val->io, 1);
}
