/* fileslower: synchronous file reads and writes slower than a threshold, one record each, with
 * the name of the file (tools/fileslower/README.md says what is traced where, and why).
 *
 * Configuration, as #defines of numbers (tools/fileslower/program.ts):
 *   HOOK_TRACEPOINTS  1: syscalls:sys_enter_X/sys_exit_X, with TP_<SYSCALL> 1 for each X hooked
 *   HOOK_RAW          1: raw tracepoints sys_enter/sys_exit; NR_<SYSCALL> the numbers (-1: none)
 *                     and REGS_ARG0_OFFSET, where struct pt_regs keeps the first argument (the fd)
 *   HOOK_KPROBES      1: kprobes and kretprobes on vfs_read/vfs_write (bcc's hooks)
 *   MIN_NS            report calls that took at least this long
 *   FILTER_PID/TARGET_PID   -p: this process only, checked at the entry
 *   ALL_FILES         -a: not only regular files (sockets, FIFOs, devices, ...)
 *   TASK_FILES_OFFSET, FILES_FDT_OFFSET, FDTABLE_MAX_FDS_OFFSET, FDTABLE_FD_OFFSET   the fd walk
 *                     (bpfkit/fd.h), for the syscall hooks, which see an fd and not a file
 *   FILE_DENTRY_OFFSET, FILE_INODE_OFFSET, INODE_MODE_OFFSET, DENTRY_NAME_LEN_OFFSET,
 *   DENTRY_NAME_OFFSET    file.f_path.dentry, file.f_inode, inode.i_mode, dentry.d_name.{len,name}
 *   MAX_PENDING       calls in progress that can be timed at once
 *   USE_RINGBUF/RINGBUF_PAGES   the events channel (bpfkit/events.h)
 *
 * Cost per call: one lookup at the entry and one at the exit, in an LRU hash keyed by thread id
 * whose entry each thread keeps and rewrites in place (time, fd), its time zeroed at the exit.
 * Inserting and deleting an entry per call cost about twice as much on the bench's pread loop; the
 * LRU lets the entries of threads that are gone make room for new ones. Only a call at or over
 * MIN_NS goes on: the fd walk to its file, the file checks, the name and one record.
 */
#if HOOK_KPROBES
#include <uapi/linux/ptrace.h>
#endif

/* Calls, by SYS_* index: even ones read, odd ones write (the record's direction is index & 1). */
#define SYS_READ 0
#define SYS_WRITE 1
#define SYS_PREAD64 2
#define SYS_PWRITE64 3
#define SYS_READV 4
#define SYS_WRITEV 5
#define SYS_PREADV 6
#define SYS_PWRITEV 7
#define SYS_PREADV2 8
#define SYS_PWRITEV2 9
#define SYS_VFS_READ 10
#define SYS_VFS_WRITE 11

#define NAME_SIZE 256      /* NAME_MAX and its NUL */
#define S_IFMT_BITS 0170000
#define S_IFREG_BITS 0100000

struct slow_io {
    u64 ts;          /* bpf_ktime_get_ns() at the exit: CLOCK_MONOTONIC */
    u64 delta_ns;
    s64 bytes;       /* the call's return value: bytes read or written */
    u32 pid;         /* tgid */
    u32 tid;
    s32 fd;          /* -1 where the hook sees a file, not an fd (kprobes) */
    u32 name_len;    /* dentry.d_name.len: the whole name's length */
    u16 syscall;     /* SYS_* */
    u16 mode;        /* inode.i_mode */
    u32 pad;
    char comm[16];
    char name[NAME_SIZE];
};

/* A thread's call in progress, by thread id; ts 0 between calls. */
struct pending_io {
    u64 ts;
    u64 file;        /* kprobes: the struct file *; else 0 */
    s32 fd;
    u32 syscall;
};
BPF_TABLE("lru_hash", u32, struct pending_io, pending, MAX_PENDING);
/* Calls not timed because no entry could be made for them. */
BPF_PERCPU_ARRAY(unstashed, u64, 1);

#define BPFKIT_EVENT struct slow_io
#include "bpfkit/events.h"
#if !HOOK_KPROBES
#include "bpfkit/fd.h"
#endif

static __always_inline const void *read_ptr(const void *base, unsigned long offset)
{
    const void *value = 0;
    if (base)
        bpf_probe_read_kernel(&value, sizeof(value), (const char *)base + offset);
    return value;
}

static __always_inline int rw_entry(u32 syscall, s32 fd, u64 file)
{
    u64 id = bpf_get_current_pid_tgid();
#if FILTER_PID
    if ((id >> 32) != TARGET_PID)
        return 0;
#endif
    u32 tid = id;
    struct pending_io *q = pending.lookup(&tid);
    if (q) {
        q->ts = bpf_ktime_get_ns();
        q->file = file;
        q->fd = fd;
        q->syscall = syscall;
        return 0;
    }
    struct pending_io p = { .ts = bpf_ktime_get_ns(), .file = file, .fd = fd, .syscall = syscall };
    if (pending.update(&tid, &p) != 0)
        unstashed.increment(0);
    return 0;
}

static __always_inline int rw_exit(void *ctx, long ret)
{
    u32 tid = bpf_get_current_pid_tgid();
    struct pending_io *p = pending.lookup(&tid);
    if (!p || !p->ts)
        return 0;
    u64 now = bpf_ktime_get_ns();
    u64 delta = now - p->ts;
    s32 fd = p->fd;
    u32 syscall = p->syscall;
#if HOOK_KPROBES
    const void *file = (const void *)p->file;
#endif
    p->ts = 0;
    /* A failed call moved no bytes: it is no slow I/O (README.md, "Differences from bcc"). */
    if (delta < MIN_NS || ret < 0)
        return 0;
#if !HOOK_KPROBES
    /* Looked up at the exit, and only for slow calls: the entry stays two helper calls cheap. */
    const void *file = bpfkit_current_fd_file(fd);
#endif
    if (!file)
        return 0;
    const void *dentry = read_ptr(file, FILE_DENTRY_OFFSET);
    u32 name_len = 0;
    bpf_probe_read_kernel(&name_len, sizeof(name_len), (const char *)dentry + DENTRY_NAME_LEN_OFFSET);
    /* As bcc: I/O lacking a file name (pipes, anonymous files) is not reported, even with -a. */
    if (!dentry || name_len == 0)
        return 0;
    u16 mode = 0;
    bpf_probe_read_kernel(&mode, sizeof(mode), (const char *)read_ptr(file, FILE_INODE_OFFSET) + INODE_MODE_OFFSET);
#if !ALL_FILES
    if ((mode & S_IFMT_BITS) != S_IFREG_BITS)
        return 0;
#endif
    struct slow_io *ev = bpfkit_event_reserve();
    if (!ev)
        return 0;
    u64 id = bpf_get_current_pid_tgid();
    ev->ts = now;
    ev->delta_ns = delta;
    ev->bytes = ret;
    ev->pid = id >> 32;
    ev->tid = id;
    ev->fd = fd;
    ev->name_len = name_len;
    ev->syscall = syscall;
    ev->mode = mode;
    ev->pad = 0;
    bpf_get_current_comm(ev->comm, sizeof(ev->comm));
    if (bpf_probe_read_kernel_str(ev->name, sizeof(ev->name), read_ptr(dentry, DENTRY_NAME_OFFSET)) < 0)
        ev->name[0] = 0;
    bpfkit_event_submit(ctx, ev);
    return 0;
}

#if HOOK_TRACEPOINTS
#if TP_PREADV2 || TP_PWRITEV2
/* Their tracepoints' flags field, in the struct bcc writes from the tracepoint's format; no header
 * of a program declares it (the kernel's is an int: include/uapi/linux/fs.h __kernel_rwf_t). */
typedef int rwf_t;
#endif
#if TP_READ
TRACEPOINT_PROBE(syscalls, sys_enter_read) { return rw_entry(SYS_READ, args->fd, 0); }
TRACEPOINT_PROBE(syscalls, sys_exit_read) { return rw_exit(args, args->ret); }
#endif
#if TP_WRITE
TRACEPOINT_PROBE(syscalls, sys_enter_write) { return rw_entry(SYS_WRITE, args->fd, 0); }
TRACEPOINT_PROBE(syscalls, sys_exit_write) { return rw_exit(args, args->ret); }
#endif
#if TP_PREAD64
TRACEPOINT_PROBE(syscalls, sys_enter_pread64) { return rw_entry(SYS_PREAD64, args->fd, 0); }
TRACEPOINT_PROBE(syscalls, sys_exit_pread64) { return rw_exit(args, args->ret); }
#endif
#if TP_PWRITE64
TRACEPOINT_PROBE(syscalls, sys_enter_pwrite64) { return rw_entry(SYS_PWRITE64, args->fd, 0); }
TRACEPOINT_PROBE(syscalls, sys_exit_pwrite64) { return rw_exit(args, args->ret); }
#endif
#if TP_READV
TRACEPOINT_PROBE(syscalls, sys_enter_readv) { return rw_entry(SYS_READV, args->fd, 0); }
TRACEPOINT_PROBE(syscalls, sys_exit_readv) { return rw_exit(args, args->ret); }
#endif
#if TP_WRITEV
TRACEPOINT_PROBE(syscalls, sys_enter_writev) { return rw_entry(SYS_WRITEV, args->fd, 0); }
TRACEPOINT_PROBE(syscalls, sys_exit_writev) { return rw_exit(args, args->ret); }
#endif
#if TP_PREADV
TRACEPOINT_PROBE(syscalls, sys_enter_preadv) { return rw_entry(SYS_PREADV, args->fd, 0); }
TRACEPOINT_PROBE(syscalls, sys_exit_preadv) { return rw_exit(args, args->ret); }
#endif
#if TP_PWRITEV
TRACEPOINT_PROBE(syscalls, sys_enter_pwritev) { return rw_entry(SYS_PWRITEV, args->fd, 0); }
TRACEPOINT_PROBE(syscalls, sys_exit_pwritev) { return rw_exit(args, args->ret); }
#endif
#if TP_PREADV2
TRACEPOINT_PROBE(syscalls, sys_enter_preadv2) { return rw_entry(SYS_PREADV2, args->fd, 0); }
TRACEPOINT_PROBE(syscalls, sys_exit_preadv2) { return rw_exit(args, args->ret); }
#endif
#if TP_PWRITEV2
TRACEPOINT_PROBE(syscalls, sys_enter_pwritev2) { return rw_entry(SYS_PWRITEV2, args->fd, 0); }
TRACEPOINT_PROBE(syscalls, sys_exit_pwritev2) { return rw_exit(args, args->ret); }
#endif
#endif /* HOOK_TRACEPOINTS */

#if HOOK_RAW
/* The SYS_* index of a syscall number, or -1 for the calls not traced. */
static __always_inline int syscall_index(long nr)
{
    if (nr == NR_READ) return SYS_READ;
    if (nr == NR_WRITE) return SYS_WRITE;
    if (nr == NR_PREAD64) return SYS_PREAD64;
    if (nr == NR_PWRITE64) return SYS_PWRITE64;
    if (nr == NR_READV) return SYS_READV;
    if (nr == NR_WRITEV) return SYS_WRITEV;
    if (nr == NR_PREADV) return SYS_PREADV;
    if (nr == NR_PWRITEV) return SYS_PWRITEV;
    if (nr == NR_PREADV2) return SYS_PREADV2;
    if (nr == NR_PWRITEV2) return SYS_PWRITEV2;
    return -1;
}

RAW_TRACEPOINT_PROBE(sys_enter)
{
    /* args: (struct pt_regs *regs, long id); an absent syscall's NR_* is -1, which no call has */
    long nr = ctx->args[1];
    if (nr < 0)
        return 0;
    int syscall = syscall_index(nr);
    if (syscall < 0)
        return 0;
    long fd = -1;
    bpf_probe_read_kernel(&fd, sizeof(fd), (const char *)ctx->args[0] + REGS_ARG0_OFFSET);
    return rw_entry(syscall, fd, 0);
}

RAW_TRACEPOINT_PROBE(sys_exit)
{
    /* args: (struct pt_regs *regs, long ret); only a thread with an entry in `pending` is in one
     * of the calls traced (each thread is in one syscall at a time) */
    return rw_exit(ctx, ctx->args[1]);
}
#endif /* HOOK_RAW */

#if HOOK_KPROBES
/* vfs_read(struct file *file, char __user *buf, size_t count, loff_t *pos), and vfs_write alike */
int vfs_read_entry(struct pt_regs *ctx) { return rw_entry(SYS_VFS_READ, -1, PT_REGS_PARM1(ctx)); }
int vfs_write_entry(struct pt_regs *ctx) { return rw_entry(SYS_VFS_WRITE, -1, PT_REGS_PARM1(ctx)); }
int vfs_rw_return(struct pt_regs *ctx) { return rw_exit(ctx, PT_REGS_RC(ctx)); }
#endif
