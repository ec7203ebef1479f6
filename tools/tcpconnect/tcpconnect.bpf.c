/* tcpconnect: one record per TCP connect() that sent a SYN, with the process that called it
 * (tools/tcpconnect/README.md says what is traced where, and why).
 *
 * The state machine's SYN_SENT change fires inside connect() (tcp_v4_connect/tcp_v6_connect),
 * in the caller's context: the process, its UID and the filters are taken there. The local port
 * is chosen only after it (inet_hash_connect), so the record is completed and sent at whichever
 * comes first: the socket's next state change (ESTABLISHED, or CLOSE when refused; often in
 * softirq, hence the socket-keyed map) or the return of connect() (a non-blocking one returns
 * before the handshake ends). A socket that leaves SYN_SENT with no local port never sent a SYN.
 *
 * Configuration, as #defines of numbers (tools/tcpconnect/program.ts):
 *   CONNECT_TP, CONNECT_RAW_TP, CONNECT_KPROBES   where connects are seen: exactly one is 1
 *   RETURN_TP             1: syscalls:sys_exit_connect completes non-blocking connects
 *   COUNT_MODE            -c: count per (family, saddr, daddr, dport) in `counts`, send nothing
 *   FILTER_PID, FILTER_FAMILY (0 = all), FILTER_UID/TARGET_UID, FILTER_PORT (the `ports` map),
 *   FILTER_CGROUP_MAP, FILTER_MNTNS_MAP, PIN_ID (bpfkit/containers.h)
 *   SOCK_*_OFFSET or SOCK_OFFSETS_FROM_HEADERS   struct sock fields (bpfkit/sock.h)
 *   SOCK_PROTOCOL_OFFSET, INET_SPORT_OFFSET       the raw tracepoint's extra fields
 *   USE_RINGBUF/RINGBUF_PAGES   the events channel (bpfkit/events.h)
 *   MAX_PORTS, MAX_COUNTS
 */
#if CONNECT_TP + CONNECT_RAW_TP + CONNECT_KPROBES != 1
#error "exactly one of CONNECT_TP, CONNECT_RAW_TP and CONNECT_KPROBES must be 1"
#endif

#if CONNECT_KPROBES
#include <uapi/linux/ptrace.h>
#endif
#include "bpfkit/sock.h"
#include "bpfkit/inet_flow.h"
#if !COUNT_MODE
#include "bpfkit/events.h"
#endif

#if CONNECT_RAW_TP && SOCK_OFFSETS_FROM_HEADERS
#include <net/inet_sock.h>
#define SOCK_PROTOCOL_OFFSET offsetof(struct sock, sk_protocol)
#define INET_SPORT_OFFSET offsetof(struct inet_sock, inet_sport)
#endif

/* Our own names: the kernel headers, included on the fallback paths, define the usual ones. */
#define IPPROTO_TCP_ 6
#define TCP_SYN_SENT_ 2

/* One connect. Its layout is also the one test/kernel/tcpconnect.test.ts checks
 * tools/tcpconnect/events.ts's offsets against (the value type of `pending`). */
struct connect_event {
    u64 ts;                  /* bpf_ktime_get_ns() when connect() set SYN_SENT */
    u32 pid;                 /* tgid of the caller */
    u32 uid;
    char comm[16];
    struct bpfkit_flow flow; /* local = source; lport 0 until the port is chosen */
};

/* Connects whose local port is not known yet, by socket. LRU: a socket whose end was not seen
 * (tracing stopped meanwhile) must not hold its slot for ever. */
BPF_TABLE("lru_hash", u64, struct connect_event, pending, 10240);

#if CONNECT_KPROBES || RETURN_TP
/* The socket a thread is connecting, from SYN_SENT (or tcp_v*_connect's entry) to the return. */
BPF_TABLE("lru_hash", u32, u64, connecting, 10240);
#endif

#if FILTER_PORT
/* -P: destination ports (host order) → 1, filled by user space before attaching. */
BPF_HASH(ports, u16, u8, MAX_PORTS);
#endif

#if COUNT_MODE
/* -c: connects by flow with lport 0 (bcc's key: source, destination, destination port). */
BPF_HASH(counts, struct bpfkit_flow, u64, MAX_COUNTS);
/* Connects not counted because `counts` was full. */
BPF_ARRAY(dropped, u64, 1);
#endif

#include "bpfkit/containers.h"

/* -p, -u and the container maps: the calling task. */
static __always_inline bool task_traced(u32 pid, u32 uid)
{
#if FILTER_PID
    if (pid != FILTER_PID)
        return false;
#endif
#if FILTER_UID
    if (uid != TARGET_UID)
        return false;
#endif
    return bpfkit_container_allowed();
}

/* -4/-6 and -P: the destination. */
static __always_inline bool flow_traced(u16 family, u16 dport)
{
#if FILTER_FAMILY
    if (family != FILTER_FAMILY)
        return false;
#else
    if (family != BPFKIT_AF_INET && family != BPFKIT_AF_INET6)
        return false;
#endif
#if FILTER_PORT
    if (!ports.lookup(&dport))
        return false;
#endif
    return true;
}

/* The caller's identity, into a record whose flow is already filled. */
static __always_inline void fill_task(struct connect_event *ev, u32 pid, u32 uid)
{
    ev->ts = bpf_ktime_get_ns();
    ev->pid = pid;
    ev->uid = uid;
    bpf_get_current_comm(ev->comm, sizeof(ev->comm));
}

static __always_inline void emit(void *ctx, struct connect_event *ev)
{
#if COUNT_MODE
    struct bpfkit_flow key = ev->flow;
    key.lport = 0;
    u64 zero = 0;
    u64 *n = counts.lookup_or_try_init(&key, &zero);
    if (n) {
        __sync_fetch_and_add(n, 1);
    } else {
        int slot = 0;
        u64 *d = dropped.lookup(&slot);
        if (d)
            __sync_fetch_and_add(d, 1);
    }
#else
    bpfkit_event_output(ctx, ev, sizeof(*ev));
#endif
}

#if CONNECT_TP || CONNECT_RAW_TP
/* The socket left SYN_SENT, or connect() returned: the first to come sends the record. Deleting
 * the entry is the claim, so the two never both send it (they can run on two CPUs at once). */
static __always_inline void complete(void *ctx, u64 sk, u16 lport)
{
    struct connect_event *p = pending.lookup(&sk);
    if (!p)
        return;
    struct connect_event ev = *p;
    if (pending.delete(&sk) != 0)
        return;
    /* No port: connect() failed before a SYN was sent (no free local port), as bcc skips. */
    if (lport == 0)
        return;
    ev.flow.lport = lport;
    emit(ctx, &ev);
}

/* SYN_SENT, in connect(): the record so far, kept until the port is known. */
static __always_inline void started(u64 sk, struct connect_event *ev)
{
    pending.update(&sk, ev);
#if RETURN_TP
    u32 tid = bpf_get_current_pid_tgid();
    connecting.update(&tid, &sk);
#endif
}
#endif

#if CONNECT_TP
TRACEPOINT_PROBE(sock, inet_sock_set_state)
{
    if (args->protocol != IPPROTO_TCP_)
        return 0;
    u64 sk = (u64)args->skaddr;
    if (args->newstate == TCP_SYN_SENT_) {
        u64 pid_tgid = bpf_get_current_pid_tgid();
        u32 pid = pid_tgid >> 32;
        u32 uid = bpf_get_current_uid_gid();
        if (!task_traced(pid, uid) || !flow_traced(args->family, args->dport))
            return 0;
        struct connect_event ev = {};
        BPFKIT_FLOW_FROM_TP(ev.flow, args);
        fill_task(&ev, pid, uid);
        started(sk, &ev);
        return 0;
    }
    if (args->oldstate == TCP_SYN_SENT_)
        complete(args, sk, args->sport);
    return 0;
}
#endif

#if CONNECT_RAW_TP
/* Older kernels' layout of the same event: (sk, oldstate, newstate), fields read from the
 * socket. The local port is inet_sport, which a refused socket keeps (skc_num is already 0). */
static __always_inline u16 sock_sport(const void *sk)
{
    u16 sport = 0;
    bpf_probe_read_kernel(&sport, sizeof(sport), (const char *)sk + INET_SPORT_OFFSET);
    return bpf_ntohs(sport);
}

RAW_TRACEPOINT_PROBE(inet_sock_set_state)
{
    const void *sk = (const void *)ctx->args[0];
    int oldstate = ctx->args[1];
    int newstate = ctx->args[2];
    u16 protocol = 0;
    bpf_probe_read_kernel(&protocol, sizeof(protocol), (const char *)sk + SOCK_PROTOCOL_OFFSET);
    if (protocol != IPPROTO_TCP_)
        return 0;
    if (newstate == TCP_SYN_SENT_) {
        u64 pid_tgid = bpf_get_current_pid_tgid();
        u32 pid = pid_tgid >> 32;
        u32 uid = bpf_get_current_uid_gid();
        u16 family = bpfkit_sock_family(sk);
        u16 dport = bpfkit_sock_dport(sk);
        if (!task_traced(pid, uid) || !flow_traced(family, dport))
            return 0;
        struct connect_event ev = {};
        ev.flow.family = family;
        ev.flow.rport = dport;
        bpfkit_sock_addrs(sk, family, ev.flow.laddr, ev.flow.raddr);
        fill_task(&ev, pid, uid);
        started((u64)sk, &ev);
        return 0;
    }
    if (oldstate == TCP_SYN_SENT_)
        complete(ctx, (u64)sk, sock_sport(sk));
    return 0;
}
#endif

#if RETURN_TP
/* A non-blocking connect() returns with the handshake under way: its port is chosen by now. */
TRACEPOINT_PROBE(syscalls, sys_exit_connect)
{
    u32 tid = bpf_get_current_pid_tgid();
    u64 *skp = connecting.lookup(&tid);
    if (!skp)
        return 0;
    u64 sk = *skp;
    connecting.delete(&tid);
    u16 lport = bpfkit_sock_lport((const void *)sk);
    /* 0: the socket was closed meanwhile, and its state change has sent the record. */
    if (lport != 0)
        complete(args, sk, lport);
    return 0;
}
#endif

#if CONNECT_KPROBES
/* bcc's way: tcp_v4_connect/tcp_v6_connect's return, where everything is known; only a
 * successful return sent a SYN. */
int trace_connect_entry(struct pt_regs *ctx, void *sk)
{
    u64 pid_tgid = bpf_get_current_pid_tgid();
    if (!task_traced(pid_tgid >> 32, bpf_get_current_uid_gid()))
        return 0;
    u32 tid = pid_tgid;
    u64 skaddr = (u64)sk;
    connecting.update(&tid, &skaddr);
    return 0;
}

int trace_connect_return(struct pt_regs *ctx)
{
    u64 pid_tgid = bpf_get_current_pid_tgid();
    u32 tid = pid_tgid;
    u64 *skp = connecting.lookup(&tid);
    if (!skp)
        return 0;
    const void *sk = (const void *)*skp;
    connecting.delete(&tid);
    if (PT_REGS_RC(ctx) != 0)
        return 0;
    u16 family = bpfkit_sock_family(sk);
    u16 dport = bpfkit_sock_dport(sk);
    if (!flow_traced(family, dport))
        return 0;
    struct connect_event ev = {};
    ev.flow.family = family;
    ev.flow.rport = dport;
    ev.flow.lport = bpfkit_sock_lport(sk);
    bpfkit_sock_addrs(sk, family, ev.flow.laddr, ev.flow.raddr);
    fill_task(&ev, pid_tgid >> 32, bpf_get_current_uid_gid());
    emit(ctx, &ev);
    return 0;
}
#endif
