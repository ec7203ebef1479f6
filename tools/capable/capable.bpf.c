/* capable: one record per security capability check (cap_capable()), with its verdict, or a
 * count per capability and verdict (tools/capable/README.md says what is traced where, and why).
 *
 * #defines it takes (numbers only; tools/capable/program.ts computes them):
 *   HOOK_TP                1: tracepoint capability:cap_capable (cred, cap, ret; no opts)
 *   HOOK_KPROBE            1: kprobe and kretprobe on cap_capable (bcc's: opts, and ret at return)
 *   OPTS_BITMASK           kprobe: the 4th argument is a CAP_OPT_* bitmask (5.1+), else an int audit
 *   CRED_UID_OFFSET        struct cred.uid in the running kernel's BTF; -1: the current task's uid
 *   FILTER_PID/TARGET_PID  -p: one process (tgid)
 *   AUDIT_ONLY             kprobe without -v: checks made with CAP_OPT_NOAUDIT are not printed
 *   UNIQUE, UNIQUE_BY_CGROUP   --unique: one record per capability and process (cgroup with
 *                          --cgroupmap) and stacks
 *   KERNEL_STACKS, USER_STACKS, STACK_ENTRIES   -K, -U: stack ids in the `stacks` map
 *   EMIT_EVENTS            one record per check (printing)
 *   COUNT_CHECKS           counts per capability and verdict in `checks` (metrics)
 *   FILTER_CGROUP_MAP, FILTER_MNTNS_MAP, PIN_ID, ...   --cgroupmap, --mntnsmap (bpfkit/containers.h)
 *   USE_RINGBUF/RINGBUF_PAGES   the events channel (bpfkit/events.h)
 */
#if HOOK_TP + HOOK_KPROBE != 1
#error "exactly one of HOOK_TP and HOOK_KPROBE must be 1"
#endif
#if HOOK_KPROBE
#include <uapi/linux/ptrace.h>
#endif
#include "bpfkit/containers.h"

/* cap_opt's bits (include/linux/security.h, 5.1+). */
#define CAP_OPT_NOAUDIT_ 0x2
#define CAP_OPT_INSETID_ 0x4

/* The `checks` counters: slot cap*2 + denied; capabilities beyond CAP_SLOTS-1 share the last. */
#define CAP_SLOTS 65

struct cap_event {
    u64 ts;               /* bpf_ktime_get_ns() */
    u32 pid;              /* tgid */
    u32 tid;
    u32 uid;              /* the checked credentials' real uid (CRED_UID_OFFSET), else current's */
    s32 cap;
    s32 ret;              /* 0: granted; negative (-EPERM): denied */
    s32 audit;            /* 1, 0, or -1 where the hook cannot tell (the tracepoint) */
    s32 insetid;          /* 1, 0, or -1 likewise (and before 5.1) */
    s32 kernel_stack_id;  /* with -K; negative: bpf_get_stackid's -errno */
    s32 user_stack_id;    /* with -U; likewise */
    char comm[16];
};

#if EMIT_EVENTS
#define BPFKIT_EVENT struct cap_event
#include "bpfkit/events.h"
#endif

#if EMIT_EVENTS && (KERNEL_STACKS || USER_STACKS)
BPF_STACK_TRACE(stacks, STACK_ENTRIES);
#endif

#if EMIT_EVENTS && UNIQUE
struct unique_key {
    s32 cap;
    u32 tgid;             /* 0 with UNIQUE_BY_CGROUP */
    u64 cgroup;           /* 0 without */
    s32 kernel_stack_id;
    s32 user_stack_id;
};
BPF_HASH(seen, struct unique_key, u8, 10240);
#endif

/* The tool's own process is left out (its bpf() and perf calls check capabilities). */
#include "bpfkit/self.h"

#if COUNT_CHECKS
/* Per CPU: a loop of checks on every CPU would otherwise contend on one counter. */
BPF_PERCPU_ARRAY(checks, u64, CAP_SLOTS * 2);
#endif

static __always_inline bool process_traced(u32 tgid)
{
    if (bpfkit_is_self(tgid))
        return false;
#if FILTER_PID
    if (tgid != TARGET_PID)
        return false;
#endif
    return bpfkit_container_allowed();
}

static __always_inline u32 checked_uid(const void *cred)
{
#if CRED_UID_OFFSET >= 0
    u32 uid = 0;
    if (cred && bpf_probe_read_kernel(&uid, sizeof(uid), (const char *)cred + CRED_UID_OFFSET) == 0)
        return uid;
#endif
    return (u32)bpf_get_current_uid_gid();
}

static __always_inline void count_check(s32 cap, s32 ret)
{
#if COUNT_CHECKS
    int slot = (cap >= 0 && cap < CAP_SLOTS - 1) ? cap : CAP_SLOTS - 1;
    int idx = slot * 2 + (ret != 0);
    u64 *n = checks.lookup(&idx);
    if (n)
        *n += 1;
#endif
}

/* The record of one check; ctx is where the stacks are walked from. */
static __always_inline int emit_check(void *ctx, u64 id, const void *cred, s32 cap, s32 ret, s32 audit, s32 insetid,
                                      s32 kernel_stack_id, s32 user_stack_id)
{
#if EMIT_EVENTS
#if UNIQUE
    struct unique_key key = {};
    key.cap = cap;
#if UNIQUE_BY_CGROUP
    key.cgroup = bpf_get_current_cgroup_id();
#else
    key.tgid = id >> 32;
#endif
    key.kernel_stack_id = kernel_stack_id;
    key.user_stack_id = user_stack_id;
    u8 one = 1;
    /* insert fails when the key is there: the first check of a kind wins, even on two CPUs. */
    if (seen.insert(&key, &one) != 0)
        return 0;
#endif
    struct cap_event *ev = bpfkit_event_reserve();
    if (!ev)
        return 0;
    ev->ts = bpf_ktime_get_ns();
    ev->pid = id >> 32;
    ev->tid = (u32)id;
    ev->uid = checked_uid(cred);
    ev->cap = cap;
    ev->ret = ret;
    ev->audit = audit;
    ev->insetid = insetid;
    ev->kernel_stack_id = kernel_stack_id;
    ev->user_stack_id = user_stack_id;
    bpf_get_current_comm(ev->comm, sizeof(ev->comm));
    bpfkit_event_submit(ctx, ev);
#endif
    return 0;
}

static __always_inline s32 kernel_stack(void *ctx)
{
#if EMIT_EVENTS && KERNEL_STACKS
    return stacks.get_stackid(ctx, 0);
#else
    return 0;
#endif
}

static __always_inline s32 user_stack(void *ctx)
{
#if EMIT_EVENTS && USER_STACKS
    return stacks.get_stackid(ctx, BPF_F_USER_STACK);
#else
    return 0;
#endif
}

#if HOOK_TP
/* The tracepoint fires once cap_capable() has decided: the verdict is in args->ret. It has no
 * opts, so whether the check is audited (and INSETID) is unknown here: every check is sent. */
TRACEPOINT_PROBE(capability, cap_capable)
{
    u64 id = bpf_get_current_pid_tgid();
    if (!process_traced(id >> 32))
        return 0;
    s32 cap = args->cap;
    s32 ret = args->ret;
    count_check(cap, ret);
    return emit_check(args, id, args->cred, cap, ret, -1, -1, kernel_stack(args), user_stack(args));
}
#endif

#if HOOK_KPROBE
/* Between cap_capable()'s entry (its arguments, and the stacks bcc walks there) and its return
 * (the verdict), by thread. LRU: an entry whose return is never seen must not keep its slot. */
struct pending_check {
    const void *cred;
    s32 cap;
    s32 audit;
    s32 insetid;
    s32 kernel_stack_id;
    s32 user_stack_id;
};
BPF_TABLE("lru_hash", u32, struct pending_check, pending, 10240);

int capable_entry(struct pt_regs *ctx, const void *cred, const void *targ_ns, int cap, unsigned int cap_opt)
{
    u64 id = bpf_get_current_pid_tgid();
    if (!process_traced(id >> 32))
        return 0;
    struct pending_check p = {};
    p.cred = cred;
    p.cap = cap;
#if OPTS_BITMASK
    p.audit = (cap_opt & CAP_OPT_NOAUDIT_) == 0;
    p.insetid = (cap_opt & CAP_OPT_INSETID_) != 0;
#else
    p.audit = cap_opt != 0;
    p.insetid = -1;
#endif
    p.kernel_stack_id = kernel_stack(ctx);
    p.user_stack_id = user_stack(ctx);
    u32 tid = id;
    pending.update(&tid, &p);
    return 0;
}

int capable_return(struct pt_regs *ctx)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = id;
    struct pending_check *p = pending.lookup(&tid);
    if (!p)
        return 0;
    struct pending_check c = *p;
    pending.delete(&tid);
    s32 ret = PT_REGS_RC(ctx);
    count_check(c.cap, ret);
#if AUDIT_ONLY
    if (!c.audit)
        return 0;
#endif
    return emit_check(ctx, id, c.cred, c.cap, ret, c.audit, c.insetid, c.kernel_stack_id, c.user_stack_id);
}
#endif
