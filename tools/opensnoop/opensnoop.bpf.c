/* opensnoop: one record per open(), openat() and openat2(), built at the syscall's exit
 * (tools/opensnoop/README.md says what is traced where, and why).
 *
 * Configuration, as #defines of numbers (tools/opensnoop/program.ts):
 *   OPEN_TRACEPOINT, OPENAT_TRACEPOINT, OPENAT2_TRACEPOINT   syscalls:sys_{enter,exit}_* hook it
 *   OPEN_KPROBE, OPENAT_KPROBE, OPENAT2_KPROBE               or kprobes on the syscall function
 *   EMIT_RECORDS      send one record per open (printing, --json); needs the entry stash
 *   COUNT_OPENS       count opens by (comm, errno) in `counts` (--metrics, the exporter)
 *   FAILED_ONLY       -x: successes are neither sent nor counted
 *   FILTER_PID/TARGET_PID, FILTER_TID/TARGET_TID, FILTER_UID/TARGET_UID   checked in the kernel
 *   FILTER_FLAGS/FLAGS_MASK/FLAGS_RDONLY   -f: (flags & FLAGS_MASK), or O_RDONLY's access mode
 *   FILTER_CGROUP_MAP, FILTER_MNTNS_MAP    bcc's container maps (bpfkit/containers.h)
 *   FULL_PATH         -F: a relative path's base directory (cwd or the dirfd's), walked here
 *   TASK_FS_OFFSET ... MOUNT_MNT_OFFSET    struct offsets for FULL_PATH, from the kernel's BTF
 *   USE_RINGBUF/RINGBUF_PAGES              the events channel (bpfkit/events.h)
 *
 * Cost per open: at entry the filters, then one hash update (the stash, keyed by thread id);
 * at exit one lookup, one record, one delete. A filtered-out thread costs the filter checks
 * only, at both ends. Counting alone (no -f) needs no entry at all.
 */
#define USE_KPROBES (OPEN_KPROBE || OPENAT_KPROBE || OPENAT2_KPROBE)
#define NEED_ENTRY (EMIT_RECORDS || FILTER_FLAGS)

#if USE_KPROBES
#include <uapi/linux/ptrace.h>
#endif

#define AT_FDCWD_VALUE -100
/* PATH_MAX: a path the kernel accepts is read whole (bcc stops at NAME_MAX). */
#define PATH_READ 4096
#define NAME_READ 256
#define MAX_DEPTH 48
#define DATA_SIZE 8192

/* which syscall */
#define SYS_OPEN 0
#define SYS_OPENAT 1
#define SYS_OPENAT2 2

/* status bits */
#define PATH_UNREADABLE 1   /* the path could not be read from the caller's memory */
#define BASE_CUT 2          /* -F: the base directory is deeper than MAX_DEPTH or the record */
#define BASE_UNKNOWN 4      /* -F: the directory fd was not open at the exit */

struct open_event {
    u64 ts;          /* bpf_ktime_get_ns() at the exit: CLOCK_MONOTONIC */
    u32 pid;         /* tgid */
    u32 tid;
    u32 uid;
    s32 ret;         /* the fd, or -errno */
    u32 flags;       /* open flags as the caller passed them (openat2: how->flags) */
    u32 mode;
    s32 dirfd;       /* AT_FDCWD (-100) for open() */
    u16 syscall;     /* SYS_* */
    u16 depth;       /* -F: base directory names after the path, innermost first */
    u32 data_len;    /* bytes used in data[] */
    u32 status;
    char comm[16];
    /* path\0, then with -F and a relative path: name\0 name\0 ... of the base directory */
    char data[DATA_SIZE];
};

#if NEED_ENTRY
/* Between a syscall's entry and its exit, by thread id. */
struct pending_open {
    const char *filename;
    u32 flags;
    u32 mode;
    s32 dirfd;
    u32 syscall;
};
BPF_HASH(pending, u32, struct pending_open, 10240);
#endif

#if EMIT_RECORDS
/* Too big for the stack: each CPU builds its record here, and only the bytes used are sent.
 * Its value type is also the layout test/kernel/opensnoop.test.ts checks events.ts against. */
BPF_PERCPU_ARRAY(scratch, struct open_event, 1);
#include "bpfkit/events.h"
#include "bpfkit/user_str.h"
#endif

#if COUNT_OPENS
struct count_key {
    char comm[16];
    u32 err;         /* 0 for a success */
};
BPF_HASH(counts, struct count_key, u64, 10240);
/* opens not counted because `counts` was full */
BPF_PERCPU_ARRAY(count_lost, u64, 1);
#endif

#include "bpfkit/containers.h"

/* The checks that need no map: thread, process, user. */
static __always_inline bool id_allowed(void)
{
#if FILTER_PID || FILTER_TID
    u64 id = bpf_get_current_pid_tgid();
#endif
#if FILTER_TID
    if ((u32)id != TARGET_TID)
        return false;
#endif
#if FILTER_PID
    if ((id >> 32) != TARGET_PID)
        return false;
#endif
#if FILTER_UID
    if ((u32)bpf_get_current_uid_gid() != TARGET_UID)
        return false;
#endif
    return true;
}

static __always_inline bool flags_allowed(u32 flags)
{
#if FILTER_FLAGS
    if (flags & FLAGS_MASK)
        return true;
    /* O_RDONLY is 0: it names an access mode, not a bit */
    if (FLAGS_RDONLY && (flags & 3) == 0)
        return true;
    return false;
#else
    return true;
#endif
}

#if COUNT_OPENS
static __always_inline void count_open(long ret)
{
    struct count_key key = {};
    bpf_get_current_comm(key.comm, sizeof(key.comm));
    key.err = ret < 0 ? -ret : 0;
    u64 *n = counts.lookup(&key);
    if (n) {
        __sync_fetch_and_add(n, 1);
        return;
    }
    u64 one = 1;
    if (counts.update(&key, &one) != 0)
        count_lost.increment(0);
}
#endif

#if NEED_ENTRY
static __always_inline int open_entry(u32 syscall, int dirfd, const char *filename, u32 flags, u32 mode)
{
    if (!id_allowed() || !flags_allowed(flags) || !bpfkit_container_allowed())
        return 0;
    u32 tid = bpf_get_current_pid_tgid();
    struct pending_open p = { .filename = filename, .flags = flags, .mode = mode, .dirfd = dirfd, .syscall = syscall };
    pending.update(&tid, &p);
    return 0;
}
#endif

#if FULL_PATH && EMIT_RECORDS
static __always_inline const void *read_ptr(const void *base, long offset)
{
    const void *value = 0;
    bpf_probe_read_kernel(&value, sizeof(value), (const char *)base + offset);
    return value;
}

/* The names of the directory a relative path starts from (the cwd, or dirfd's directory), from
 * the innermost up to the root of the caller's mount namespace, crossing mount points. The
 * offset is kept in the record, not a variable: reloaded, it looks the same on every path and
 * the verifier can prune them (execsnoop.bpf.c says more). */
static __always_inline void append_base(struct open_event *ev, int dirfd)
{
    const void *task = (const void *)bpf_get_current_task();
    const void *vfsmnt;
    const void *dentry;
    if (dirfd == AT_FDCWD_VALUE) {
        const void *fs = read_ptr(task, TASK_FS_OFFSET);
        vfsmnt = read_ptr(fs, FS_PWD_MNT_OFFSET);
        dentry = read_ptr(fs, FS_PWD_DENTRY_OFFSET);
    } else {
        const void *files = read_ptr(task, TASK_FILES_OFFSET);
        const void *fdt = read_ptr(files, FILES_FDT_OFFSET);
        u32 max_fds = 0;
        bpf_probe_read_kernel(&max_fds, sizeof(max_fds), (const char *)fdt + FDT_MAX_FDS_OFFSET);
        const void *file = 0;
        if (dirfd >= 0 && (u32)dirfd < max_fds)
            file = read_ptr(read_ptr(fdt, FDT_FD_OFFSET), (long)dirfd * sizeof(void *));
        if (!file) {
            ev->status |= BASE_UNKNOWN;
            return;
        }
        vfsmnt = read_ptr(file, FILE_PATH_MNT_OFFSET);
        dentry = read_ptr(file, FILE_PATH_DENTRY_OFFSET);
    }
    const char *mount = (const char *)vfsmnt - MOUNT_MNT_OFFSET;
    for (int i = 0; i < MAX_DEPTH; i++) {
        const void *root = read_ptr(vfsmnt, VFSMOUNT_ROOT_OFFSET);
        const void *parent = read_ptr(dentry, DENTRY_PARENT_OFFSET);
        if (dentry == root || dentry == parent) {
            const char *up = read_ptr(mount, MOUNT_PARENT_OFFSET);
            if (up == mount || !up)
                return;   /* the root */
            dentry = read_ptr(mount, MOUNT_MOUNTPOINT_OFFSET);
            mount = up;
            vfsmnt = mount + MOUNT_MNT_OFFSET;
            continue;
        }
        u32 at = ev->data_len;
        if (at > DATA_SIZE - NAME_READ) {
            ev->status |= BASE_CUT;
            return;
        }
        long n = bpf_probe_read_kernel_str(&ev->data[at], NAME_READ, read_ptr(dentry, DENTRY_NAME_OFFSET));
        if (n <= 0)
            return;
        ev->data_len = at + n;
        ev->depth++;
        dentry = parent;
    }
    ev->status |= BASE_CUT;
}
#endif

static __always_inline int open_exit(void *ctx, long ret)
{
#if NEED_ENTRY
    /* A filtered-out thread has no stash: these checks spare it the lookup. */
    if (!id_allowed())
        return 0;
    u32 tid = bpf_get_current_pid_tgid();
    struct pending_open *p = pending.lookup(&tid);
    if (!p)
        return 0;
#else
    if (!id_allowed() || !bpfkit_container_allowed())
        return 0;
#endif
#if FAILED_ONLY
    if (ret >= 0) {
#if NEED_ENTRY
        pending.delete(&tid);
#endif
        return 0;
    }
#endif
#if COUNT_OPENS
    count_open(ret);
#endif
#if EMIT_RECORDS
    int zero = 0;
    struct open_event *ev = scratch.lookup(&zero);
    if (!ev) {
        pending.delete(&tid);
        return 0;
    }
    u64 id = bpf_get_current_pid_tgid();
    ev->ts = bpf_ktime_get_ns();
    ev->pid = id >> 32;
    ev->tid = id;
    ev->uid = bpf_get_current_uid_gid();
    ev->ret = ret;
    ev->flags = p->flags;
    ev->mode = p->mode;
    ev->dirfd = p->dirfd;
    ev->syscall = p->syscall;
    ev->depth = 0;
    ev->status = 0;
    bpf_get_current_comm(ev->comm, sizeof(ev->comm));
    /* Read at the exit: the kernel has just copied the name, so its page is present (at the
     * entry a name never touched before reads as nothing). */
    long n = bpfkit_read_user_str(ev->data, PATH_READ, p->filename);
    if (n < 0) {
        ev->data[0] = 0;
        n = 1;
        ev->status |= PATH_UNREADABLE;
    }
    ev->data_len = n;
#if FULL_PATH
    if (ev->data[0] != '/' && !(ev->status & PATH_UNREADABLE))
        append_base(ev, p->dirfd);
#endif
    pending.delete(&tid);
    u32 size = ev->data_len;
    if (size > DATA_SIZE)
        size = DATA_SIZE;
    bpfkit_event_output(ctx, ev, size + offsetof(struct open_event, data));
#elif NEED_ENTRY
    pending.delete(&tid);
#endif
    return 0;
}

#if OPEN_TRACEPOINT
#if NEED_ENTRY
TRACEPOINT_PROBE(syscalls, sys_enter_open)
{
    return open_entry(SYS_OPEN, AT_FDCWD_VALUE, args->filename, args->flags, args->mode);
}
#endif

TRACEPOINT_PROBE(syscalls, sys_exit_open)
{
    return open_exit(args, args->ret);
}
#endif

#if OPENAT_TRACEPOINT
#if NEED_ENTRY
TRACEPOINT_PROBE(syscalls, sys_enter_openat)
{
    return open_entry(SYS_OPENAT, args->dfd, args->filename, args->flags, args->mode);
}
#endif

TRACEPOINT_PROBE(syscalls, sys_exit_openat)
{
    return open_exit(args, args->ret);
}
#endif

#if NEED_ENTRY && (OPENAT2_TRACEPOINT || OPENAT2_KPROBE)
/* struct open_how begins with u64 flags, u64 mode (include/uapi/linux/openat2.h). */
static __always_inline int openat2_entry(int dirfd, const char *filename, const void *how)
{
    u64 head[2] = {};
    bpf_probe_read_user(head, sizeof(head), how);
    return open_entry(SYS_OPENAT2, dirfd, filename, head[0], head[1]);
}
#endif

#if OPENAT2_TRACEPOINT
#if NEED_ENTRY
TRACEPOINT_PROBE(syscalls, sys_enter_openat2)
{
    return openat2_entry(args->dfd, args->filename, (const void *)args->how);
}
#endif

TRACEPOINT_PROBE(syscalls, sys_exit_openat2)
{
    return open_exit(args, args->ret);
}
#endif

/* bcc rewrites syscall__* parameters to read the caller's registers through the syscall
 * wrapper's pt_regs (CONFIG_ARCH_HAS_SYSCALL_WRAPPER), as its own opensnoop relies on. */
#if OPEN_KPROBE && NEED_ENTRY
int syscall__open(struct pt_regs *ctx, const char __user *filename, int flags, u32 mode)
{
    return open_entry(SYS_OPEN, AT_FDCWD_VALUE, filename, flags, mode);
}
#endif

#if OPENAT_KPROBE && NEED_ENTRY
int syscall__openat(struct pt_regs *ctx, int dirfd, const char __user *filename, int flags, u32 mode)
{
    return open_entry(SYS_OPENAT, dirfd, filename, flags, mode);
}
#endif

#if OPENAT2_KPROBE && NEED_ENTRY
int syscall__openat2(struct pt_regs *ctx, int dirfd, const char __user *filename, const void __user *how)
{
    return openat2_entry(dirfd, filename, how);
}
#endif

#if USE_KPROBES
int open_return(struct pt_regs *ctx)
{
    return open_exit(ctx, PT_REGS_RC(ctx));
}
#endif
