/* bashreadline: one record per line bash's readline returns, from a uretprobe (a probe on the
 * function's return) in bash or in the libreadline it links (tools/bashreadline/README.md says
 * which function and file, and why).
 *
 * Configuration, as #defines of numbers (tools/bashreadline/program.ts):
 *   LINE_READ                  the most bytes of a line read (bcc reads 80)
 *   USE_RINGBUF/RINGBUF_PAGES  the events channel (bpfkit/events.h)
 *
 * No filter here: probing bash's own file already limits the probe to processes running bash,
 * and where the probe is in a shared libreadline, user space keeps bash's lines (by comm, as
 * bcc does). Lines come at typing speed, so sending the few others costs nothing measurable.
 */
#include <uapi/linux/ptrace.h>

/* line_event.flags */
#define LINE_TRUNCATED 1   /* the line is longer than LINE_READ bytes: only those are sent */
#define LINE_UNREADABLE 2  /* the returned pointer could not be read */

struct line_event {
    u64 ts;          /* bpf_ktime_get_ns() at the return: CLOCK_MONOTONIC */
    u32 pid;         /* tgid */
    u32 uid;
    u32 len;         /* bytes of the line in line[], without its NUL */
    u32 flags;
    char comm[16];
    char line[LINE_READ + 1];   /* the line and a NUL */
};

/* Too big for the 512-byte stack: each CPU builds its record here, and only the bytes used
 * are sent. Its value type is also the layout test/kernel/bashreadline.test.ts checks
 * events.ts against. */
BPF_PERCPU_ARRAY(scratch, struct line_event, 1);
#include "bpfkit/events.h"
#include "bpfkit/user_str.h"

int line_returned(struct pt_regs *ctx)
{
    const char *line = (const char *)PT_REGS_RC(ctx);
    /* NULL: end of input (Ctrl-D), not a line */
    if (!line)
        return 0;
    int zero = 0;
    struct line_event *ev = scratch.lookup(&zero);
    if (!ev)
        return 0;
    u64 id = bpf_get_current_pid_tgid();
    ev->ts = bpf_ktime_get_ns();
    ev->pid = id >> 32;
    ev->uid = bpf_get_current_uid_gid();
    ev->flags = 0;
    bpf_get_current_comm(ev->comm, sizeof(ev->comm));
    long n = bpfkit_read_user_str(ev->line, LINE_READ + 1, line);
    if (n < 0) {
        ev->line[0] = 0;
        n = 1;
        ev->flags |= LINE_UNREADABLE;
    } else if (n == LINE_READ + 1) {
        /* Full: the line has exactly LINE_READ bytes, or more. The byte after tells which. */
        char next = 0;
        bpf_probe_read_user(&next, 1, line + LINE_READ);
        if (next)
            ev->flags |= LINE_TRUNCATED;
    }
    u32 len = n - 1;
    if (len > LINE_READ)
        len = LINE_READ;
    ev->len = len;
    bpfkit_event_output(ctx, ev, offsetof(struct line_event, line) + len + 1);
    return 0;
}
