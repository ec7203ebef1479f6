/* tcplife: one record per TCP connection when it closes, with its owner, its bytes and how long
 * it lived. Nothing is traced per packet or per send: the TCP state machine says when a socket
 * is born and when it dies, and the socket itself keeps the byte counts (tools/tcplife/README.md
 * says what is traced where, and why).
 *
 * Configuration, as #defines of numbers (tools/tcplife/program.ts):
 *   STATE_TP, STATE_RAW_TP, STATE_KPROBE   where state changes are seen (exactly one is 1):
 *                          sock:inet_sock_set_state, its raw tracepoint, or a kprobe on tcp_set_state
 *   SOCK_*_OFFSET          struct sock fields (bpfkit/sock.h), for the raw tracepoint and kprobe;
 *                          INET_SPORT_OFFSET, SOCK_PROTOCOL_OFFSET (raw tracepoint),
 *                          SOCK_STATE_OFFSET (kprobe)
 *   TCP_BYTES_ACKED_OFFSET, TCP_BYTES_RECEIVED_OFFSET, TCP_SND_UNA_OFFSET, TCP_WRITE_SEQ_OFFSET,
 *   SOCK_FLAGS_OFFSET      struct tcp_sock and struct sock fields, from the kernel's BTF
 *   ACCEPT_TP, ACCEPT_KPROBE   how accept()/accept4() returns are seen (both 0: not at all)
 *   TASK_FILES_OFFSET, FILES_FDT_OFFSET, FDTABLE_FD_OFFSET, FDTABLE_MAX_FDS_OFFSET,
 *   FILE_PRIVATE_DATA_OFFSET, SOCKET_SK_OFFSET   bpfkit/fd.h's walk from an accepted fd to its socket
 *   FILTER_PID, FILTER_FAMILY (0 = all), FILTER_LPORTS, FILTER_RPORTS (entries in the port maps;
 *   0 = no filter), MAX_SOCKETS, USE_RINGBUF/RINGBUF_PAGES (bpfkit/events.h)
 */
#if STATE_TP + STATE_RAW_TP + STATE_KPROBE != 1
#error "exactly one of STATE_TP, STATE_RAW_TP and STATE_KPROBE must be 1"
#endif

#if STATE_KPROBE || ACCEPT_KPROBE
#include <uapi/linux/ptrace.h>
#endif
#if !STATE_TP
#include "bpfkit/sock.h"
#endif
#include "bpfkit/inet_flow.h"

/* Our own names: the kernel headers, included on the kprobe paths, define the usual ones. */
#define IPPROTO_TCP_ 6
#define AF_INET_ 2
#define AF_INET6_ 10
#define TCP_ESTABLISHED_ 1
#define TCP_SYN_SENT_ 2
#define TCP_SYN_RECV_ 3
#define TCP_FIN_WAIT1_ 4
#define TCP_CLOSE_ 7
#define TCP_LAST_ACK_ 9

/* How the owner was found (life_event.owner; tools/tcplife/events.ts names them). */
#define OWNER_NONE 0     /* not seen acting: the task on the CPU at the close, as bcc reports */
#define OWNER_CONNECT 1  /* the task in connect() at SYN_SENT */
#define OWNER_ACCEPT 2   /* the task whose accept() returned it */
#define OWNER_CLOSE 3    /* the task in close()/shutdown() at FIN_WAIT1 or LAST_ACK */

/* life.flags: what the byte counters hold beyond data. bytes_acked counts every sequence number
 * the peer acknowledged, so an active open's SYN and either side's FIN add one each;
 * bytes_received counts the peer's FIN. */
#define LIFE_ACTIVE 1     /* this end sent the SYN */
#define LIFE_SYN_ACKED 2  /* ... and it was acknowledged (the connection was established) */
#define LIFE_FIN_SENT 4   /* this end sent a FIN (FIN_WAIT1 or LAST_ACK) */
#define SOCK_DONE_ 1      /* enum sock_flags: the peer's FIN was received (tcp_fin()) */

struct life_event {
    u64 ts;          /* bpf_ktime_get_ns() at TCP_CLOSE */
    u64 span_ns;     /* from the first state change to TCP_CLOSE */
    u64 tx_bytes;    /* data bytes the peer acknowledged: tcp_sock.bytes_acked less SYN and FIN */
    u64 rx_bytes;    /* data bytes received: tcp_sock.bytes_received less the peer's FIN */
    struct bpfkit_flow flow;
    u32 pid;
    u32 owner;       /* OWNER_* */
    char comm[16];
};
/* Filled in place: in the ring buffer, or (perf buffer) in a per-CPU scratch whose value type is
 * also the layout test/kernel/tcplife.test.ts checks tools/tcplife/events.ts's offsets against. */
#define BPFKIT_EVENT struct life_event
#include "bpfkit/events.h"

/* A socket from its first state change to TCP_CLOSE. LRU: a socket whose close was missed
 * (attached mid-way) must not hold its slot for ever. */
struct life {
    u64 birth;
    u32 pid;
    u16 owner;
    u16 flags;       /* LIFE_* */
    char comm[16];
};
BPF_TABLE("lru_hash", u64, struct life, socks, MAX_SOCKETS);

#if FILTER_LPORTS
BPF_HASH(lports, u16, u8, FILTER_LPORTS);
#endif
#if FILTER_RPORTS
BPF_HASH(rports, u16, u8, FILTER_RPORTS);
#endif

/* A port of 0 is not known yet (SYN_SENT comes before the local port is chosen): let it pass. */
static __always_inline bool ports_wanted(u16 lport, u16 rport)
{
#if FILTER_LPORTS
    if (lport && !lports.lookup(&lport))
        return false;
#endif
#if FILTER_RPORTS
    if (rport && !rports.lookup(&rport))
        return false;
#endif
    return true;
}

static __always_inline void own(struct life *l, u32 how)
{
    l->pid = bpf_get_current_pid_tgid() >> 32;
    l->owner = how;
    bpf_get_current_comm(&l->comm, sizeof(l->comm));
}

/* Every state change but TCP_CLOSE ends here; TCP_CLOSE gets the socket's life back (to report
 * and forget), or 0 when it is not to be reported. Early states (SYN_SENT, SYN_RECV,
 * ESTABLISHED) start a life only once: its birth is the first change, so the duration includes
 * the handshake. SYN_SENT is set by connect() itself, in the connecting task; FIN_WAIT1 and
 * LAST_ACK by close() or shutdown(), in the closing task. Every other change may run in softirq,
 * on behalf of whichever task the CPU was running. */
static __always_inline struct life *state_change(u64 skaddr, int oldstate, int newstate, u16 family, u16 lport, u16 rport)
{
#if FILTER_FAMILY
    if (family != FILTER_FAMILY)
        return 0;
#else
    if (family != AF_INET_ && family != AF_INET6_)
        return 0;
#endif
    if (!ports_wanted(lport, rport)) {
        socks.delete(&skaddr);
        return 0;
    }
    if (newstate < TCP_FIN_WAIT1_) {
        struct life fresh = {.birth = bpf_ktime_get_ns()};
        if (newstate == TCP_SYN_SENT_)
            own(&fresh, OWNER_CONNECT);
        /* Traced from mid-handshake on, an active open is still told by its old state. */
        if (newstate == TCP_SYN_SENT_ || oldstate == TCP_SYN_SENT_)
            fresh.flags = LIFE_ACTIVE | (newstate == TCP_ESTABLISHED_ ? LIFE_SYN_ACKED : 0);
        if (socks.insert(&skaddr, &fresh) == 0 || newstate != TCP_ESTABLISHED_)
            return 0;
        /* Born earlier: established now, so an active open's SYN was acknowledged. */
        struct life *born = socks.lookup(&skaddr);
        if (born && (born->flags & LIFE_ACTIVE))
            born->flags |= LIFE_SYN_ACKED;
        return 0;
    }
    struct life *l = socks.lookup(&skaddr);
    if (!l)
        return 0;
    if (newstate == TCP_FIN_WAIT1_ || newstate == TCP_LAST_ACK_) {
        l->flags |= LIFE_FIN_SENT;
        if (l->owner == OWNER_NONE)
            own(l, OWNER_CLOSE);
    }
    if (newstate != TCP_CLOSE_)
        return 0;
    return l;
}

/* The record of a closed socket that is to be reported, all but its flow filled in, or 0; the
 * socket is forgotten either way (its memory may soon hold another one). */
static __always_inline struct life_event *closed(u64 skaddr, struct life *l)
{
    u64 birth = l->birth;
    u32 owner = l->owner, flags = l->flags;
    u32 pid = owner == OWNER_NONE ? bpf_get_current_pid_tgid() >> 32 : l->pid;
#if FILTER_PID
    if (pid != FILTER_PID) {
        socks.delete(&skaddr);
        return 0;
    }
#endif
    struct life_event *ev = bpfkit_event_reserve();
    if (!ev) {
        socks.delete(&skaddr);
        return 0;
    }
    if (owner == OWNER_NONE)
        bpf_get_current_comm(&ev->comm, sizeof(ev->comm));
    else
        __builtin_memcpy(ev->comm, l->comm, sizeof(ev->comm));
    socks.delete(&skaddr);

    u64 now = bpf_ktime_get_ns();
    ev->ts = now;
    ev->span_ns = now - birth;
    ev->pid = pid;
    ev->owner = owner;
    const char *tp = (const char *)skaddr;
    u64 acked = 0, received = 0;
    u32 snd_una = 0, write_seq = 0;
    unsigned long sk_flags = 0;
    bpf_probe_read_kernel(&acked, sizeof(acked), tp + TCP_BYTES_ACKED_OFFSET);
    bpf_probe_read_kernel(&received, sizeof(received), tp + TCP_BYTES_RECEIVED_OFFSET);
    bpf_probe_read_kernel(&snd_una, sizeof(snd_una), tp + TCP_SND_UNA_OFFSET);
    bpf_probe_read_kernel(&write_seq, sizeof(write_seq), tp + TCP_WRITE_SEQ_OFFSET);
    bpf_probe_read_kernel(&sk_flags, sizeof(sk_flags), tp + SOCK_FLAGS_OFFSET);
    if ((flags & LIFE_SYN_ACKED) && acked)
        acked--;
    /* Our FIN is the last sequence number written: acknowledged when nothing is left unacked. */
    if ((flags & LIFE_FIN_SENT) && snd_una == write_seq && acked)
        acked--;
    if ((sk_flags & (1UL << SOCK_DONE_)) && received)
        received--;
    ev->tx_bytes = acked;
    ev->rx_bytes = received;
    return ev;
}

#if STATE_TP
TRACEPOINT_PROBE(sock, inet_sock_set_state)
{
    if (args->protocol != IPPROTO_TCP_)
        return 0;
    u64 skaddr = (u64)args->skaddr;
    struct life *l = state_change(skaddr, args->oldstate, args->newstate, args->family, args->sport, args->dport);
    if (!l)
        return 0;
    struct life_event *ev = closed(skaddr, l);
    if (!ev)
        return 0;
    BPFKIT_FLOW_FROM_TP(ev->flow, args);
    bpfkit_event_submit(args, ev);
    return 0;
}
#else
/* The raw tracepoint and the kprobe only have the socket: its fields at BTF offsets. */
static __always_inline void sock_state_change(void *ctx, const void *sk, int oldstate, int newstate)
{
    u64 skaddr = (u64)sk;
    u16 family = bpfkit_sock_family(sk);
    /* Not skc_num (bpfkit_sock_lport): TCP_CLOSE releases the port, zeroing it, before the
     * raw tracepoint runs; inet_sport, which the tracepoint reports, stays. */
    u16 lport = 0;
    bpf_probe_read_kernel(&lport, sizeof(lport), (const char *)sk + INET_SPORT_OFFSET);
    lport = bpf_ntohs(lport);
    u16 rport = bpfkit_sock_dport(sk);
    struct life *l = state_change(skaddr, oldstate, newstate, family, lport, rport);
    if (!l)
        return;
    struct life_event *ev = closed(skaddr, l);
    if (!ev)
        return;
    __builtin_memset(&ev->flow, 0, sizeof(ev->flow));
    ev->flow.family = family;
    ev->flow.lport = lport;
    ev->flow.rport = rport;
    bpfkit_sock_addrs(sk, family, ev->flow.laddr, ev->flow.raddr);
    bpfkit_event_submit(ctx, ev);
}
#endif

#if STATE_RAW_TP
/* TP_PROTO(const struct sock *sk, const int oldstate, const int newstate); SCTP changes state
 * through it too, hence the protocol check (sk_protocol is a whole u16 from Linux 5.6). */
RAW_TRACEPOINT_PROBE(inet_sock_set_state)
{
    const void *sk = (const void *)ctx->args[0];
    u16 protocol = 0;
    bpf_probe_read_kernel(&protocol, sizeof(protocol), (const char *)sk + SOCK_PROTOCOL_OFFSET);
    if (protocol != IPPROTO_TCP_)
        return 0;
    sock_state_change(ctx, sk, (int)ctx->args[1], (int)ctx->args[2]);
    return 0;
}
#endif

#if STATE_KPROBE
/* bcc's way before Linux 4.16: tcp_set_state(sk, state), TCP's only. */
int kprobe__tcp_set_state(struct pt_regs *ctx, const void *sk, int state)
{
    u8 oldstate = 0;
    bpf_probe_read_kernel(&oldstate, sizeof(oldstate), (const char *)sk + SOCK_STATE_OFFSET);
    sock_state_change(ctx, sk, oldstate, state);
    return 0;
}
#endif

#if ACCEPT_TP || ACCEPT_KPROBE
#include "bpfkit/fd.h"

/* accept() returned `fd`: its struct sock, through this task's file table, is the socket the
 * task now owns. A passive socket's earlier changes ran in softirq, not in its owner. */
static __always_inline void accepted(long fd)
{
    u64 sk = (u64)bpfkit_current_fd_sock(fd);
    if (!sk)
        return;
    /* Only sockets seen being born: anything else (not TCP, not ours) is not in the table. */
    struct life *l = socks.lookup(&sk);
    if (l)
        own(l, OWNER_ACCEPT);
}
#endif

#if ACCEPT_TP
TRACEPOINT_PROBE(syscalls, sys_exit_accept4)
{
    accepted(args->ret);
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_exit_accept)
{
    accepted(args->ret);
    return 0;
}
#endif

#if ACCEPT_KPROBE
int accept_return(struct pt_regs *ctx)
{
    accepted(PT_REGS_RC(ctx));
    return 0;
}
#endif
