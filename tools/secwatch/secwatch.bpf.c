/* secwatch: security rules decided in the kernel. Each hook gathers the facts of one event (who,
 * which file, which flags, which port), matches them against the rules user space wrote into
 * `rules`, and only when a rule matches sends a record up, counts it, and takes the rule's action:
 * SIGKILL from here (kill), or EPERM from a BPF LSM hook (deny). Every other event costs the
 * hook and a few map lookups, and nothing crosses to user space.
 *
 * No text of a rule is ever compiled in: rules are numbers in an array map, paths are keys of a
 * prefix tree (an LPM trie), comms are keys of hash maps (tools/secwatch/program.ts fills them).
 *
 * Configuration, as #defines of numbers (tools/secwatch/program.ts):
 *   N_RULES                 rules in `rules` (bits of the u64 masks)
 *   WATCH_EXEC ... WATCH_TRUNCATE   which events' hooks exist (some rule watches them)
 *   HOOK_EXEC_RAW           exec from the raw tracepoint sched_process_exec (bprm: the file run);
 *                           else the tracepoint (the name as the caller passed it)
 *   BPRM_ARG, BPRM_FILE_OFFSET, BPRM_FILENAME_OFFSET, BPRM_INTERP_OFFSET   the raw tracepoint's
 *                           linux_binprm argument, and its file, filename and interp
 *   HAS_<SYSCALL>           the syscall's tracepoints exist on this kernel
 *   USES_PCOMM              some rule names a parent comm: read it
 *   FILTER_PID/TARGET_PID   -p
 *   HOST_MNTNS              PID 1's mount namespace: others are containers
 *   DRY_RUN                 take no action; report what would have been done
 *   EMIT_RECORDS            0: count only (the exporter)
 *   LSM_DENY                compile the BPF LSM hooks for deny rules (attached only if the kernel
 *                           accepts them; otherwise user space turns deny into kill in `rules`)
 *   the offsets of bpfkit/file_path.h, bpfkit/fd.h (with the socket's), bpfkit/task.h;
 *   FILE_INODE_OFFSET, INODE_MODE_OFFSET, SOCK_FAMILY_OFFSET (dup: is the old descriptor a network socket)
 *   USE_RINGBUF/RINGBUF_PAGES   the events channel (bpfkit/events.h) */
#include <uapi/linux/ptrace.h>
#include "bpfkit/events.h"
#include "bpfkit/task.h"
#include "bpfkit/fd.h"
#include "bpfkit/file_path.h"
#include "bpfkit/parent_comm.h"
#include "bpfkit/self.h"

/* tools/secwatch/model.ts EVENT_KINDS */
#define EVENT_EXEC 0
#define EVENT_OPEN 1
#define EVENT_CONNECT 2
#define EVENT_PTRACE 3
#define EVENT_MODULE 4
#define EVENT_CHMOD 5
#define EVENT_LINK 6
#define EVENT_DUP 7
#define EVENT_BPF 8
#define EVENT_TRUNCATE 9

/* model.ts OPEN_FLAGS: what a rule asks of open's flags */
#define OPEN_READ 1
#define OPEN_WRITE 2
#define OPEN_CREATE 4
#define OPEN_TRUNC 8
#define OPEN_APPEND 16

/* The rules as bit masks (program.ts writes them from model.ts's RuleSlots): bit i is rule i.
 * Matching an event is then a few ANDs, with no loop over the rules: each condition keeps the
 * rules it holds for, and the rules that do not have it. */
struct rule_set {
    u64 by_event[16];        /* the rules of each EVENT_* */
    u64 need_path;           /* rules with path/path_prefix: only those the path's entry includes */
    u64 need_comm;
    u64 need_pcomm;
    u64 need_uid;
    u64 need_value;          /* port (connect), request (ptrace), new fd (dup) */
    u64 need_flags;
    u64 by_flag[12];         /* rules asking for flag bit i: OPEN_* (bits 0-4), S_IS* (bits 9-11) */
    u64 container_only;
    u64 host_only;
    u64 lsm_deny;            /* deny rules the LSM hooks enforce (0 where they are not attached) */
    u64 acting;              /* kill and deny rules */
    u64 path_cond;           /* rules with any path condition (exceptions included) */
};

struct masks {
    u64 include;
    u64 exclude;
};

struct path_key {
    u32 prefixlen;   /* in bits, as LPM tries count: 8 per byte, the NUL included */
    char path[BPFKIT_PATH_MAX];
};

struct comm_key {
    char comm[16];
};

BPF_ARRAY(rule_set, struct rule_set, 1);
struct value_key {
    u32 event;
    u32 value;
};
BPF_HASH(value_rules, struct value_key, struct masks, 1024);
BPF_HASH(uid_rules, u32, struct masks, 1024);
BPF_F_TABLE("lpm_trie", struct path_key, struct masks, path_rules, 1024, BPF_F_NO_PREALLOC);
BPF_HASH(comm_rules, struct comm_key, struct masks, 1024);
#if USES_PCOMM
BPF_HASH(pcomm_rules, struct comm_key, struct masks, 1024);
#endif
/* Per rule bit: the events it matched, and the actions taken (exact even when records are lost). */
BPF_PERCPU_ARRAY(alert_counts, u64, 64);
BPF_PERCPU_ARRAY(action_counts, u64, 64);

/* One alert (model.ts SecEvent). */
struct alert_record {
    u64 ts;
    u64 matched;     /* rule bits matched */
    u64 acted;       /* rule bits whose action was taken */
    u64 held_back;   /* rule bits whose action DRY_RUN held back */
    u32 kind;        /* EVENT_* */
    u32 syscall;     /* program.ts SYSCALL_NAMES index */
    u32 pid;
    u32 tid;
    u32 ppid;
    u32 uid;
    u32 flags;       /* open: O_* as passed; chmod: the mode; dup: dup3's flags */
    u32 value;       /* connect: port; ptrace: request; dup: the new fd; bpf: program type */
    u32 value2;      /* ptrace: the target pid; dup: the old fd; connect: the family */
    u32 in_container;
    u32 truncated;   /* the path was cut at its start */
    u32 unresolved;  /* a name with "." or ".." segments (or "//"): user space decides its path */
    u8 addr[16];     /* connect: IPv4 (first 4 bytes) or IPv6 */
    char comm[16];
    char pcomm[16];
    char path[BPFKIT_PATH_MAX];
    char path2[BPFKIT_PATH_MAX];   /* link: the new name */
};

/* What one event is matched on, gathered by its hook (per CPU: too big for the stack). */
struct facts {
    struct path_key key;
    struct bpfkit_path_work work;
    struct alert_record rec;
    u32 match_flags;   /* OPEN_* (open) or mode & 07000 (chmod): what rule_set.by_flag tests */
};
BPF_PERCPU_ARRAY(scratch, struct facts, 1);

/* open's flags, between the call's entry and its exit (keyed by thread). LRU: an entry whose exit
 * was never seen (secwatch attached between the two) must not keep its slot for ever. */
struct pending_open {
    u32 flags;
    u32 syscall;
};
BPF_TABLE("lru_hash", u32, struct pending_open, pending_opens, 10240);

/* program.ts SYSCALL_NAMES */
#define SYS_EXECVE 0
#define SYS_OPEN 1
#define SYS_OPENAT 2
#define SYS_OPENAT2 3
#define SYS_CREAT 4
#define SYS_CONNECT 5
#define SYS_PTRACE 6
#define SYS_INIT_MODULE 7
#define SYS_FINIT_MODULE 8
#define SYS_CHMOD 9
#define SYS_FCHMODAT 10
#define SYS_FCHMODAT2 11
#define SYS_FCHMOD 12
#define SYS_SYMLINK 13
#define SYS_SYMLINKAT 14
#define SYS_LINK 15
#define SYS_LINKAT 16
#define SYS_DUP2 17
#define SYS_DUP3 18
#define SYS_BPF 19
#define SYS_TRUNCATE 20
#define SYS_FTRUNCATE 21

#define AT_FDCWD_VALUE -100

/* secwatch itself is never watched (it opens and loads what it must). */
static __always_inline bool watched_task(u32 tgid)
{
    if (bpfkit_is_self(tgid))
        return false;
#if FILTER_PID
    if (tgid != TARGET_PID)
        return false;
#endif
    return true;
}

static __always_inline bool current_in_container(void)
{
    return bpfkit_current_mntns() != HOST_MNTNS;
}

/* The scratch for one event, its record started; 0 for an event not watched. */
static __always_inline struct facts *facts_begin(u32 kind, u32 syscall)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32;
    if (!watched_task(tgid))
        return 0;
    int zero = 0;
    struct facts *f = scratch.lookup(&zero);
    if (!f)
        return 0;
    struct alert_record *r = &f->rec;
    r->ts = bpf_ktime_get_ns();
    r->matched = 0;
    r->acted = 0;
    r->held_back = 0;
    r->kind = kind;
    r->syscall = syscall;
    r->pid = tgid;
    r->tid = id;
    r->ppid = 0;
    r->uid = bpf_get_current_uid_gid();
    r->flags = 0;
    r->value = 0;
    r->value2 = 0;
    r->truncated = 0;
    r->unresolved = 0;
    r->path[0] = 0;
    r->path2[0] = 0;
    r->pcomm[0] = 0;
    f->match_flags = 0;
    /* comm is a hash key: NUL-padded. bpf_get_current_comm() pads only since Linux 6.x (6.1
     * leaves the bytes after the NUL as the scratch's last event had them). */
    __builtin_memset(r->comm, 0, sizeof(r->comm));
    bpf_get_current_comm(r->comm, sizeof(r->comm));
#if USES_PCOMM
    bpfkit_current_parent_comm(r->pcomm);
#endif
#if USES_CONTAINER
    r->in_container = current_in_container();
#endif
    bpfkit_path_reset(&f->work);
    return f;
}

/* The path built in f->work becomes the record's path (and the prefix tree's key). */
static __always_inline void facts_take_path(struct facts *f)
{
    /* Masked first, so that the verifier bounds the length it is computed from. */
    u32 start = f->work.start & (2 * BPFKIT_PATH_MAX - 1);
    u32 len = start < BPFKIT_PATH_END ? BPFKIT_PATH_END - start : 0;
    if (len > BPFKIT_PATH_MAX - 1)
        len = BPFKIT_PATH_MAX - 1;
    bpf_probe_read_kernel(f->rec.path, len + 1, &f->work.buf[start]);
    f->rec.truncated = f->work.truncated;
}

/* Whether a name has a "." or ".." segment, or an empty one ("a//b"): the kernel resolves those,
 * this program does not (collapsing them is a loop the verifier would have to walk with every
 * state), so the path built from such a name is not the file's, and a prefix rule could be
 * sidestepped with "/tmp/../dev/shm/x". Such events go to user space for their path conditions. */
static __always_inline bool name_has_dot_segments(const char *name)
{
    bool dotted = false;
    u32 seg = 0;   /* in the current segment: 0 nothing yet, 1 ".", 2 "..", 3 anything else */
    /* Up to the NUL, not to a length: a bound the compiler can fold into the length (which the
     * caller checked) leaves Linux 6.1's verifier walking the loop past the buffer. */
    for (u32 i = 0; i < BPFKIT_PATH_MAX - 1; i++) {
        char c = name[i & (BPFKIT_PATH_MAX - 1)];
        if (!c)
            break;
        if (c == '/') {
            if (i > 0 && seg < 3)
                dotted = true;
            seg = 0;
        } else if (c == '.' && seg < 2) {
            seg++;
        } else {
            seg = 3;
        }
    }
    return dotted || seg == 1 || seg == 2;
}

/* A name the caller passed, with its directory fd: absolute as given, else resolved from the
 * directory (the working directory for AT_FDCWD). "." and ".." are kept as written. `user`: the
 * name is in the caller's memory (else the kernel's, as a tracepoint's string). */
static __always_inline void facts_name_path(struct facts *f, long dirfd, const char *name, bool user)
{
    struct bpfkit_path_work *w = &f->work;
    char *tmp = &w->buf[2 * BPFKIT_PATH_MAX];
    long n = user ? bpf_probe_read_user_str(tmp, BPFKIT_PATH_MAX, name) : bpf_probe_read_kernel_str(tmp, BPFKIT_PATH_MAX, name);
    if (n <= 1 || !bpfkit_path_put(w, tmp, n - 1)) {
        facts_take_path(f);
        return;
    }
    f->rec.unresolved = name_has_dot_segments(tmp);
    if (tmp[0] != '/' && bpfkit_path_slash(w)) {
        const char *dir = 0;
        /* dirfd is an int: a tracepoint field of 8 bytes widens it without its sign. */
        if ((int)dirfd == AT_FDCWD_VALUE) {
            const char *fs = bpfkit_path_ptr((const void *)bpf_get_current_task(), TASK_FS_OFFSET);
            if (fs)
                dir = fs + FS_PWD_OFFSET;
        } else {
            const char *file = bpfkit_current_fd_file((int)dirfd);
            if (file)
                dir = file + FILE_PATH_OFFSET;
        }
        if (dir)
            bpfkit_path_prepend(w, bpfkit_path_ptr(dir, PATH_DENTRY_OFFSET), bpfkit_path_ptr(dir, PATH_MNT_OFFSET));
    }
    facts_take_path(f);
}

/* The path of the file open at fd in the caller. */
static __always_inline void facts_fd_path(struct facts *f, long fd)
{
    bpfkit_file_path(&f->work, bpfkit_current_fd_file(fd));
    facts_take_path(f);
}

/* The masks stored for a key, or none. */
static __always_inline struct masks masks_of(struct masks *m)
{
    struct masks none = {};
    return m ? *m : none;
}

/* The rules the event matches. `lsm`: called from a BPF LSM hook, which decides the deny rules
 * (and only those); while the hooks are attached the syscall hooks leave deny rules to them. */
static __always_inline u64 match_rules(struct facts *f, bool has_path, bool lsm)
{
    int zero = 0;
    struct rule_set *set = rule_set.lookup(&zero);
    if (!set)
        return 0;
    struct alert_record *r = &f->rec;
    u64 m = set->by_event[r->kind & 15];
    m &= lsm ? set->lsm_deny : ~set->lsm_deny;
    if (!m)
        return 0;
    if (has_path) {
        u32 len = bpfkit_path_len(&f->work);
        if (len > BPFKIT_PATH_MAX - 1)
            len = BPFKIT_PATH_MAX - 1;
        f->key.prefixlen = (len + 1) * 8;
        __builtin_memcpy(f->key.path, r->path, sizeof(f->key.path));
    } else {
        f->key.prefixlen = 0;
    }
    struct masks path = {};
    if (has_path && r->unresolved) {
        /* Every path condition holds for now; user space decides them on the collapsed path. */
        path.include = ~0ULL;
    } else if (has_path) {
        path = masks_of(path_rules.lookup(&f->key));
    }
    m &= (path.include | ~set->need_path) & ~path.exclude;
    struct masks comm = masks_of(comm_rules.lookup((struct comm_key *)r->comm));
    m &= (comm.include | ~set->need_comm) & ~comm.exclude;
#if USES_PCOMM
    struct masks pcomm = masks_of(pcomm_rules.lookup((struct comm_key *)r->pcomm));
    m &= (pcomm.include | ~set->need_pcomm) & ~pcomm.exclude;
#endif
    u32 uid = r->uid;
    struct masks uids = masks_of(uid_rules.lookup(&uid));
    m &= (uids.include | ~set->need_uid) & ~uids.exclude;
    struct value_key vk = { .event = r->kind, .value = r->value };
    struct masks values = masks_of(value_rules.lookup(&vk));
    m &= values.include | ~set->need_value;
    u64 flagged = 0;
#pragma unroll
    for (int b = 0; b < 12; b++)
        if (f->match_flags & (1U << b))
            flagged |= set->by_flag[b];
    m &= flagged | ~set->need_flags;
#if USES_CONTAINER
    m &= r->in_container ? ~set->host_only : ~set->container_only;
#endif
    return m;
}

/* A matched event: counted per rule, its action taken (SIGKILL here; an LSM hook returns EPERM
 * when this says so), and its record sent. True when the call is to be refused. */
static __always_inline bool report(void *ctx, struct facts *f, u64 matched, bool lsm)
{
    struct alert_record *r = &f->rec;
    int zero = 0;
    struct rule_set *set = rule_set.lookup(&zero);
    u64 acting = set ? matched & set->acting : 0;
    /* A match user space has yet to confirm is never acted on in the kernel. */
    if (set && r->unresolved)
        acting &= ~set->path_cond;
    for (u32 i = 0; i < N_RULES; i++) {
        if (!(matched & (1ULL << i)))
            continue;
        alert_counts.increment(i);
#if !DRY_RUN
        if (acting & (1ULL << i))
            action_counts.increment(i);
#endif
    }
    r->matched = matched;
#if DRY_RUN
    r->held_back = acting;
    acting = 0;
#else
    r->acted = acting;
    /* The signal is delivered when the call returns to user space: the call completes, and the
     * process runs no further instruction of its own. */
    if (acting && !lsm)
        bpf_send_signal(9);
#endif
#if EMIT_RECORDS
    r->ppid = bpfkit_current_ppid();
#if !USES_PCOMM
    bpfkit_current_parent_comm(r->pcomm);
#endif
#if !USES_CONTAINER
    r->in_container = current_in_container();
#endif
    bpfkit_event_output(ctx, r, sizeof(*r));
#endif
    return acting != 0;
}

/* The end of every syscall hook: match, and report what matched. */
static __always_inline int decide(void *ctx, struct facts *f, bool has_path)
{
    u64 matched = match_rules(f, has_path, false);
    if (matched)
        report(ctx, f, matched, false);
    return 0;
}

/* An event on the file at a descriptor (fchmod, ftruncate, finit_module); `flags` as the record's. */
static __always_inline int fd_event(void *ctx, u32 kind, u32 syscall, long fd, u32 flags, u32 match_flags)
{
    struct facts *f = facts_begin(kind, syscall);
    if (!f)
        return 0;
    f->rec.flags = flags;
    f->match_flags = match_flags;
    facts_fd_path(f, fd);
    return decide(ctx, f, true);
}

/* An event on a name the caller passed, relative to dirfd (chmod, fchmodat, truncate). */
static __always_inline int name_event(void *ctx, u32 kind, u32 syscall, long dirfd, const char *name, u32 flags, u32 match_flags)
{
    struct facts *f = facts_begin(kind, syscall);
    if (!f)
        return 0;
    f->rec.flags = flags;
    f->match_flags = match_flags;
    facts_name_path(f, dirfd, name, true);
    return decide(ctx, f, true);
}

/* ---- exec: once the new program is loaded, before its first instruction ---- */
#if WATCH_EXEC
#if HOOK_EXEC_RAW
RAW_TRACEPOINT_PROBE(sched_process_exec)
{
    struct facts *f = facts_begin(EVENT_EXEC, SYS_EXECVE);
    if (!f)
        return 0;
    const void *bprm = (const void *)ctx->args[BPRM_ARG];
    /* A script's bprm->file is its interpreter by now; the script itself is known only by the
     * name exec was given (binfmt_script replaced bprm->interp, which starts as that name). */
    const char *filename = bpfkit_path_ptr(bprm, BPRM_FILENAME_OFFSET);
    if (filename != bpfkit_path_ptr(bprm, BPRM_INTERP_OFFSET)) {
        facts_name_path(f, AT_FDCWD_VALUE, filename, false);
    } else {
        bpfkit_file_path(&f->work, bpfkit_path_ptr(bprm, BPRM_FILE_OFFSET));
        facts_take_path(f);
    }
    return decide(ctx, f, true);
}
#else
TRACEPOINT_PROBE(sched, sched_process_exec)
{
    struct facts *f = facts_begin(EVENT_EXEC, SYS_EXECVE);
    if (!f)
        return 0;
    unsigned short loc = args->data_loc_filename & 0xffff;
    facts_name_path(f, AT_FDCWD_VALUE, (const char *)args + loc, false);
    return decide(args, f, true);
}
#endif
#endif

/* ---- open: at the exit, from the descriptor it returned (the file really opened) ---- */
#if WATCH_OPEN
static __always_inline int open_enter(u32 syscall, u32 flags)
{
    u64 id = bpf_get_current_pid_tgid();
    if (!watched_task(id >> 32))
        return 0;
    u32 tid = id;
    struct pending_open p = { .flags = flags, .syscall = syscall };
    pending_opens.update(&tid, &p);
    return 0;
}

static __always_inline u32 open_bits(u32 flags)
{
    u32 access = flags & 3;   /* O_ACCMODE */
    u32 bits = 0;
    if (access == 0 || access == 2)
        bits |= OPEN_READ;
    if (access == 1 || access == 2)
        bits |= OPEN_WRITE;
    if (flags & 0100)   /* O_CREAT */
        bits |= OPEN_CREATE;
    if (flags & 01000)  /* O_TRUNC */
        bits |= OPEN_TRUNC;
    if (flags & 02000)  /* O_APPEND */
        bits |= OPEN_APPEND;
    return bits;
}

static __always_inline int open_exit(void *ctx, long ret)
{
    u32 tid = bpf_get_current_pid_tgid();
    struct pending_open *p = pending_opens.lookup(&tid);
    if (!p)
        return 0;
    struct pending_open call = *p;
    pending_opens.delete(&tid);
    if (ret < 0)
        return 0;
    return fd_event(ctx, EVENT_OPEN, call.syscall, ret, call.flags, open_bits(call.flags));
}

#if HAS_OPEN
TRACEPOINT_PROBE(syscalls, sys_enter_open) { return open_enter(SYS_OPEN, args->flags); }
TRACEPOINT_PROBE(syscalls, sys_exit_open) { return open_exit(args, args->ret); }
#endif
#if HAS_OPENAT
TRACEPOINT_PROBE(syscalls, sys_enter_openat) { return open_enter(SYS_OPENAT, args->flags); }
TRACEPOINT_PROBE(syscalls, sys_exit_openat) { return open_exit(args, args->ret); }
#endif
#if HAS_OPENAT2
TRACEPOINT_PROBE(syscalls, sys_enter_openat2)
{
    u64 flags = 0;
    bpf_probe_read_user(&flags, sizeof(flags), (const void *)args->how);   /* open_how.flags */
    return open_enter(SYS_OPENAT2, flags);
}
TRACEPOINT_PROBE(syscalls, sys_exit_openat2) { return open_exit(args, args->ret); }
#endif
#if HAS_CREAT
/* creat() is open(O_CREAT|O_WRONLY|O_TRUNC). */
TRACEPOINT_PROBE(syscalls, sys_enter_creat) { return open_enter(SYS_CREAT, 0100 | 01 | 01000); }
TRACEPOINT_PROBE(syscalls, sys_exit_creat) { return open_exit(args, args->ret); }
#endif
#endif /* WATCH_OPEN */

/* ---- connect: at the entry, the destination ---- */
#if WATCH_CONNECT
/* connect's destination from a copy of its sockaddr (sockaddr_in6's 28 bytes), or 0 for another
 * family than IPv4 and IPv6. */
static __always_inline struct facts *connect_facts(const u8 *sa)
{
    u16 family = sa[0] | (sa[1] << 8);
    if (family != 2 && family != 10)   /* AF_INET, AF_INET6 */
        return 0;
    struct facts *f = facts_begin(EVENT_CONNECT, SYS_CONNECT);
    if (!f)
        return 0;
    f->rec.value = (sa[2] << 8) | sa[3];   /* the port, in network order */
    f->rec.value2 = family;
    if (family == 2)
        __builtin_memcpy(f->rec.addr, sa + 4, 4);
    else
        __builtin_memcpy(f->rec.addr, sa + 8, 16);
    return f;
}

#if HAS_CONNECT
TRACEPOINT_PROBE(syscalls, sys_enter_connect)
{
    /* sockaddr_in first (16 bytes): reading past a shorter address could fail on a page's end. */
    u8 sa[28] = {};
    const u8 *user = (const u8 *)args->uservaddr;
    bpf_probe_read_user(sa, 16, user);
    if (sa[0] == 10 && args->addrlen >= 28)
        bpf_probe_read_user(sa + 16, 12, user + 16);
    struct facts *f = connect_facts(sa);
    return f ? decide(args, f, false) : 0;
}
#endif
#endif

/* ---- ptrace ---- */
#if WATCH_PTRACE && HAS_PTRACE
TRACEPOINT_PROBE(syscalls, sys_enter_ptrace)
{
    struct facts *f = facts_begin(EVENT_PTRACE, SYS_PTRACE);
    if (!f)
        return 0;
    f->rec.value = args->request;
    f->rec.value2 = args->pid;
    return decide(args, f, false);
}
#endif

/* ---- module loading: init_module (an image in memory) and finit_module (a file) ---- */
#if WATCH_MODULE
#if HAS_INIT_MODULE
TRACEPOINT_PROBE(syscalls, sys_enter_init_module)
{
    struct facts *f = facts_begin(EVENT_MODULE, SYS_INIT_MODULE);
    return f ? decide(args, f, false) : 0;
}
#endif
#if HAS_FINIT_MODULE
TRACEPOINT_PROBE(syscalls, sys_enter_finit_module) { return fd_event(args, EVENT_MODULE, SYS_FINIT_MODULE, args->fd, 0, 0); }
#endif
#endif

/* ---- chmod: the mode asked for ---- */
#if WATCH_CHMOD
static __always_inline int chmod_name(void *ctx, u32 syscall, long dirfd, const char *name, u32 mode)
{
    return name_event(ctx, EVENT_CHMOD, syscall, dirfd, name, mode, mode & 07000);
}
#if HAS_CHMOD
TRACEPOINT_PROBE(syscalls, sys_enter_chmod) { return chmod_name(args, SYS_CHMOD, AT_FDCWD_VALUE, args->filename, args->mode); }
#endif
#if HAS_FCHMODAT
TRACEPOINT_PROBE(syscalls, sys_enter_fchmodat) { return chmod_name(args, SYS_FCHMODAT, args->dfd, args->filename, args->mode); }
#endif
#if HAS_FCHMODAT2
TRACEPOINT_PROBE(syscalls, sys_enter_fchmodat2) { return chmod_name(args, SYS_FCHMODAT2, args->dfd, args->filename, args->mode); }
#endif
#if HAS_FCHMOD
TRACEPOINT_PROBE(syscalls, sys_enter_fchmod) { return fd_event(args, EVENT_CHMOD, SYS_FCHMOD, args->fd, args->mode, args->mode & 07000); }
#endif
#endif /* WATCH_CHMOD */

/* ---- link and symlink: the path is the existing file the new name points at ---- */
#if WATCH_LINK
static __always_inline int link_names(void *ctx, u32 syscall, long olddfd, const char *oldname, const char *newname)
{
    struct facts *f = facts_begin(EVENT_LINK, syscall);
    if (!f)
        return 0;
    facts_name_path(f, olddfd, oldname, true);
    bpf_probe_read_user_str(f->rec.path2, sizeof(f->rec.path2), newname);
    return decide(ctx, f, true);
}
#if HAS_SYMLINK
TRACEPOINT_PROBE(syscalls, sys_enter_symlink) { return link_names(args, SYS_SYMLINK, AT_FDCWD_VALUE, args->oldname, args->newname); }
#endif
#if HAS_SYMLINKAT
TRACEPOINT_PROBE(syscalls, sys_enter_symlinkat) { return link_names(args, SYS_SYMLINKAT, AT_FDCWD_VALUE, args->oldname, args->newname); }
#endif
#if HAS_LINK
TRACEPOINT_PROBE(syscalls, sys_enter_link) { return link_names(args, SYS_LINK, AT_FDCWD_VALUE, args->oldname, args->newname); }
#endif
#if HAS_LINKAT
TRACEPOINT_PROBE(syscalls, sys_enter_linkat) { return link_names(args, SYS_LINKAT, args->olddfd, args->oldname, args->newname); }
#endif
#endif /* WATCH_LINK */

/* ---- dup2/dup3 of a socket: only a socket's duplicates are events ---- */
#if WATCH_DUP
static __always_inline int dup_socket(void *ctx, u32 syscall, long oldfd, long newfd, u32 flags)
{
    u64 id = bpf_get_current_pid_tgid();
    if (!watched_task(id >> 32))
        return 0;
    const char *file = bpfkit_current_fd_file(oldfd);
    const char *inode = bpfkit_path_ptr(file, FILE_INODE_OFFSET);
    u16 mode = 0;
    if (inode)
        bpf_probe_read_kernel(&mode, sizeof(mode), inode + INODE_MODE_OFFSET);
    if ((mode & 0170000) != 0140000)   /* S_IFMT, S_IFSOCK */
        return 0;
    /* A network socket only, as Falco's fd.type ipv4/ipv6: programs pass socketpairs as stdio
     * (node's child processes get them), which is no redirection to the network. */
    const char *sk = bpfkit_current_fd_sock(oldfd);
    u16 family = 0;
    if (sk)
        bpf_probe_read_kernel(&family, sizeof(family), sk + SOCK_FAMILY_OFFSET);
    if (family != 2 && family != 10)   /* AF_INET, AF_INET6 */
        return 0;
    struct facts *f = facts_begin(EVENT_DUP, syscall);
    if (!f)
        return 0;
    f->rec.value = newfd;
    f->rec.value2 = oldfd;
    f->rec.flags = flags;
    return decide(ctx, f, false);
}
#if HAS_DUP2
TRACEPOINT_PROBE(syscalls, sys_enter_dup2) { return dup_socket(args, SYS_DUP2, args->oldfd, args->newfd, 0); }
#endif
#if HAS_DUP3
TRACEPOINT_PROBE(syscalls, sys_enter_dup3) { return dup_socket(args, SYS_DUP3, args->oldfd, args->newfd, args->flags); }
#endif
#endif /* WATCH_DUP */

/* ---- bpf(BPF_PROG_LOAD): the program type ---- */
#if WATCH_BPF && HAS_BPF
TRACEPOINT_PROBE(syscalls, sys_enter_bpf)
{
    if (args->cmd != 5)   /* BPF_PROG_LOAD */
        return 0;
    struct facts *f = facts_begin(EVENT_BPF, SYS_BPF);
    if (!f)
        return 0;
    u32 prog_type = 0;
    bpf_probe_read_user(&prog_type, sizeof(prog_type), (const void *)args->uattr);
    f->rec.value = prog_type;
    return decide(args, f, false);
}
#endif

/* ---- truncate/ftruncate ---- */
#if WATCH_TRUNCATE
#if HAS_TRUNCATE
TRACEPOINT_PROBE(syscalls, sys_enter_truncate) { return name_event(args, EVENT_TRUNCATE, SYS_TRUNCATE, AT_FDCWD_VALUE, args->path, 0, 0); }
#endif
#if HAS_FTRUNCATE
TRACEPOINT_PROBE(syscalls, sys_enter_ftruncate) { return fd_event(args, EVENT_TRUNCATE, SYS_FTRUNCATE, args->fd, 0, 0); }
#endif
#endif /* WATCH_TRUNCATE */

/* ---- deny: BPF LSM hooks, which refuse the call before it has any effect ----
 * Each gets its hook's arguments and the return value of the LSMs before it (the last slot). */
#if LSM_DENY
static __always_inline int deny_verdict(void *ctx, struct facts *f, bool has_path)
{
    u64 matched = match_rules(f, has_path, true);
    if (matched && report(ctx, f, matched, true))
        return -1;   /* -EPERM */
    return 0;
}

#if WATCH_EXEC
/* Before the exec: comm is still the caller's, so it is taken from the file's name as exec
 * will set it. */
int lsm__bprm_check_security(unsigned long long *ctx)
{
    if ((int)ctx[1])
        return (int)ctx[1];
    struct facts *f = facts_begin(EVENT_EXEC, SYS_EXECVE);
    if (!f)
        return 0;
    const char *file = bpfkit_path_ptr((const void *)ctx[0], BPRM_FILE_OFFSET);
    bpfkit_file_path(&f->work, file);
    facts_take_path(f);
    const char *dentry = bpfkit_path_ptr(file + FILE_PATH_OFFSET, PATH_DENTRY_OFFSET);
    __builtin_memset(f->rec.comm, 0, sizeof(f->rec.comm));   /* a hash key: NUL-padded */
    bpf_probe_read_kernel_str(f->rec.comm, sizeof(f->rec.comm), bpfkit_path_ptr(dentry, DENTRY_NAME_OFFSET));
    return deny_verdict(ctx, f, true);
}
#endif

#if WATCH_OPEN
int lsm__file_open(unsigned long long *ctx)
{
    if ((int)ctx[1])
        return (int)ctx[1];
    u32 tid = bpf_get_current_pid_tgid();
    struct pending_open *p = pending_opens.lookup(&tid);
    struct facts *f = facts_begin(EVENT_OPEN, p ? p->syscall : SYS_OPENAT);
    if (!f)
        return 0;
    if (p) {
        f->rec.flags = p->flags;
        f->match_flags = open_bits(p->flags);
    }
    bpfkit_file_path(&f->work, (const void *)ctx[0]);
    facts_take_path(f);
    return deny_verdict(ctx, f, true);
}
#endif

#if WATCH_CONNECT
int lsm__socket_connect(unsigned long long *ctx)
{
    if ((int)ctx[3])
        return (int)ctx[3];
    u8 sa[28] = {};
    u32 len = ctx[2];
    if (len > sizeof(sa))
        len = sizeof(sa);
    bpf_probe_read_kernel(sa, len, (const void *)ctx[1]);
    struct facts *f = connect_facts(sa);
    return f ? deny_verdict(ctx, f, false) : 0;
}
#endif
#endif /* LSM_DENY */
