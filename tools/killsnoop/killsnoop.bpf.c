/* killsnoop: one record per signal sent by a system call (kill, tkill, tgkill,
 * pidfd_send_signal, rt_sigqueueinfo, rt_tgsigqueueinfo), noted at the syscall's entry and sent
 * at its exit with the result (tools/killsnoop/README.md says what is traced where, and why).
 *
 * Configuration, as #defines of numbers (tools/killsnoop/program.ts):
 *   HOOK_TRACEPOINTS   1: syscalls:sys_enter_X / sys_exit_X for each syscall marked HAS_X
 *   HOOK_RAW           1: raw tracepoints sys_enter / sys_exit, matched by NR_X syscall numbers
 *   HOOK_KPROBES       1: kprobes and kretprobes on the syscall functions
 *   HAS_KILL, HAS_TKILL, HAS_TGKILL, HAS_PIDFD, HAS_SIGQUEUE, HAS_TGSIGQUEUE   which syscalls
 *   NR_KILL, NR_TKILL, ...   with HOOK_RAW: this architecture's syscall numbers
 *   FILTER_PID/TARGET_PID      -p: the sender's PID
 *   FILTER_TPID/TARGET_TPID    -T: the target (its TPID, or the tgid tgkill names)
 *   FILTER_SIGNALS, SIGNAL_MASK_LO (signals 0-63), SIGNAL_MASK_HI (64 and up: bit 0 = 64)   -s
 *   FAILED_ONLY        -x: only calls that return an error are sent
 *   USE_RINGBUF/RINGBUF_PAGES   the events channel (bpfkit/events.h)
 *   RESOLVE_PIDFD      1: turn a pidfd into the PID it refers to, at these struct offsets from
 *                      the running kernel's BTF: TASK_FILES_OFFSET, FILES_FDT_OFFSET, FDTABLE_*,
 *                      FILE_*, INODE_I_SB_OFFSET, SB_S_MAGIC_OFFSET, PID_NR_OFFSET, PROC_INODE_*
 */
#include "bpfkit/events.h"
#if HOOK_TRACEPOINTS
/* siginfo_t: bcc declares each tracepoint's argument struct from its format, and the
 * sigqueueinfo and pidfd_send_signal ones name this type. */
#include <linux/signal.h>
#endif
#if HOOK_KPROBES || HOOK_RAW
#include <uapi/linux/ptrace.h>
#endif

/* signal_event.syscall */
#define SYS_KILL 0
#define SYS_TKILL 1
#define SYS_TGKILL 2
#define SYS_PIDFD 3
#define SYS_SIGQUEUE 4
#define SYS_TGSIGQUEUE 5

/* signal_event.flags */
#define TPID_UNKNOWN 1  /* a pidfd that names no process this program could read */

struct signal_event {
    u64 ts;          /* bpf_ktime_get_ns() at the call's entry */
    u32 pid;         /* the sender's tgid */
    u32 tid;         /* the sending thread */
    s32 tpid;        /* the target: kill's pid argument as given (0, -1, -PGID too), a thread's
                        TID for tkill/tgkill, the PID a pidfd refers to */
    s32 tgid;        /* tgkill/rt_tgsigqueueinfo's tgid argument, else 0 */
    s32 sig;
    s32 ret;         /* 0, or -errno */
    s32 pidfd;       /* pidfd_send_signal's descriptor, else -1 */
    u32 syscall;     /* SYS_* */
    u32 flags;
    u32 uid;
    char comm[16];
};

/* Between a call's entry and its exit, keyed by thread. LRU: an entry whose exit is never seen
 * (the tool attached between the two) must not keep its slot for ever. */
BPF_TABLE("lru_hash", u32, struct signal_event, pending, 10240);

#if HAS_PIDFD && RESOLVE_PIDFD
#define PIDFS_MAGIC 0x50494446
#define ANON_INODE_FS_MAGIC 0x09041934
#define PROC_SUPER_MAGIC 0x9fa0
/* Linux 6.15 and 6.16 name the caller's process -20000; 6.17 moved it to -10001. Either value
 * on the other kernel is a bad descriptor, which the exit turns into an unknown target. */
#define PIDFD_SELF_THREAD (-10000)
#define PIDFD_SELF_GROUP_OLD (-20000)
#define PIDFD_SELF_GROUP (-10001)

static __always_inline const void *read_ptr(const void *base, unsigned long offset)
{
    const void *value = 0;
    bpf_probe_read_kernel(&value, sizeof(value), (const char *)base + offset);
    return value;
}

/* The PID a pidfd refers to, read from the caller's descriptor table: a pidfd holds its struct
 * pid (a pidfs inode since 6.9, an anonymous inode's file before), a /proc/<pid> directory's inode
 * holds it in its proc_inode. Returns 0 with TPID_UNKNOWN set in *flags when neither. */
static __always_inline s32 pidfd_target(s32 fd, u64 id, u32 *flags)
{
    if (fd == PIDFD_SELF_THREAD)
        return (u32)id;
    if (fd == PIDFD_SELF_GROUP || fd == PIDFD_SELF_GROUP_OLD)
        return id >> 32;
    *flags |= TPID_UNKNOWN;
    if (fd < 0)
        return 0;
    const void *task = (const void *)bpf_get_current_task();
    const void *fdt = read_ptr(read_ptr(task, TASK_FILES_OFFSET), FILES_FDT_OFFSET);
    u32 max_fds = 0;
    bpf_probe_read_kernel(&max_fds, sizeof(max_fds), (const char *)fdt + FDTABLE_MAX_FDS_OFFSET);
    if ((u32)fd >= max_fds)
        return 0;
    const void *file = read_ptr(read_ptr(fdt, FDTABLE_FD_OFFSET), (u64)fd * sizeof(void *));
    if (!file)
        return 0;
    const void *inode = read_ptr(file, FILE_F_INODE_OFFSET);
    unsigned long magic = 0;
    bpf_probe_read_kernel(&magic, sizeof(magic), (const char *)read_ptr(inode, INODE_I_SB_OFFSET) + SB_S_MAGIC_OFFSET);
    const void *pid = 0;
    if (magic == PIDFS_MAGIC)
        /* pidfs keeps it in the inode (6.11+), its first version in the file */
        pid = read_ptr(inode, INODE_I_PRIVATE_OFFSET) ?: read_ptr(file, FILE_PRIVATE_DATA_OFFSET);
    else if (magic == ANON_INODE_FS_MAGIC)
        pid = read_ptr(file, FILE_PRIVATE_DATA_OFFSET);
    else if (magic == PROC_SUPER_MAGIC)
        pid = read_ptr((const char *)inode - PROC_INODE_VFS_INODE_OFFSET, PROC_INODE_PID_OFFSET);
    if (!pid)
        return 0;
    /* numbers[0]: the PID in the initial namespace, as every other PID here is */
    s32 nr = 0;
    if (bpf_probe_read_kernel(&nr, sizeof(nr), (const char *)pid + PID_NR_OFFSET) != 0 || nr <= 0)
        return 0;
    *flags &= ~TPID_UNKNOWN;
    return nr;
}
#endif

static __always_inline bool signal_traced(s32 sig)
{
#if FILTER_SIGNALS
    if (sig < 0)
        return false;
    if (sig < 64)
        return (SIGNAL_MASK_LO >> sig) & 1;
    if (sig < 128)
        return (SIGNAL_MASK_HI >> (sig - 64)) & 1;
    return false;
#else
    return true;
#endif
}

static __always_inline int signal_entry(u32 syscall, s32 tpid, s32 tgid, s32 sig, s32 pidfd)
{
    if (!signal_traced(sig))
        return 0;
    u64 id = bpf_get_current_pid_tgid();
#if FILTER_PID
    if ((id >> 32) != TARGET_PID)
        return 0;
#endif
    u32 flags = 0;
#if HAS_PIDFD && RESOLVE_PIDFD
    if (syscall == SYS_PIDFD)
        tpid = pidfd_target(pidfd, id, &flags);
#elif HAS_PIDFD
    if (syscall == SYS_PIDFD)
        flags |= TPID_UNKNOWN;
#endif
#if FILTER_TPID
    if ((flags & TPID_UNKNOWN) || (tpid != TARGET_TPID && tgid != TARGET_TPID))
        return 0;
#endif
    struct signal_event ev = {};
    ev.ts = bpf_ktime_get_ns();
    ev.pid = id >> 32;
    ev.tid = id;
    ev.tpid = tpid;
    ev.tgid = tgid;
    ev.sig = sig;
    ev.pidfd = pidfd;
    ev.syscall = syscall;
    ev.flags = flags;
    ev.uid = bpf_get_current_uid_gid();
    bpf_get_current_comm(ev.comm, sizeof(ev.comm));
    u32 tid = id;
    pending.update(&tid, &ev);
    return 0;
}

static __always_inline int signal_exit(void *ctx, long ret)
{
    u32 tid = bpf_get_current_pid_tgid();
    struct signal_event *ev = pending.lookup(&tid);
    if (!ev)
        return 0;
#if FAILED_ONLY
    if (ret >= 0) {
        pending.delete(&tid);
        return 0;
    }
#endif
    ev->ret = ret;
    /* EBADF: the descriptor was no pidfd, so whatever its file held was no target */
    if (ev->syscall == SYS_PIDFD && ret == -9)
        ev->flags |= TPID_UNKNOWN;
    bpfkit_event_output(ctx, ev, sizeof(*ev));
    pending.delete(&tid);
    return 0;
}

#if HOOK_TRACEPOINTS
#if HAS_KILL
TRACEPOINT_PROBE(syscalls, sys_enter_kill) { return signal_entry(SYS_KILL, args->pid, 0, args->sig, -1); }
TRACEPOINT_PROBE(syscalls, sys_exit_kill) { return signal_exit(args, args->ret); }
#endif
#if HAS_TKILL
TRACEPOINT_PROBE(syscalls, sys_enter_tkill) { return signal_entry(SYS_TKILL, args->pid, 0, args->sig, -1); }
TRACEPOINT_PROBE(syscalls, sys_exit_tkill) { return signal_exit(args, args->ret); }
#endif
#if HAS_TGKILL
TRACEPOINT_PROBE(syscalls, sys_enter_tgkill) { return signal_entry(SYS_TGKILL, args->pid, args->tgid, args->sig, -1); }
TRACEPOINT_PROBE(syscalls, sys_exit_tgkill) { return signal_exit(args, args->ret); }
#endif
#if HAS_PIDFD
TRACEPOINT_PROBE(syscalls, sys_enter_pidfd_send_signal) { return signal_entry(SYS_PIDFD, 0, 0, args->sig, args->pidfd); }
TRACEPOINT_PROBE(syscalls, sys_exit_pidfd_send_signal) { return signal_exit(args, args->ret); }
#endif
#if HAS_SIGQUEUE
TRACEPOINT_PROBE(syscalls, sys_enter_rt_sigqueueinfo) { return signal_entry(SYS_SIGQUEUE, args->pid, 0, args->sig, -1); }
TRACEPOINT_PROBE(syscalls, sys_exit_rt_sigqueueinfo) { return signal_exit(args, args->ret); }
#endif
#if HAS_TGSIGQUEUE
TRACEPOINT_PROBE(syscalls, sys_enter_rt_tgsigqueueinfo) { return signal_entry(SYS_TGSIGQUEUE, args->pid, args->tgid, args->sig, -1); }
TRACEPOINT_PROBE(syscalls, sys_exit_rt_tgsigqueueinfo) { return signal_exit(args, args->ret); }
#endif
#endif /* HOOK_TRACEPOINTS */

#if HOOK_RAW
/* Every system call of the machine runs these; all but the six return after a compare (entry)
 * or a hash lookup (exit). The arguments are read from the caller's saved registers. */
RAW_TRACEPOINT_PROBE(sys_enter)
{
    struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
    long nr = ctx->args[1];
    if (nr != NR_KILL && nr != NR_TKILL && nr != NR_TGKILL && nr != NR_PIDFD && nr != NR_SIGQUEUE && nr != NR_TGSIGQUEUE)
        return 0;
    long a0 = 0, a1 = 0, a2 = 0;
    bpf_probe_read_kernel(&a0, sizeof(a0), &PT_REGS_PARM1(regs));
    bpf_probe_read_kernel(&a1, sizeof(a1), &PT_REGS_PARM2(regs));
    bpf_probe_read_kernel(&a2, sizeof(a2), &PT_REGS_PARM3(regs));
    if (nr == NR_KILL)
        return signal_entry(SYS_KILL, a0, 0, a1, -1);
    if (nr == NR_TKILL)
        return signal_entry(SYS_TKILL, a0, 0, a1, -1);
    if (nr == NR_TGKILL)
        return signal_entry(SYS_TGKILL, a1, a0, a2, -1);
    if (nr == NR_SIGQUEUE)
        return signal_entry(SYS_SIGQUEUE, a0, 0, a1, -1);
    if (nr == NR_TGSIGQUEUE)
        return signal_entry(SYS_TGSIGQUEUE, a1, a0, a2, -1);
    return signal_entry(SYS_PIDFD, 0, 0, a1, a0);
}

RAW_TRACEPOINT_PROBE(sys_exit)
{
    return signal_exit(ctx, ctx->args[1]);
}
#endif /* HOOK_RAW */

#if HOOK_KPROBES
/* bcc reads syscall__* parameters from the caller's registers through the syscall wrapper's
 * pt_regs, as its own killsnoop does. */
#if HAS_KILL
int syscall__kill(struct pt_regs *ctx, int pid, int sig) { return signal_entry(SYS_KILL, pid, 0, sig, -1); }
#endif
#if HAS_TKILL
int syscall__tkill(struct pt_regs *ctx, int pid, int sig) { return signal_entry(SYS_TKILL, pid, 0, sig, -1); }
#endif
#if HAS_TGKILL
int syscall__tgkill(struct pt_regs *ctx, int tgid, int pid, int sig) { return signal_entry(SYS_TGKILL, pid, tgid, sig, -1); }
#endif
#if HAS_PIDFD
int syscall__pidfd_send_signal(struct pt_regs *ctx, int pidfd, int sig) { return signal_entry(SYS_PIDFD, 0, 0, sig, pidfd); }
#endif
#if HAS_SIGQUEUE
int syscall__rt_sigqueueinfo(struct pt_regs *ctx, int pid, int sig) { return signal_entry(SYS_SIGQUEUE, pid, 0, sig, -1); }
#endif
#if HAS_TGSIGQUEUE
int syscall__rt_tgsigqueueinfo(struct pt_regs *ctx, int tgid, int pid, int sig) { return signal_entry(SYS_TGSIGQUEUE, pid, tgid, sig, -1); }
#endif

int signal_return(struct pt_regs *ctx)
{
    return signal_exit(ctx, PT_REGS_RC(ctx));
}
#endif /* HOOK_KPROBES */
