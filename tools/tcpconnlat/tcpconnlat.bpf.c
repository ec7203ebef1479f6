/* tcpconnlat: the latency of each active TCP open, from SYN_SENT (inside connect(), where the
 * process is the caller) to ESTABLISHED (often in softirq, where it is not). tools/tcpconnlat/
 * README.md says what is traced where, and why.
 *
 * Configuration, as #defines of numbers (tools/tcpconnlat/program.ts):
 *   STATE_FROM_TP      1: tracepoint sock:inet_sock_set_state (addresses from its fields)
 *   STATE_FROM_RAW_TP  1: raw tracepoint inet_sock_set_state (sk, oldstate, newstate)
 *   STATE_FROM_KPROBE  1: kprobe on tcp_set_state(sk, state)   (exactly one of the three is 1)
 *   SOCK_*_OFFSET, or SOCK_OFFSETS_FROM_HEADERS   the raw tracepoint and kprobe read the socket
 *                      (bpfkit/sock.h)
 *   FILTER_PID         -p: the connecting process (0: all)
 *   FILTER_FAMILY      -4/-6: AF_INET or AF_INET6 (0: both)
 *   MIN_LATENCY_NS     duration_ms: only connects at least this slow (0: all)
 *   MAX_PENDING        connects between SYN_SENT and ESTABLISHED the table holds
 *   USE_RINGBUF/RINGBUF_PAGES   the events channel (bpfkit/events.h)
 */
#if STATE_FROM_TP + STATE_FROM_RAW_TP + STATE_FROM_KPROBE != 1
#error "exactly one of STATE_FROM_TP, STATE_FROM_RAW_TP and STATE_FROM_KPROBE must be 1"
#endif

#if STATE_FROM_KPROBE
#include <uapi/linux/ptrace.h>
#endif
#include "bpfkit/inet_flow.h"
#if !STATE_FROM_TP
#include "bpfkit/sock.h"
#endif
/* Our own names: the kernel headers, included on the fallback paths, define the usual ones. */
#define IPPROTO_TCP_ 6
#define TCP_ESTABLISHED_ 1
#define TCP_SYN_SENT_ 2
#define TCP_CLOSE_ 7

/* What SYN_SENT notes for the socket: when, and who called connect(). */
struct pending_connect {
    u64 ts;
    u32 pid;
    u32 pad;
    char comm[16];
};

struct connlat_event {
    u64 ts;             /* ESTABLISHED, bpf_ktime_get_ns(): CLOCK_MONOTONIC */
    u64 latency_ns;     /* SYN_SENT to ESTABLISHED */
    u32 pid;            /* the caller of connect(), as noted at SYN_SENT */
    u32 pad;
    char comm[16];
    struct bpfkit_flow flow;
};
/* Filled in place in the ring buffer; with a perf buffer the per-CPU scratch events.h declares
 * for it is also what test/kernel/tcpconnlat.test.ts reads the record layout from. */
#define BPFKIT_EVENT struct connlat_event
#include "bpfkit/events.h"

/* Keyed by the socket's address. An entry leaves at ESTABLISHED, or at CLOSE when the connect
 * fails (refused, timed out, interrupted); LRU so that a socket whose CLOSE was never seen cannot
 * keep its slot for ever: the least recently noted connect goes first, which is the oldest SYN
 * still unanswered. */
BPF_TABLE("lru_hash", u64, struct pending_connect, pending, MAX_PENDING);

/* SYN_SENT: tcp_v4_connect()/tcp_v6_connect() (or a TCP Fast Open sendmsg()) sets it in the
 * caller's own context, the one place where pid and comm are the connecting process's. */
static __always_inline void connect_started(u64 sk, u16 family)
{
#if FILTER_FAMILY
    if (family != FILTER_FAMILY)
        return;
#endif
    u32 pid = bpf_get_current_pid_tgid() >> 32;
#if FILTER_PID
    if (pid != FILTER_PID)
        return;
#endif
    struct pending_connect p = {.ts = bpf_ktime_get_ns(), .pid = pid};
    bpf_get_current_comm(p.comm, sizeof(p.comm));
    pending.update(&sk, &p);
}

/* ESTABLISHED: a record to fill with the flow and submit, or 0 when this socket was not timed
 * (a passive open, a connect made before tracing began, or one filtered out), is faster than the
 * minimum, or the buffer is full (counted lost). The entry is gone either way. */
static __always_inline struct connlat_event *connect_done(u64 sk)
{
    struct pending_connect *p = pending.lookup(&sk);
    if (!p)
        return 0;
    u64 now = bpf_ktime_get_ns();
    u64 latency = now - p->ts;
#if MIN_LATENCY_NS
    if (latency < MIN_LATENCY_NS) {
        pending.delete(&sk);
        return 0;
    }
#endif
    struct connlat_event *ev = bpfkit_event_reserve();
    if (ev) {
        ev->ts = now;
        ev->latency_ns = latency;
        ev->pid = p->pid;
        ev->pad = 0;
        __builtin_memcpy(ev->comm, p->comm, sizeof(ev->comm));
    }
    pending.delete(&sk);
    return ev;
}

#if STATE_FROM_TP
TRACEPOINT_PROBE(sock, inet_sock_set_state)
{
    if (args->protocol != IPPROTO_TCP_)
        return 0;
    u64 sk = (u64)args->skaddr;
    int state = args->newstate;
    if (state == TCP_SYN_SENT_) {
        connect_started(sk, args->family);
    } else if (state == TCP_CLOSE_) {
        pending.delete(&sk);
    } else if (state == TCP_ESTABLISHED_) {
        struct connlat_event *ev = connect_done(sk);
        if (!ev)
            return 0;
        BPFKIT_FLOW_FROM_TP(ev->flow, args);
        bpfkit_event_submit(args, ev);
    }
    return 0;
}

#else
/* Without the tracepoint's fields the socket itself is read, at BTF offsets. Only TCP sets
 * SYN_SENT (SCTP, the other caller of this hook, has no such state), so other protocols never
 * have an entry to be found. */
static __always_inline int state_change(void *ctx, const void *skp, int state)
{
    u64 sk = (u64)skp;
    if (state == TCP_SYN_SENT_) {
        connect_started(sk, bpfkit_sock_family(skp));
    } else if (state == TCP_CLOSE_) {
        pending.delete(&sk);
    } else if (state == TCP_ESTABLISHED_) {
        struct connlat_event *ev = connect_done(sk);
        if (!ev)
            return 0;
        u16 family = bpfkit_sock_family(skp);
        __builtin_memset(&ev->flow, 0, sizeof(ev->flow));
        ev->flow.family = family;
        ev->flow.lport = bpfkit_sock_lport(skp);
        ev->flow.rport = bpfkit_sock_dport(skp);
        bpfkit_sock_addrs(skp, family, ev->flow.laddr, ev->flow.raddr);
        bpfkit_event_submit(ctx, ev);
    }
    return 0;
}

#if STATE_FROM_RAW_TP
RAW_TRACEPOINT_PROBE(inet_sock_set_state)
{
    return state_change(ctx, (const void *)ctx->args[0], (int)ctx->args[2]);
}
#else
/* tcp_set_state(sk, state) is where every TCP state change passes; the socket still holds the
 * old state, which is not needed. */
int kprobe_tcp_set_state(struct pt_regs *ctx)
{
    return state_change(ctx, (const void *)PT_REGS_PARM1(ctx), (int)PT_REGS_PARM2(ctx));
}
#endif
#endif
