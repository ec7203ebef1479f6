/* mountsnoop: one record per mount-related system call, built at its exit with the caller's
 * arguments, return value and mount namespace (tools/mountsnoop/README.md says what is traced
 * where, and why).
 *
 * Configuration, as #defines of numbers (tools/mountsnoop/program.ts):
 *   HOOK_<SYSCALL>         how each syscall is hooked: HOOK_NONE, HOOK_TRACEPOINT
 *                          (syscalls:sys_enter_/sys_exit_*) or HOOK_KPROBE (its kernel function);
 *                          syscalls: MOUNT UMOUNT FSOPEN FSCONFIG FSMOUNT MOVE_MOUNT FSPICK
 *                          OPEN_TREE MOUNT_SETATTR OPEN_TREE_ATTR
 *   FILTER_CGROUP_MAP, FILTER_MNTNS_MAP   bcc's container filters (PIN_ID: bpfkit/containers.h)
 *   USE_RINGBUF/RINGBUF_PAGES   the events channel (bpfkit/events.h)
 *   TASK_*, NSPROXY_*, MNT_NS_* struct offsets from the running kernel's BTF
 */
#define HOOK_NONE 0
#define HOOK_TRACEPOINT 1
#define HOOK_KPROBE 2

#define USE_KPROBES (HOOK_MOUNT == HOOK_KPROBE || HOOK_UMOUNT == HOOK_KPROBE || HOOK_FSOPEN == HOOK_KPROBE || \
    HOOK_FSCONFIG == HOOK_KPROBE || HOOK_FSMOUNT == HOOK_KPROBE || HOOK_MOVE_MOUNT == HOOK_KPROBE || \
    HOOK_FSPICK == HOOK_KPROBE || HOOK_OPEN_TREE == HOOK_KPROBE || HOOK_MOUNT_SETATTR == HOOK_KPROBE || \
    HOOK_OPEN_TREE_ATTR == HOOK_KPROBE)
#define USE_TRACEPOINTS (HOOK_MOUNT == HOOK_TRACEPOINT || HOOK_UMOUNT == HOOK_TRACEPOINT || HOOK_FSOPEN == HOOK_TRACEPOINT || \
    HOOK_FSCONFIG == HOOK_TRACEPOINT || HOOK_FSMOUNT == HOOK_TRACEPOINT || HOOK_MOVE_MOUNT == HOOK_TRACEPOINT || \
    HOOK_FSPICK == HOOK_TRACEPOINT || HOOK_OPEN_TREE == HOOK_TRACEPOINT || HOOK_MOUNT_SETATTR == HOOK_TRACEPOINT || \
    HOOK_OPEN_TREE_ATTR == HOOK_TRACEPOINT)

#if USE_KPROBES
#include <uapi/linux/ptrace.h>
#endif
#include "bpfkit/task.h"
#include "bpfkit/parent_comm.h"
#include "bpfkit/events.h"
#include "bpfkit/user_str.h"

/* The calls, as user space names them (tools/mountsnoop/calls.ts: MOUNT_CALLS, in this order). */
#define CALL_MOUNT 0
#define CALL_UMOUNT 1
#define CALL_FSOPEN 2
#define CALL_FSCONFIG 3
#define CALL_FSMOUNT 4
#define CALL_MOVE_MOUNT 5
#define CALL_FSPICK 6
#define CALL_OPEN_TREE 7
#define CALL_MOUNT_SETATTR 8
#define CALL_OPEN_TREE_ATTR 9

/* fsconfig(2) commands whose value is a string (FSCONFIG_SET_STRING, _SET_PATH, _SET_PATH_EMPTY). */
#define FSCONFIG_SET_STRING 1
#define FSCONFIG_SET_PATH 3
#define FSCONFIG_SET_PATH_EMPTY 4

/* PATH_MAX: the longest path, file system name or source the kernel copies in (NUL included).
 * One byte more is read, so a longer string (one the kernel refuses) is known to be cut. */
#define STR_MAX 4096
#define STR_READ (STR_MAX + 1)
/* mount(2) has the most string arguments: four. */
#define DATA_SIZE (4 * STR_READ + 4)
/* struct mount_attr as of Linux 5.12 (MOUNT_ATTR_SIZE_VER0): attr_set, attr_clr, propagation, userns_fd. */
#define MOUNT_ATTR_SIZE 32

struct mount_event {
    u64 ts;            /* bpf_ktime_get_ns() at the exit */
    s64 ret;           /* the return value: 0, a file descriptor, or -errno */
    u64 args[6];       /* the arguments as the caller passed them (five at most: args[5] is 0) */
    u64 attr[4];       /* mount_setattr/open_tree_attr: the caller's struct mount_attr */
    u32 pid;           /* tgid */
    u32 tid;
    u32 ppid;
    u32 mnt_ns;        /* the caller's mount namespace (inode number, as in /proc/PID/ns/mnt) */
    u32 call;          /* CALL_* */
    u32 data_len;      /* bytes used in data[] */
    u8 str_mask;       /* bit i: args[i] is a string, and data[] holds it (in argument order) */
    u8 null_mask;      /* bit i: args[i] was NULL (its string in data[] is empty) */
    u8 cut_mask;       /* bit i: the string had STR_MAX bytes or more and is cut there */
    u8 fault_mask;     /* bit i: the memory at args[i] could not be read (its string is empty) */
    u32 attr_len;      /* bytes of attr read: MOUNT_ATTR_SIZE, or 0 */
    char comm[BPFKIT_COMM_LEN];
    char pcomm[BPFKIT_COMM_LEN];
    char data[DATA_SIZE];
};

/* Too big for the 512-byte stack: each CPU builds its record here. Its value type is also the
 * layout test/kernel/mountsnoop.test.ts checks tools/mountsnoop/events.ts's offsets against. */
BPF_PERCPU_ARRAY(scratch, struct mount_event, 1);

/* Between a call's entry and its exit, keyed by thread id. LRU: a call whose exit is never seen
 * (the tool attached in between, or the thread was killed) must not keep its slot. */
struct pending_call {
    u64 args[6];
    u32 call;
};
BPF_TABLE("lru_hash", u32, struct pending_call, pending, 10240);

#include "bpfkit/containers.h"

static __always_inline int call_entry(u32 call, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5)
{
    if (!bpfkit_container_allowed())
        return 0;
    struct pending_call p = { .args = { a0, a1, a2, a3, a4, a5 }, .call = call };
    u32 tid = bpf_get_current_pid_tgid();
    pending.update(&tid, &p);
    return 0;
}

/* Which arguments are strings to read: the kernel has copied them in by the exit, so their pages
 * are present (at the entry, a string in a page never touched yet reads as nothing). */
static __always_inline u8 string_args(u32 call, const u64 *args)
{
    switch (call) {
    case CALL_MOUNT:
        return (1 << 0) | (1 << 1) | (1 << 2) | (1 << 4);    /* source, target, type, data */
    case CALL_UMOUNT:
    case CALL_FSOPEN:
        return 1 << 0;                                        /* target; fs_name */
    case CALL_FSCONFIG:
        /* key; the value only where it is a string (a blob, an fd or nothing otherwise) */
        if (args[1] == FSCONFIG_SET_STRING || args[1] == FSCONFIG_SET_PATH || args[1] == FSCONFIG_SET_PATH_EMPTY)
            return (1 << 2) | (1 << 3);
        return 1 << 2;
    case CALL_MOVE_MOUNT:
        return (1 << 1) | (1 << 3);                           /* from_pathname, to_pathname */
    case CALL_FSPICK:
    case CALL_OPEN_TREE:
    case CALL_MOUNT_SETATTR:
    case CALL_OPEN_TREE_ATTR:
        return 1 << 1;                                        /* the path */
    }
    return 0;
}

/* Appends the string at `src` (NUL-terminated, at most STR_MAX bytes) at data[data_len]. The
 * offset is kept in the record, as in execsnoop: reloaded from memory, it is the same bounded
 * value to the verifier on every path. */
static __always_inline void append_user_str(struct mount_event *ev, int i, const char *src)
{
    u64 at = ev->data_len;  /* 64 bits: a u32 copy widened for the check would lose its bound */
    if (at > DATA_SIZE - STR_READ)
        return;
    ev->str_mask |= 1 << i;
    if (!src) {
        ev->null_mask |= 1 << i;
        ev->data[at] = 0;
        ev->data_len = at + 1;
        return;
    }
    long n = bpfkit_read_user_str(&ev->data[at], STR_READ, src);
    if (n < 0) {
        ev->fault_mask |= 1 << i;
        ev->data[at] = 0;
        n = 1;
    } else if (n == STR_READ) {
        /* at least STR_MAX bytes: longer than the kernel takes */
        ev->cut_mask |= 1 << i;
    }
    ev->data_len = at + n;
}

static __always_inline int call_exit(void *ctx, long ret)
{
    u32 tid = bpf_get_current_pid_tgid();
    struct pending_call *p = pending.lookup(&tid);
    if (!p)
        return 0;
    int zero = 0;
    struct mount_event *ev = scratch.lookup(&zero);
    if (!ev) {
        pending.delete(&tid);
        return 0;
    }
    __builtin_memcpy(ev->args, p->args, sizeof(ev->args));
    ev->call = p->call;
    pending.delete(&tid);

    ev->ts = bpf_ktime_get_ns();
    ev->ret = ret;
    ev->pid = bpf_get_current_pid_tgid() >> 32;
    ev->tid = tid;
    ev->ppid = bpfkit_current_ppid();
    ev->mnt_ns = bpfkit_current_mntns();
    ev->data_len = 0;
    ev->str_mask = 0;
    ev->null_mask = 0;
    ev->cut_mask = 0;
    ev->fault_mask = 0;
    ev->attr_len = 0;
    bpf_get_current_comm(ev->comm, sizeof(ev->comm));
    bpfkit_current_parent_comm(ev->pcomm);

    u8 strings = string_args(ev->call, ev->args);
#pragma unroll
    for (int i = 0; i < 6; i++) {
        if (strings & (1 << i))
            append_user_str(ev, i, (const char *)ev->args[i]);
    }
    /* The attributes the call set: struct mount_attr at args[3], args[4] bytes long. */
    if ((ev->call == CALL_MOUNT_SETATTR || ev->call == CALL_OPEN_TREE_ATTR) && ev->args[3] && ev->args[4] >= MOUNT_ATTR_SIZE) {
        if (bpf_probe_read_user(ev->attr, MOUNT_ATTR_SIZE, (const void *)ev->args[3]) == 0)
            ev->attr_len = MOUNT_ATTR_SIZE;
    }

    u32 size = ev->data_len;
    if (size > DATA_SIZE)
        size = DATA_SIZE;
    bpfkit_event_output(ctx, ev, size + offsetof(struct mount_event, data));
    return 0;
}

#if USE_TRACEPOINTS
/* What every syscall tracepoint holds after its 8-byte common header (include/trace/events/
 * syscalls.h): the syscall number, then the six arguments, or the return value. Read by position,
 * not by field name: the names come from each SYSCALL_DEFINE (fsopen's is `_fs_name`). */
struct syscall_enter_args {
    u64 common;
    s64 nr;
    u64 args[6];
};
struct syscall_exit_args {
    u64 common;
    s64 nr;
    s64 ret;
};

/* One exit for every call: the pending entry says which call it was. */
int mount_call_exit(struct syscall_exit_args *ctx)
{
    return call_exit(ctx, ctx->ret);
}

/* Only the call's own `n` arguments are read: the kernel refuses to attach a program that reads
 * past the end of a tracepoint's record (EACCES). */
#define ARG(n, i) ((n) > (i) ? ctx->args[i] : 0)
#define TRACEPOINT_ENTRY(name, call, n) \
int sys_enter_##name(struct syscall_enter_args *ctx) \
{ \
    return call_entry(call, ARG(n, 0), ARG(n, 1), ARG(n, 2), ARG(n, 3), ARG(n, 4), 0); \
}
#endif

#if USE_KPROBES
/* bcc rewrites syscall__* parameters to read the caller's registers through the syscall
 * wrapper's pt_regs (CONFIG_ARCH_HAS_SYSCALL_WRAPPER), as bcc's own mountsnoop relies on. It
 * rewrites only what is written out in the source, not what a macro expands to: each entry below
 * is spelled out. */
int mount_call_return(struct pt_regs *ctx)
{
    return call_exit(ctx, PT_REGS_RC(ctx));
}
#endif

#if HOOK_MOUNT == HOOK_TRACEPOINT
TRACEPOINT_ENTRY(mount, CALL_MOUNT, 5)
#elif HOOK_MOUNT == HOOK_KPROBE
int syscall__mount(struct pt_regs *ctx, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4)
{
    return call_entry(CALL_MOUNT, a0, a1, a2, a3, a4, 0);
}
#endif
#if HOOK_UMOUNT == HOOK_TRACEPOINT
TRACEPOINT_ENTRY(umount, CALL_UMOUNT, 2)
#elif HOOK_UMOUNT == HOOK_KPROBE
int syscall__umount(struct pt_regs *ctx, u64 a0, u64 a1)
{
    return call_entry(CALL_UMOUNT, a0, a1, 0, 0, 0, 0);
}
#endif
#if HOOK_FSOPEN == HOOK_TRACEPOINT
TRACEPOINT_ENTRY(fsopen, CALL_FSOPEN, 2)
#elif HOOK_FSOPEN == HOOK_KPROBE
int syscall__fsopen(struct pt_regs *ctx, u64 a0, u64 a1)
{
    return call_entry(CALL_FSOPEN, a0, a1, 0, 0, 0, 0);
}
#endif
#if HOOK_FSCONFIG == HOOK_TRACEPOINT
TRACEPOINT_ENTRY(fsconfig, CALL_FSCONFIG, 5)
#elif HOOK_FSCONFIG == HOOK_KPROBE
int syscall__fsconfig(struct pt_regs *ctx, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4)
{
    return call_entry(CALL_FSCONFIG, a0, a1, a2, a3, a4, 0);
}
#endif
#if HOOK_FSMOUNT == HOOK_TRACEPOINT
TRACEPOINT_ENTRY(fsmount, CALL_FSMOUNT, 3)
#elif HOOK_FSMOUNT == HOOK_KPROBE
int syscall__fsmount(struct pt_regs *ctx, u64 a0, u64 a1, u64 a2)
{
    return call_entry(CALL_FSMOUNT, a0, a1, a2, 0, 0, 0);
}
#endif
#if HOOK_MOVE_MOUNT == HOOK_TRACEPOINT
TRACEPOINT_ENTRY(move_mount, CALL_MOVE_MOUNT, 5)
#elif HOOK_MOVE_MOUNT == HOOK_KPROBE
int syscall__move_mount(struct pt_regs *ctx, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4)
{
    return call_entry(CALL_MOVE_MOUNT, a0, a1, a2, a3, a4, 0);
}
#endif
#if HOOK_FSPICK == HOOK_TRACEPOINT
TRACEPOINT_ENTRY(fspick, CALL_FSPICK, 3)
#elif HOOK_FSPICK == HOOK_KPROBE
int syscall__fspick(struct pt_regs *ctx, u64 a0, u64 a1, u64 a2)
{
    return call_entry(CALL_FSPICK, a0, a1, a2, 0, 0, 0);
}
#endif
#if HOOK_OPEN_TREE == HOOK_TRACEPOINT
TRACEPOINT_ENTRY(open_tree, CALL_OPEN_TREE, 3)
#elif HOOK_OPEN_TREE == HOOK_KPROBE
int syscall__open_tree(struct pt_regs *ctx, u64 a0, u64 a1, u64 a2)
{
    return call_entry(CALL_OPEN_TREE, a0, a1, a2, 0, 0, 0);
}
#endif
#if HOOK_MOUNT_SETATTR == HOOK_TRACEPOINT
TRACEPOINT_ENTRY(mount_setattr, CALL_MOUNT_SETATTR, 5)
#elif HOOK_MOUNT_SETATTR == HOOK_KPROBE
int syscall__mount_setattr(struct pt_regs *ctx, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4)
{
    return call_entry(CALL_MOUNT_SETATTR, a0, a1, a2, a3, a4, 0);
}
#endif
#if HOOK_OPEN_TREE_ATTR == HOOK_TRACEPOINT
TRACEPOINT_ENTRY(open_tree_attr, CALL_OPEN_TREE_ATTR, 5)
#elif HOOK_OPEN_TREE_ATTR == HOOK_KPROBE
int syscall__open_tree_attr(struct pt_regs *ctx, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4)
{
    return call_entry(CALL_OPEN_TREE_ATTR, a0, a1, a2, a3, a4, 0);
}
#endif
