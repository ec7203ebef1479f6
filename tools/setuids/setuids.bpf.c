/* setuids: one record per call of the setuid family (setuid, setgid, setreuid, setregid,
 * setresuid, setresgid, setfsuid, setfsgid), noted at the syscall's entry with the caller's ids
 * and the call's arguments, and sent at its exit with the result (tools/setuids/README.md says
 * what is traced where, and why).
 *
 * Configuration, as #defines of numbers (tools/setuids/program.ts):
 *   HOOK_TRACEPOINTS   1: syscalls:sys_enter_X / sys_exit_X for each syscall marked HAS_X
 *   HOOK_RAW           1: raw tracepoints sys_enter / sys_exit, matched by NR_X syscall numbers
 *   HAS_SETUID, HAS_SETGID, HAS_SETREUID, HAS_SETREGID, HAS_SETRESUID, HAS_SETRESGID,
 *   HAS_SETFSUID, HAS_SETFSGID   which syscalls (tracepoints)
 *   NR_SETUID, NR_SETGID, ...    with HOOK_RAW: this architecture's syscall numbers
 *   FILTER_PID/TARGET_PID        -p: the caller's PID
 *   READ_CRED          1: copy the caller's eight ids from its struct cred, at these offsets from
 *                      the running kernel's BTF: TASK_CRED_OFFSET (task_struct.cred),
 *                      CRED_IDS_OFFSET (cred.uid; gid, suid, sgid, euid, egid, fsuid, fsgid follow)
 *   USE_RINGBUF/RINGBUF_PAGES   the events channel (bpfkit/events.h)
 */
#include "bpfkit/events.h"
#if HOOK_RAW
#include <uapi/linux/ptrace.h>
#endif

/* setid_event.syscall */
#define SYS_SETUID 0
#define SYS_SETGID 1
#define SYS_SETREUID 2
#define SYS_SETREGID 3
#define SYS_SETRESUID 4
#define SYS_SETRESGID 5
#define SYS_SETFSUID 6
#define SYS_SETFSGID 7

/* setid_event.flags */
#define CRED_KNOWN 1

struct setid_event {
    u64 ts;          /* bpf_ktime_get_ns() at the call's entry */
    u32 pid;
    u32 tid;
    u32 syscall;     /* SYS_* */
    s32 ret;         /* 0 or -errno; setfsuid/setfsgid: the previous id */
    s32 args[3];     /* the new ids as passed, (uid_t)-1 = unchanged; unused ones 0 */
    u32 flags;
    u32 uid;         /* the caller's real uid and gid before the call */
    u32 gid;
    u32 cred[8];     /* with CRED_KNOWN: uid, gid, suid, sgid, euid, egid, fsuid, fsgid before */
    char comm[16];
};

/* Between a call's entry and its exit, keyed by thread. LRU: an entry whose exit is never seen
 * (the tool attached between the two) must not keep its slot for ever. */
BPF_TABLE("lru_hash", u32, struct setid_event, pending, 10240);

static __always_inline int setid_entry(u32 syscall, s32 a0, s32 a1, s32 a2)
{
    u64 id = bpf_get_current_pid_tgid();
#if FILTER_PID
    if ((id >> 32) != TARGET_PID)
        return 0;
#endif
    struct setid_event ev = {};
    ev.ts = bpf_ktime_get_ns();
    ev.pid = id >> 32;
    ev.tid = id;
    ev.syscall = syscall;
    ev.args[0] = a0;
    ev.args[1] = a1;
    ev.args[2] = a2;
    u64 ids = bpf_get_current_uid_gid();
    ev.uid = ids;
    ev.gid = ids >> 32;
#if READ_CRED
    /* The subjective credentials, which bpf_get_current_uid_gid() reads too: the two agree. */
    const char *task = (const char *)bpf_get_current_task();
    const char *cred = 0;
    bpf_probe_read_kernel(&cred, sizeof(cred), task + TASK_CRED_OFFSET);
    if (cred && bpf_probe_read_kernel(ev.cred, sizeof(ev.cred), cred + CRED_IDS_OFFSET) == 0)
        ev.flags |= CRED_KNOWN;
#endif
    bpf_get_current_comm(ev.comm, sizeof(ev.comm));
    u32 tid = id;
    pending.update(&tid, &ev);
    return 0;
}

static __always_inline int setid_exit(void *ctx, long ret)
{
    u32 tid = bpf_get_current_pid_tgid();
    struct setid_event *ev = pending.lookup(&tid);
    if (!ev)
        return 0;
    ev->ret = ret;
    bpfkit_event_output(ctx, ev, sizeof(*ev));
    pending.delete(&tid);
    return 0;
}

#if HOOK_TRACEPOINTS
/* The arguments are uid_t/gid_t, kept in 8-byte fields: the low 32 bits are the id. */
#if HAS_SETUID
TRACEPOINT_PROBE(syscalls, sys_enter_setuid) { return setid_entry(SYS_SETUID, (s32)args->uid, 0, 0); }
TRACEPOINT_PROBE(syscalls, sys_exit_setuid) { return setid_exit(args, args->ret); }
#endif
#if HAS_SETGID
TRACEPOINT_PROBE(syscalls, sys_enter_setgid) { return setid_entry(SYS_SETGID, (s32)args->gid, 0, 0); }
TRACEPOINT_PROBE(syscalls, sys_exit_setgid) { return setid_exit(args, args->ret); }
#endif
#if HAS_SETREUID
TRACEPOINT_PROBE(syscalls, sys_enter_setreuid) { return setid_entry(SYS_SETREUID, (s32)args->ruid, (s32)args->euid, 0); }
TRACEPOINT_PROBE(syscalls, sys_exit_setreuid) { return setid_exit(args, args->ret); }
#endif
#if HAS_SETREGID
TRACEPOINT_PROBE(syscalls, sys_enter_setregid) { return setid_entry(SYS_SETREGID, (s32)args->rgid, (s32)args->egid, 0); }
TRACEPOINT_PROBE(syscalls, sys_exit_setregid) { return setid_exit(args, args->ret); }
#endif
#if HAS_SETRESUID
TRACEPOINT_PROBE(syscalls, sys_enter_setresuid) { return setid_entry(SYS_SETRESUID, (s32)args->ruid, (s32)args->euid, (s32)args->suid); }
TRACEPOINT_PROBE(syscalls, sys_exit_setresuid) { return setid_exit(args, args->ret); }
#endif
#if HAS_SETRESGID
TRACEPOINT_PROBE(syscalls, sys_enter_setresgid) { return setid_entry(SYS_SETRESGID, (s32)args->rgid, (s32)args->egid, (s32)args->sgid); }
TRACEPOINT_PROBE(syscalls, sys_exit_setresgid) { return setid_exit(args, args->ret); }
#endif
#if HAS_SETFSUID
TRACEPOINT_PROBE(syscalls, sys_enter_setfsuid) { return setid_entry(SYS_SETFSUID, (s32)args->uid, 0, 0); }
TRACEPOINT_PROBE(syscalls, sys_exit_setfsuid) { return setid_exit(args, args->ret); }
#endif
#if HAS_SETFSGID
TRACEPOINT_PROBE(syscalls, sys_enter_setfsgid) { return setid_entry(SYS_SETFSGID, (s32)args->gid, 0, 0); }
TRACEPOINT_PROBE(syscalls, sys_exit_setfsgid) { return setid_exit(args, args->ret); }
#endif
#endif /* HOOK_TRACEPOINTS */

#if HOOK_RAW
/* Every system call of the machine runs these; all but the eight return after a few compares
 * (entry) or a hash lookup (exit). The arguments are read from the caller's saved registers. */
RAW_TRACEPOINT_PROBE(sys_enter)
{
    struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
    long nr = ctx->args[1];
    u32 syscall;
    if (nr == NR_SETUID)
        syscall = SYS_SETUID;
    else if (nr == NR_SETGID)
        syscall = SYS_SETGID;
    else if (nr == NR_SETREUID)
        syscall = SYS_SETREUID;
    else if (nr == NR_SETREGID)
        syscall = SYS_SETREGID;
    else if (nr == NR_SETRESUID)
        syscall = SYS_SETRESUID;
    else if (nr == NR_SETRESGID)
        syscall = SYS_SETRESGID;
    else if (nr == NR_SETFSUID)
        syscall = SYS_SETFSUID;
    else if (nr == NR_SETFSGID)
        syscall = SYS_SETFSGID;
    else
        return 0;
    unsigned long a0 = 0, a1 = 0, a2 = 0;
    bpf_probe_read_kernel(&a0, sizeof(a0), &PT_REGS_PARM1(regs));
    if (syscall >= SYS_SETREUID && syscall <= SYS_SETRESGID)
        bpf_probe_read_kernel(&a1, sizeof(a1), &PT_REGS_PARM2(regs));
    if (syscall == SYS_SETRESUID || syscall == SYS_SETRESGID)
        bpf_probe_read_kernel(&a2, sizeof(a2), &PT_REGS_PARM3(regs));
    return setid_entry(syscall, (s32)a0, (s32)a1, (s32)a2);
}

RAW_TRACEPOINT_PROBE(sys_exit)
{
    return setid_exit(ctx, ctx->args[1]);
}
#endif /* HOOK_RAW */
