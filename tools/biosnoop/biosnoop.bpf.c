/* biosnoop: one record per completed block request, with the process that created it.
 * What it traces and why: tools/biosnoop/README.md; the choices: tools/biosnoop/program.ts and
 * lib/block/requests.ts. The requests' life (probes, in-flight map, owner) is the shared core,
 * bpf/include/bpfkit/block_requests.h; this file is what biosnoop does at each completion.
 *
 * Configuration (prepended by tools/biosnoop/program.ts as #defines from validated numbers):
 *   FILTER_DEV, TARGET_DEV   -d: only this disk (kernel dev_t, major << 20 | minor)
 *   PATTERN          -P: sequential or random against the end of the disk's previous request
 *   MIN_NS           -m: only requests whose latency (issue to completion) is at least this; 0: all
 *   USE_RINGBUF/RINGBUF_PAGES   the events channel (bpfkit/events.h)
 *   BLOCK_*          the core's (lib/block/requests.ts planBlockRequests)
 */

/* The record; tools/biosnoop/events.ts reads it at these offsets (IO_EVENT_OFFSETS). */
struct io_event {
    u64 ts;           /* completion, bpf_ktime_get_ns() */
    u64 lat_ns;       /* issue to completion */
    u64 que_ns;       /* creation to issue, with CREATION_SEEN */
    u64 sector;
    u32 bytes;
    u32 dev;
    u32 pid;          /* the creating process (without CREATION_SEEN: the task at issue) */
    u32 tid;
    u32 cmd_flags;    /* with HAS_CMD_FLAGS */
    s32 error;        /* the completion's block status: 0 = success */
    char rwbs[8];     /* without HAS_CMD_FLAGS: the classic tracepoints' rwbs */
    char comm[16];
    u8 pattern;       /* PATTERN_* */
    u8 flags;         /* CREATION_SEEN, HAS_CMD_FLAGS */
    u8 _pad[6];
};

#define PATTERN_UNKNOWN 0
#define PATTERN_SEQUENTIAL 1
#define PATTERN_RANDOM 2
#define CREATION_SEEN 1
#define HAS_CMD_FLAGS 2

#define BPFKIT_EVENT struct io_event
#include "bpfkit/events.h"

#if PATTERN
/* Per disk: the sector after its last completed request (bcc's last_sectors). */
BPF_HASH(last_sectors, u32, u64, 1024);
#endif

#include "bpfkit/block_requests.h"

static __always_inline void bpfkit_io_done(void *ctx, const struct bpfkit_io *io, u64 done_ns, int error)
{
#if FILTER_DEV
    if (io->dev != TARGET_DEV)
        return;
#endif
    u8 pattern = PATTERN_UNKNOWN;
#if PATTERN
    /* Before the latency filter: -m must not change what counts as the previous request. */
    u32 dev = io->dev;
    u64 *last = last_sectors.lookup(&dev);
    if (last)
        pattern = io->sector == *last ? PATTERN_SEQUENTIAL : PATTERN_RANDOM;
    u64 end = io->sector + io->bytes / 512;
    last_sectors.update(&dev, &end);
#endif
    u64 lat = done_ns - io->issued_ns;
    if ((s64)lat < 0)
        lat = 0;
#if MIN_NS
    if (lat < MIN_NS)
        return;
#endif
    struct io_event *ev = bpfkit_event_reserve();
    if (!ev)
        return;
    ev->ts = done_ns;
    ev->lat_ns = lat;
    ev->que_ns = io->created_ns && io->issued_ns > io->created_ns ? io->issued_ns - io->created_ns : 0;
    ev->sector = io->sector;
    ev->bytes = io->bytes;
    ev->dev = io->dev;
    ev->pid = io->tgid;
    ev->tid = io->tid;
    ev->cmd_flags = io->cmd_flags;
    ev->error = error;
    __builtin_memcpy(ev->rwbs, io->rwbs, sizeof(ev->rwbs));
    __builtin_memcpy(ev->comm, io->comm, sizeof(ev->comm));
    ev->pattern = pattern;
    ev->flags = (io->created_ns ? CREATION_SEEN : 0) | (BLOCK_MATCH_BY_REQUEST ? HAS_CMD_FLAGS : 0);
    __builtin_memset(ev->_pad, 0, sizeof(ev->_pad));
    bpfkit_event_submit(ctx, ev);
}
