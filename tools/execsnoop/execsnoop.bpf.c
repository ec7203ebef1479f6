/* execsnoop: one record per exec(), built whole in the kernel (tools/execsnoop/README.md says
 * what is traced where, and why).
 *
 * Configuration, as #defines of numbers (tools/execsnoop/program.ts):
 *   TRACE_FAILS            report failed execs (needs a hook on each syscall)
 *   SUCCESS_AT_EXEC_TP     report successes from sched_process_exec (else at the syscall's exit)
 *   EXECVE_TRACEPOINT, EXECVE_KPROBE        how execve's entry and exit are hooked (at most one
 *   EXECVEAT_TRACEPOINT, EXECVEAT_KPROBE    is 1): syscalls:sys_{enter,exit}_*, or kprobes
 *   MAX_ARGS               --max-args (failed execs only: successes carry the whole area)
 *   FILTER_UID/TARGET_UID, FILTER_PPID/TARGET_PPID, FILTER_CGROUP, FILTER_CGROUP_MAP,
 *   FILTER_MNTNS_MAP       filters applied in the kernel (PIN_ID: see bpfkit/containers.h)
 *   USE_RINGBUF/RINGBUF_PAGES   the events channel (bpfkit/events.h)
 *   TASK_*, MM_*, NSPROXY_*, MNT_NS_*   struct offsets from the running kernel's BTF
 */
#define USE_KPROBES (EXECVE_KPROBE || EXECVEAT_KPROBE)

#if USE_KPROBES
#include <uapi/linux/ptrace.h>
#endif
#include "bpfkit/task.h"
#include "bpfkit/exec_args.h"
#include "bpfkit/parent_comm.h"
#include "bpfkit/events.h"
#include "bpfkit/user_str.h"

/* bcc's per-argument size. Reading two more bytes tells an argument of exactly ARGSIZE bytes
 * from a longer one, which user space then cuts and marks with "...". */
#define ARGSIZE 128
#define ARG_READ (ARGSIZE + 2)
/* Room for the file name and the arguments of one exec; records carry only the bytes used. */
#define DATA_SIZE 8192
#define AREA_MAX (DATA_SIZE - 256)

/* flags */
#define EXEC_ARGS_MORE 1        /* a failed exec had more than MAX_ARGS arguments */
#define EXEC_ARGS_UNREADABLE 2  /* the argument memory could not be read */

struct exec_event {
    u64 ts;          /* bpf_ktime_get_ns(): CLOCK_MONOTONIC, like process.hrtime() */
    u32 pid;         /* tgid */
    u32 ppid;        /* the parent's tgid, as getppid() returns it */
    u32 uid;
    s32 retval;      /* 0, or -errno for a failed exec */
    u32 cpu;
    u32 data_len;    /* bytes used in data[] */
    u32 area_len;    /* successes: the real size of the argument area (more than was read when cut) */
    u32 flags;
    char comm[BPFKIT_COMM_LEN];
    char pcomm[BPFKIT_COMM_LEN];
    /* filename\0 argv[0]\0 argv[1]\0 ... (user space drops argv[0], as bcc shows the filename) */
    char data[DATA_SIZE];
};

/* Too big for the 512-byte stack: each CPU builds its record here. Its value type is also the
 * layout test/kernel/execsnoop.test.ts checks tools/execsnoop/events.ts's offsets against. */
BPF_PERCPU_ARRAY(scratch, struct exec_event, 1);

#if FILTER_CGROUP
BPF_CGROUP_ARRAY(cgroup_filter, 1);
#endif
#include "bpfkit/containers.h"

static __always_inline bool traced(u32 uid, u32 ppid)
{
#if FILTER_UID
    if (uid != TARGET_UID)
        return false;
#endif
#if FILTER_PPID
    if (ppid != TARGET_PPID)
        return false;
#endif
#if FILTER_CGROUP
    if (cgroup_filter.check_current_task(0) != 1)
        return false;
#endif
    return bpfkit_container_allowed();
}

/* The per-CPU record, with everything but the strings filled in. */
static __always_inline struct exec_event *new_event(u32 uid, u32 ppid, s32 retval)
{
    int zero = 0;
    struct exec_event *ev = scratch.lookup(&zero);
    if (!ev)
        return 0;
    ev->ts = bpf_ktime_get_ns();
    ev->pid = bpf_get_current_pid_tgid() >> 32;
    ev->ppid = ppid;
    ev->uid = uid;
    ev->retval = retval;
    ev->cpu = bpf_get_smp_processor_id();
    ev->data_len = 0;
    ev->area_len = 0;
    ev->flags = 0;
    bpf_get_current_comm(ev->comm, sizeof(ev->comm));
    bpfkit_current_parent_comm(ev->pcomm);
    return ev;
}

/* Sends only the bytes used. */
static __always_inline void submit(void *ctx, struct exec_event *ev)
{
    u32 size = ev->data_len;
    if (size > DATA_SIZE)
        size = DATA_SIZE;
    bpfkit_event_output(ctx, ev, size + offsetof(struct exec_event, data));
}

/* After the file name (at offset `at`): every argument of the new process, in one read. */
static __always_inline void read_arg_area(struct exec_event *ev, u32 at)
{
    u64 start, end;
    bpfkit_current_arg_area(&start, &end);
    u64 len = end > start ? end - start : 0;
    ev->area_len = len;
    if (len > AREA_MAX)
        len = AREA_MAX;
    if (at > ARG_READ)
        at = ARG_READ;
    if (len && bpf_probe_read_user(&ev->data[at], len, (const void *)start) == 0) {
        ev->data_len = at + len;
    } else {
        ev->data_len = at;
        if (len)
            ev->flags |= EXEC_ARGS_UNREADABLE;
    }
}

/* Appends a NUL-terminated string (at most ARG_READ bytes) at data[data_len]. The offset is
 * kept in the record, not in a variable: reloaded from memory it looks the same to the verifier
 * on every path, so it can prune them (kept in a register, 60 arguments took it 858,000
 * instructions to check, near its limit). */
static __always_inline void append_user_str(struct exec_event *ev, const char *src)
{
    u32 at = ev->data_len;
    if (at > DATA_SIZE - ARG_READ) {
        ev->flags |= EXEC_ARGS_MORE;
        return;
    }
    long n = bpfkit_read_user_str(&ev->data[at], ARG_READ, src);
    if (n < 0) {
        /* unreadable: an empty string keeps the argument's place */
        ev->data[at] = 0;
        ev->flags |= EXEC_ARGS_UNREADABLE;
        n = 1;
    }
    ev->data_len = at + n;
}

#if TRACE_FAILS || !SUCCESS_AT_EXEC_TP
/* Between a syscall's entry and its exit, keyed by thread id. LRU: an exec that never returns
 * (the process is killed mid-way) must not leave a slot taken for ever. */
struct pending_exec {
    const char *filename;
    const char *const *argv;
#if !SUCCESS_AT_EXEC_TP
    char path[ARG_READ];  /* successes reported at exit need the name before the old mm is gone */
#endif
};
BPF_TABLE("lru_hash", u32, struct pending_exec, pending, 10240);
#endif

#if SUCCESS_AT_EXEC_TP
TRACEPOINT_PROBE(sched, sched_process_exec)
{
#if TRACE_FAILS
    /* Succeeded: nothing for the syscall's exit to report. Keyed by the thread that called
     * exec(), which old_pid names even when the PID has changed to the leader's. */
    u32 caller = args->old_pid;
    pending.delete(&caller);
#endif
    u32 uid = bpf_get_current_uid_gid();
    u32 ppid = bpfkit_current_ppid();
    if (!traced(uid, ppid))
        return 0;
    struct exec_event *ev = new_event(uid, ppid, 0);
    if (!ev)
        return 0;
    /* bprm->filename as the tracepoint recorded it: the path given to exec(), or /dev/fd/N for
     * an execveat() of a file descriptor. */
    unsigned short loc = args->data_loc_filename & 0xffff;
    long n = bpf_probe_read_kernel_str(ev->data, ARG_READ, (const char *)args + loc);
    if (n <= 0) {
        ev->data[0] = 0;
        n = 1;
    }
    read_arg_area(ev, n);
    submit(args, ev);
    return 0;
}
#endif

#if TRACE_FAILS || !SUCCESS_AT_EXEC_TP
static __always_inline int exec_entry(const char *filename, const char *const *argv)
{
    u32 uid = bpf_get_current_uid_gid();
    if (!traced(uid, bpfkit_current_ppid()))
        return 0;
    u32 tid = bpf_get_current_pid_tgid();
    struct pending_exec p = { .filename = filename, .argv = argv };
#if !SUCCESS_AT_EXEC_TP
    if (bpfkit_read_user_str(p.path, sizeof(p.path), filename) < 0)
        p.path[0] = 0;
#endif
    pending.update(&tid, &p);
    return 0;
}

static __always_inline int exec_exit(void *ctx, long ret)
{
    u32 tid = bpf_get_current_pid_tgid();
    struct pending_exec *p = pending.lookup(&tid);
    if (!p)
        return 0;
#if SUCCESS_AT_EXEC_TP
    if (ret >= 0) {
        /* reported by sched_process_exec */
        pending.delete(&tid);
        return 0;
    }
#endif
#if !TRACE_FAILS
    if (ret < 0) {
        pending.delete(&tid);
        return 0;
    }
#endif
    u32 uid = bpf_get_current_uid_gid();
    struct exec_event *ev = new_event(uid, bpfkit_current_ppid(), ret);
    if (!ev) {
        pending.delete(&tid);
        return 0;
    }
#if !SUCCESS_AT_EXEC_TP
    if (ret >= 0) {
        /* The new program is in place: its argument area holds every argument. */
        long n = bpf_probe_read_kernel_str(ev->data, ARG_READ, p->path);
        if (n <= 0) {
            ev->data[0] = 0;
            n = 1;
        }
        read_arg_area(ev, n);
        pending.delete(&tid);
        submit(ctx, ev);
        return 0;
    }
#endif
    /* Failed: the caller's memory is unchanged, so its argv is read as the syscall saw it. */
    const char *const *argv = p->argv;
    append_user_str(ev, p->filename);
    pending.delete(&tid);
    int i;
    for (i = 0; i < MAX_ARGS; i++) {
        const char *arg = 0;
        if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i]) != 0 || !arg)
            break;
        append_user_str(ev, arg);
    }
    if (i == MAX_ARGS) {
        /* One pointer past the limit tells "exactly MAX_ARGS" from "more" (bcc cannot). */
        const char *arg = 0;
        if (bpf_probe_read_user(&arg, sizeof(arg), &argv[MAX_ARGS]) == 0 && arg)
            ev->flags |= EXEC_ARGS_MORE;
    }
    submit(ctx, ev);
    return 0;
}
#endif

#if EXECVE_TRACEPOINT
TRACEPOINT_PROBE(syscalls, sys_enter_execve)
{
    return exec_entry(args->filename, args->argv);
}

TRACEPOINT_PROBE(syscalls, sys_exit_execve)
{
    return exec_exit(args, args->ret);
}
#endif

#if EXECVEAT_TRACEPOINT
TRACEPOINT_PROBE(syscalls, sys_enter_execveat)
{
    return exec_entry(args->filename, args->argv);
}

TRACEPOINT_PROBE(syscalls, sys_exit_execveat)
{
    return exec_exit(args, args->ret);
}
#endif

/* bcc rewrites syscall__* parameters to read the caller's registers through the syscall
 * wrapper's pt_regs (CONFIG_ARCH_HAS_SYSCALL_WRAPPER), as its own execsnoop relies on. */
#if EXECVE_KPROBE
int syscall__execve(struct pt_regs *ctx, const char __user *filename,
                    const char __user *const __user *argv)
{
    return exec_entry(filename, argv);
}
#endif

#if EXECVEAT_KPROBE
int syscall__execveat(struct pt_regs *ctx, int dirfd, const char __user *filename,
                      const char __user *const __user *argv)
{
    return exec_entry(filename, argv);
}
#endif

#if USE_KPROBES
int exec_return(struct pt_regs *ctx)
{
    return exec_exit(ctx, PT_REGS_RC(ctx));
}
#endif
