/* statsnoop: one record per stat()-family or access()-family call, sent at the syscall's exit
 * with its return value and the path it was asked about (tools/statsnoop/README.md says what is
 * traced where, and why).
 *
 * Configuration, as #defines of numbers (tools/statsnoop/program.ts):
 *   TRACED                 bit (1 << SC_x) for each syscall to trace (SC_* below)
 *   HOOK                   HOOK_SYSCALL_TP: syscalls:sys_enter_x / sys_exit_x of each syscall;
 *                          HOOK_RAW_SYSCALLS: raw_syscalls:sys_enter / sys_exit, by number;
 *                          HOOK_KPROBE: kprobes and kretprobes on the syscall functions
 *   NR_x                   with HOOK_RAW_SYSCALLS: the number of each traced syscall x
 *   FILTER_PID/TARGET_PID  -p: this process only (its tgid)
 *   FAILED_ONLY            -x: report failed calls only
 *   USE_RINGBUF/RINGBUF_PAGES   the events channel (bpfkit/events.h)
 */
#define HOOK_SYSCALL_TP 1
#define HOOK_RAW_SYSCALLS 2
#define HOOK_KPROBE 3

#if HOOK == HOOK_KPROBE
#include <uapi/linux/ptrace.h>
#endif
#include "bpfkit/events.h"

/* The syscalls, numbered as records name them: tools/statsnoop/syscalls.ts lists the same names
 * under the same numbers (test/unit/statsnoop.test.ts compares the two). Several exist only on
 * some architectures (stat64 and fstatat64 on 32-bit ones, newstat on x86 but not arm64). */
#define SC_STAT 1
#define SC_LSTAT 2
#define SC_NEWSTAT 3
#define SC_NEWLSTAT 4
#define SC_STAT64 5
#define SC_LSTAT64 6
#define SC_NEWFSTATAT 7
#define SC_FSTATAT64 8
#define SC_STATX 9
#define SC_STATFS 10
#define SC_STATFS64 11
#define SC_ACCESS 12
#define SC_FACCESSAT 13
#define SC_FACCESSAT2 14

#define TRACES(sc) ((TRACED >> (sc)) & 1)

/* The longest path the kernel accepts, with its NUL (PATH_MAX): paths are whole, not cut at
 * bcc's NAME_MAX (255). Records carry only the bytes used. */
#define PATH_SIZE 4096

struct stat_event {
    u64 ts;          /* bpf_ktime_get_ns(): CLOCK_MONOTONIC, like process.hrtime() */
    u32 pid;         /* tgid */
    u32 tid;
    s32 ret;         /* 0 (or statx's 0), or -errno */
    s32 dirfd;       /* the *at() calls' directory fd (AT_FDCWD: the cwd); 0 for the others */
    u32 flags;       /* AT_* flags of newfstatat, fstatat64, statx and faccessat2; else 0 */
    u32 mode;        /* the access calls' F_OK/R_OK/W_OK/X_OK; else 0 */
    u16 syscall;     /* SC_* */
    u16 path_len;    /* bytes in path[], its NUL included; 0 when the path could not be read */
    char comm[16];
    char path[PATH_SIZE];
};

/* Too big for the 512-byte stack: each CPU builds its record here. Its value type is also the
 * layout test/kernel/statsnoop.test.ts checks tools/statsnoop/events.ts's offsets against. */
BPF_PERCPU_ARRAY(scratch, struct stat_event, 1);

/* Between a syscall's entry and its exit, keyed by thread id: the arguments only, so that the
 * path is read at the exit, once the kernel itself has read it (the page is then present; at
 * entry a path in a page not yet touched cannot be read from BPF). LRU: a thread that never
 * returns must not keep a slot for ever. */
struct pending_stat {
    const char *path;
    s32 dirfd;
    u32 flags;
    u32 mode;
    u32 syscall;
};
BPF_TABLE("lru_hash", u32, struct pending_stat, pending, 10240);

static __always_inline int stat_entry(u32 sc, const char *path, s32 dirfd, u32 flags, u32 mode)
{
    u64 id = bpf_get_current_pid_tgid();
#if FILTER_PID
    if ((u32)(id >> 32) != TARGET_PID)
        return 0;
#endif
    u32 tid = id;
    struct pending_stat p = { .path = path, .dirfd = dirfd, .flags = flags, .mode = mode, .syscall = sc };
    pending.update(&tid, &p);
    return 0;
}

static __always_inline int stat_exit(void *ctx, long ret)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = id;
    struct pending_stat *p = pending.lookup(&tid);
    if (!p)
        return 0;
#if FAILED_ONLY
    if (ret >= 0) {
        pending.delete(&tid);
        return 0;
    }
#endif
    int zero = 0;
    struct stat_event *ev = scratch.lookup(&zero);
    if (!ev) {
        pending.delete(&tid);
        return 0;
    }
    ev->ts = bpf_ktime_get_ns();
    ev->pid = id >> 32;
    ev->tid = tid;
    ev->ret = ret;
    ev->dirfd = p->dirfd;
    ev->flags = p->flags;
    ev->mode = p->mode;
    ev->syscall = p->syscall;
    bpf_get_current_comm(ev->comm, sizeof(ev->comm));
    long n = bpf_probe_read_user_str(ev->path, PATH_SIZE, p->path);
    pending.delete(&tid);
    if (n < 0)
        n = 0;
    if (n > PATH_SIZE)
        n = PATH_SIZE;
    ev->path_len = n;
    bpfkit_event_output(ctx, ev, offsetof(struct stat_event, path) + n);
    return 0;
}

/* A syscall tracepoint's record, as tracefs describes every syscalls:sys_enter_* /
 * sys_exit_* event and raw_syscalls:sys_enter / sys_exit: the common header, the syscall
 * number, then each argument in an 8-byte slot (or the return value). Each program reads only
 * the slots its event has: the kernel refuses to attach one that reads past its event's end. */
struct syscall_enter_args {
    u64 common;
    long nr;         /* raw_syscalls' id (syscalls:* have an int and padding here, unread) */
    unsigned long args[6];
};

struct syscall_exit_args {
    u64 common;
    long nr;
    long ret;
};

#define ARG(i) (args->args[i])
#define PATH(i) ((const char *)ARG(i))

#if HOOK == HOOK_SYSCALL_TP
/* One small entry program per syscall, each knowing where its path is; one exit program for all. */
#if TRACES(SC_STAT)
int enter_stat(struct syscall_enter_args *args) { return stat_entry(SC_STAT, PATH(0), 0, 0, 0); }
#endif
#if TRACES(SC_LSTAT)
int enter_lstat(struct syscall_enter_args *args) { return stat_entry(SC_LSTAT, PATH(0), 0, 0, 0); }
#endif
#if TRACES(SC_NEWSTAT)
int enter_newstat(struct syscall_enter_args *args) { return stat_entry(SC_NEWSTAT, PATH(0), 0, 0, 0); }
#endif
#if TRACES(SC_NEWLSTAT)
int enter_newlstat(struct syscall_enter_args *args) { return stat_entry(SC_NEWLSTAT, PATH(0), 0, 0, 0); }
#endif
#if TRACES(SC_STAT64)
int enter_stat64(struct syscall_enter_args *args) { return stat_entry(SC_STAT64, PATH(0), 0, 0, 0); }
#endif
#if TRACES(SC_LSTAT64)
int enter_lstat64(struct syscall_enter_args *args) { return stat_entry(SC_LSTAT64, PATH(0), 0, 0, 0); }
#endif
#if TRACES(SC_NEWFSTATAT)
/* newfstatat(dfd, filename, statbuf, flag) */
int enter_newfstatat(struct syscall_enter_args *args) { return stat_entry(SC_NEWFSTATAT, PATH(1), ARG(0), ARG(3), 0); }
#endif
#if TRACES(SC_FSTATAT64)
/* fstatat64(dfd, filename, statbuf, flag) */
int enter_fstatat64(struct syscall_enter_args *args) { return stat_entry(SC_FSTATAT64, PATH(1), ARG(0), ARG(3), 0); }
#endif
#if TRACES(SC_STATX)
/* statx(dfd, filename, flags, mask, buffer) */
int enter_statx(struct syscall_enter_args *args) { return stat_entry(SC_STATX, PATH(1), ARG(0), ARG(2), 0); }
#endif
#if TRACES(SC_STATFS)
int enter_statfs(struct syscall_enter_args *args) { return stat_entry(SC_STATFS, PATH(0), 0, 0, 0); }
#endif
#if TRACES(SC_STATFS64)
int enter_statfs64(struct syscall_enter_args *args) { return stat_entry(SC_STATFS64, PATH(0), 0, 0, 0); }
#endif
#if TRACES(SC_ACCESS)
/* access(filename, mode) */
int enter_access(struct syscall_enter_args *args) { return stat_entry(SC_ACCESS, PATH(0), 0, 0, ARG(1)); }
#endif
#if TRACES(SC_FACCESSAT)
/* faccessat(dfd, filename, mode) */
int enter_faccessat(struct syscall_enter_args *args) { return stat_entry(SC_FACCESSAT, PATH(1), ARG(0), 0, ARG(2)); }
#endif
#if TRACES(SC_FACCESSAT2)
/* faccessat2(dfd, filename, mode, flags) */
int enter_faccessat2(struct syscall_enter_args *args) { return stat_entry(SC_FACCESSAT2, PATH(1), ARG(0), ARG(3), ARG(2)); }
#endif

int stat_return(struct syscall_exit_args *args)
{
    return stat_exit(args, args->ret);
}
#endif /* HOOK_SYSCALL_TP */

#if HOOK == HOOK_RAW_SYSCALLS
/* Every syscall of the machine passes here: the number picks the few traced. Used only where
 * the per-syscall tracepoints are missing (CONFIG_FTRACE_SYSCALLS off). */
int raw_enter(struct syscall_enter_args *args)
{
    switch (args->nr) {
#if TRACES(SC_STAT)
    case NR_STAT: return stat_entry(SC_STAT, PATH(0), 0, 0, 0);
#endif
#if TRACES(SC_LSTAT)
    case NR_LSTAT: return stat_entry(SC_LSTAT, PATH(0), 0, 0, 0);
#endif
#if TRACES(SC_NEWSTAT)
    case NR_NEWSTAT: return stat_entry(SC_NEWSTAT, PATH(0), 0, 0, 0);
#endif
#if TRACES(SC_NEWLSTAT)
    case NR_NEWLSTAT: return stat_entry(SC_NEWLSTAT, PATH(0), 0, 0, 0);
#endif
#if TRACES(SC_STAT64)
    case NR_STAT64: return stat_entry(SC_STAT64, PATH(0), 0, 0, 0);
#endif
#if TRACES(SC_LSTAT64)
    case NR_LSTAT64: return stat_entry(SC_LSTAT64, PATH(0), 0, 0, 0);
#endif
#if TRACES(SC_NEWFSTATAT)
    case NR_NEWFSTATAT: return stat_entry(SC_NEWFSTATAT, PATH(1), ARG(0), ARG(3), 0);
#endif
#if TRACES(SC_FSTATAT64)
    case NR_FSTATAT64: return stat_entry(SC_FSTATAT64, PATH(1), ARG(0), ARG(3), 0);
#endif
#if TRACES(SC_STATX)
    case NR_STATX: return stat_entry(SC_STATX, PATH(1), ARG(0), ARG(2), 0);
#endif
#if TRACES(SC_STATFS)
    case NR_STATFS: return stat_entry(SC_STATFS, PATH(0), 0, 0, 0);
#endif
#if TRACES(SC_STATFS64)
    case NR_STATFS64: return stat_entry(SC_STATFS64, PATH(0), 0, 0, 0);
#endif
#if TRACES(SC_ACCESS)
    case NR_ACCESS: return stat_entry(SC_ACCESS, PATH(0), 0, 0, ARG(1));
#endif
#if TRACES(SC_FACCESSAT)
    case NR_FACCESSAT: return stat_entry(SC_FACCESSAT, PATH(1), ARG(0), 0, ARG(2));
#endif
#if TRACES(SC_FACCESSAT2)
    case NR_FACCESSAT2: return stat_entry(SC_FACCESSAT2, PATH(1), ARG(0), ARG(3), ARG(2));
#endif
    }
    return 0;
}

/* Only threads with a pending entry go further than one map lookup. */
int raw_exit(struct syscall_exit_args *args)
{
    return stat_exit(args, args->ret);
}
#endif /* HOOK_RAW_SYSCALLS */

#if HOOK == HOOK_KPROBE
/* bcc rewrites syscall__* parameters to read the caller's registers through the syscall
 * wrapper's pt_regs (CONFIG_ARCH_HAS_SYSCALL_WRAPPER), as its own statsnoop relies on. */
#if TRACES(SC_STAT)
int syscall__stat(struct pt_regs *ctx, const char __user *path) { return stat_entry(SC_STAT, path, 0, 0, 0); }
#endif
#if TRACES(SC_LSTAT)
int syscall__lstat(struct pt_regs *ctx, const char __user *path) { return stat_entry(SC_LSTAT, path, 0, 0, 0); }
#endif
#if TRACES(SC_NEWSTAT)
int syscall__newstat(struct pt_regs *ctx, const char __user *path) { return stat_entry(SC_NEWSTAT, path, 0, 0, 0); }
#endif
#if TRACES(SC_NEWLSTAT)
int syscall__newlstat(struct pt_regs *ctx, const char __user *path) { return stat_entry(SC_NEWLSTAT, path, 0, 0, 0); }
#endif
#if TRACES(SC_STAT64)
int syscall__stat64(struct pt_regs *ctx, const char __user *path) { return stat_entry(SC_STAT64, path, 0, 0, 0); }
#endif
#if TRACES(SC_LSTAT64)
int syscall__lstat64(struct pt_regs *ctx, const char __user *path) { return stat_entry(SC_LSTAT64, path, 0, 0, 0); }
#endif
#if TRACES(SC_STATFS)
int syscall__statfs(struct pt_regs *ctx, const char __user *path) { return stat_entry(SC_STATFS, path, 0, 0, 0); }
#endif
#if TRACES(SC_STATFS64)
int syscall__statfs64(struct pt_regs *ctx, const char __user *path) { return stat_entry(SC_STATFS64, path, 0, 0, 0); }
#endif
#if TRACES(SC_NEWFSTATAT)
int syscall__newfstatat(struct pt_regs *ctx, int dfd, const char __user *path, void *buf, int flag)
{
    return stat_entry(SC_NEWFSTATAT, path, dfd, flag, 0);
}
#endif
#if TRACES(SC_FSTATAT64)
int syscall__fstatat64(struct pt_regs *ctx, int dfd, const char __user *path, void *buf, int flag)
{
    return stat_entry(SC_FSTATAT64, path, dfd, flag, 0);
}
#endif
#if TRACES(SC_STATX)
int syscall__statx(struct pt_regs *ctx, int dfd, const char __user *path, unsigned flags)
{
    return stat_entry(SC_STATX, path, dfd, flags, 0);
}
#endif
#if TRACES(SC_ACCESS)
int syscall__access(struct pt_regs *ctx, const char __user *path, int mode)
{
    return stat_entry(SC_ACCESS, path, 0, 0, mode);
}
#endif
#if TRACES(SC_FACCESSAT)
int syscall__faccessat(struct pt_regs *ctx, int dfd, const char __user *path, int mode)
{
    return stat_entry(SC_FACCESSAT, path, dfd, 0, mode);
}
#endif
#if TRACES(SC_FACCESSAT2)
int syscall__faccessat2(struct pt_regs *ctx, int dfd, const char __user *path, int mode, int flags)
{
    return stat_entry(SC_FACCESSAT2, path, dfd, flags, mode);
}
#endif

int stat_return(struct pt_regs *ctx)
{
    return stat_exit(ctx, PT_REGS_RC(ctx));
}
#endif /* HOOK_KPROBE */
