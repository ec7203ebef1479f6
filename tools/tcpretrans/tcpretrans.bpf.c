/* tcpretrans: TCP retransmits (and, with -l, tail loss probes), one record per event or counted
 * per flow in the kernel. tools/tcpretrans/README.md says what is traced where, and why.
 *
 * #defines it takes (numbers only; tools/tcpretrans/program.ts computes them):
 *   RETRANS_TRACEPOINT, RETRANS_RAW_TP, RETRANS_KPROBE   where retransmits come from: exactly one is 1
 *   TP_HAS_ERR           tcp:tcp_retransmit_skb has `err` (6.10+: it also fires for failed attempts)
 *   RAW_SK_ARG, RAW_SKB_ARG, RAW_HAS_ERR   the raw tracepoint's argument positions, from BTF
 *   TLP_KPROBE           -l: a kprobe on tcp_send_loss_probe
 *   OWNER_TRACEPOINT, OWNER_RAW_TP   remember the process that connect()s each socket (0, 0: none)
 *   EMIT_EVENTS          one record per event (the text and JSON output)
 *   COUNT_FLOWS          counts per flow and type in `counts` (-c, metrics)
 *   FILTER_FAMILY        -4/-6: AF_INET or AF_INET6 only (0: both)
 *   SOCK_*_OFFSET / SOCK_OFFSETS_FROM_HEADERS   struct sock fields (bpfkit/sock.h), SOCK_STATE_OFFSET
 *   SKB_CB_OFFSET, TCB_SEQ_OFFSET, TCB_SEGS_OFFSET   where struct tcp_skb_cb sits in the sk_buff
 *                        (or SKB_FIELDS_FROM_HEADERS 1: offsetof() on the compile-time headers)
 *   USE_RINGBUF/RINGBUF_PAGES   the events channel (bpfkit/events.h); MAX_FLOWS, MAX_SOCKETS
 */
#if RETRANS_TRACEPOINT + RETRANS_RAW_TP + RETRANS_KPROBE != 1
#error "exactly one of RETRANS_TRACEPOINT, RETRANS_RAW_TP and RETRANS_KPROBE must be 1"
#endif

#define USES_KPROBES (RETRANS_KPROBE || TLP_KPROBE)
#if USES_KPROBES
#include <uapi/linux/ptrace.h>
#endif
#include "bpfkit/inet_flow.h"
#if RETRANS_RAW_TP || USES_KPROBES || OWNER_RAW_TP
#include "bpfkit/sock.h"
#if SOCK_OFFSETS_FROM_HEADERS
#define SOCK_STATE_OFFSET offsetof(struct sock, __sk_common.skc_state)
#endif
#endif
#if SKB_FIELDS_FROM_HEADERS
#include <net/tcp.h>
#define SKB_CB_OFFSET offsetof(struct sk_buff, cb)
#define TCB_SEQ_OFFSET offsetof(struct tcp_skb_cb, seq)
#define TCB_SEGS_OFFSET offsetof(struct tcp_skb_cb, tcp_gso_segs)
#endif

#define TYPE_RETRANSMIT 1
#define TYPE_TLP 2
#define TCP_SYN_SENT_ 2
#define TCP_CLOSE_ 7
#define IPPROTO_TCP_ 6

struct retrans_event {
    u64 ts;                   /* bpf_ktime_get_ns() */
    struct bpfkit_flow flow;  /* this host's side: laddr/lport local */
    u32 pid;                  /* the socket's owner when known (owner = 1), else the on-CPU process */
    u32 seq;                  /* TCP_SKB_CB(skb)->seq; 0 for a tail loss probe */
    u32 state;                /* the socket's TCP state */
    s32 err;                  /* 0, or the transmit error of a retransmit the kernel still counted (6.10+) */
    u16 segs;                 /* segments in this retransmit (what tcpi_total_retrans adds) */
    u8 type;                  /* TYPE_RETRANSMIT or TYPE_TLP */
    u8 owner;
    char comm[16];
};

#if EMIT_EVENTS
#define BPFKIT_EVENT struct retrans_event
#include "bpfkit/events.h"
#endif
#if LAYOUT_MAP
/* Only in test/kernel/tcpretrans.test.ts's build: a map whose value type is the record, for
 * the layout libbcc reports to be compared with events.ts's offsets. */
BPF_ARRAY(layout, struct retrans_event, 1);
#endif

#if COUNT_FLOWS
struct count_key {
    struct bpfkit_flow flow;
    u32 type;
};
BPF_F_TABLE("hash", struct count_key, u64, counts, MAX_FLOWS, BPF_F_NO_PREALLOC);
/* Events not counted because `counts` was full. */
BPF_ARRAY(dropped, u64, 1);
#endif

#if OWNER_TRACEPOINT || OWNER_RAW_TP
struct owner_t {
    u32 pid;
    u16 rport;      /* a stale entry (its CLOSE unseen) must not name a later socket's owner */
    u16 pad;
    char comm[16];
};
/* The process that called connect(), by struct sock address. LRU: a socket that is never
 * closed while tracing must not hold its slot for ever. */
BPF_TABLE("lru_hash", u64, struct owner_t, owners, MAX_SOCKETS);

/* SYN_SENT is set inside connect(), in the caller's context: the one moment the owner of an
 * active socket is certainly on the CPU. CLOSE forgets the socket, whose memory is reused. */
static __always_inline void note_state(u64 sk, int newstate, u16 rport)
{
    if (newstate == TCP_SYN_SENT_) {
        struct owner_t o = {.pid = bpf_get_current_pid_tgid() >> 32, .rport = rport};
        bpf_get_current_comm(&o.comm, sizeof(o.comm));
        owners.update(&sk, &o);
    } else if (newstate == TCP_CLOSE_) {
        owners.delete(&sk);
    }
}
#endif

#if OWNER_TRACEPOINT
TRACEPOINT_PROBE(sock, inet_sock_set_state)
{
    if (args->protocol != IPPROTO_TCP_)
        return 0;
    note_state((u64)args->skaddr, args->newstate, args->dport);
    return 0;
}
#elif OWNER_RAW_TP
/* inet_sock_set_state(sk, oldstate, newstate): fired by tcp_set_state only, so for TCP sockets
 * (MPTCP subflows are TCP sockets too). The remote port is set before connect() moves to SYN_SENT. */
RAW_TRACEPOINT_PROBE(inet_sock_set_state)
{
    const void *sk = (const void *)ctx->args[0];
    note_state((u64)sk, (int)ctx->args[2], bpfkit_sock_dport(sk));
    return 0;
}
#endif

static __always_inline u32 skb_seq(const void *skb)
{
    u32 seq = 0;
    if (skb)
        bpf_probe_read_kernel(&seq, sizeof(seq), (const char *)skb + SKB_CB_OFFSET + TCB_SEQ_OFFSET);
    return seq;
}

static __always_inline u16 skb_segs(const void *skb)
{
    u16 segs = 0;
    if (skb)
        bpf_probe_read_kernel(&segs, sizeof(segs), (const char *)skb + SKB_CB_OFFSET + TCB_SEGS_OFFSET);
    return segs;
}

/* One retransmit or probe of `sk`, whose flow is already filled in. */
static __always_inline void report(void *ctx, u64 sk, struct bpfkit_flow *flow, u32 state, const void *skb, u8 type, int err)
{
#if FILTER_FAMILY
    if (flow->family != FILTER_FAMILY)
        return;
#else
    if (flow->family != 2 && flow->family != 10)
        return;
#endif
#if COUNT_FLOWS
    struct count_key key = {.flow = *flow, .type = type};
    u64 *n = counts.lookup(&key);
    if (n) {
        __sync_fetch_and_add(n, 1);
    } else {
        u64 one = 1;
        if (counts.insert(&key, &one) != 0) {
            /* Another CPU created it first, or the table is full. */
            n = counts.lookup(&key);
            if (n) {
                __sync_fetch_and_add(n, 1);
            } else {
                int slot = 0;
                u64 *d = dropped.lookup(&slot);
                if (d)
                    __sync_fetch_and_add(d, 1);
            }
        }
    }
#endif
#if EMIT_EVENTS
    struct retrans_event *ev = bpfkit_event_reserve();
    if (!ev)
        return;
    ev->ts = bpf_ktime_get_ns();
    ev->flow = *flow;
    ev->seq = type == TYPE_RETRANSMIT ? skb_seq(skb) : 0;
    ev->segs = type == TYPE_RETRANSMIT ? skb_segs(skb) : 0;
    ev->state = state;
    ev->err = err;
    ev->type = type;
#if OWNER_TRACEPOINT || OWNER_RAW_TP
    struct owner_t *o = owners.lookup(&sk);
    if (o && o->rport == flow->rport) {
        ev->pid = o->pid;
        ev->owner = 1;
        __builtin_memcpy(ev->comm, o->comm, sizeof(ev->comm));
        bpfkit_event_submit(ctx, ev);
        return;
    }
#endif
    ev->pid = bpf_get_current_pid_tgid() >> 32;
    ev->owner = 0;
    bpf_get_current_comm(&ev->comm, sizeof(ev->comm));
    bpfkit_event_submit(ctx, ev);
#endif
}

#if RETRANS_RAW_TP || USES_KPROBES
/* For the rungs that have only the socket: its flow at BTF offsets. */
static __always_inline void sock_flow(const void *sk, struct bpfkit_flow *flow, u32 *state)
{
    __builtin_memset(flow, 0, sizeof(*flow));
    flow->family = bpfkit_sock_family(sk);
    flow->lport = bpfkit_sock_lport(sk);
    flow->rport = bpfkit_sock_dport(sk);
    bpfkit_sock_addrs(sk, flow->family, flow->laddr, flow->raddr);
    u8 st = 0;
    bpf_probe_read_kernel(&st, sizeof(st), (const char *)sk + SOCK_STATE_OFFSET);
    *state = st;
}
#endif

/* Since 6.10 failed attempts fire too, with their error. Those that fail before the kernel
 * counts them (the first copy still in a host queue, outside the window, out of memory) are no
 * retransmit: skipped, as the tracepoint did before 6.10. Those that fail in transmission (a
 * full device queue, a netfilter drop on output) were counted in tcpi_total_retrans and
 * TcpRetransSegs: reported, with their error. */
#define EINVAL_ 22
#define ENOMEM_ 12
#define EAGAIN_ 11
#define EBUSY_ 16
static __always_inline bool never_counted(int err)
{
    return err == -EBUSY_ || err == -EAGAIN_ || err == -ENOMEM_ || err == -EINVAL_;
}

#if RETRANS_TRACEPOINT
TRACEPOINT_PROBE(tcp, tcp_retransmit_skb)
{
    int err = 0;
#if TP_HAS_ERR
    err = args->err;
    if (never_counted(err))
        return 0;
#endif
    struct bpfkit_flow flow;
    BPFKIT_FLOW_FROM_TP(flow, args);
    report(args, (u64)args->skaddr, &flow, args->state, args->skbaddr, TYPE_RETRANSMIT, err);
    return 0;
}
#elif RETRANS_RAW_TP
RAW_TRACEPOINT_PROBE(tcp_retransmit_skb)
{
    int err = 0;
#if RAW_HAS_ERR
    err = (int)ctx->args[2];
    if (never_counted(err))
        return 0;
#endif
    const void *sk = (const void *)ctx->args[RAW_SK_ARG];
    struct bpfkit_flow flow;
    u32 state;
    sock_flow(sk, &flow, &state);
    report(ctx, (u64)sk, &flow, state, (const void *)ctx->args[RAW_SKB_ARG], TYPE_RETRANSMIT, err);
    return 0;
}
#elif RETRANS_KPROBE
/* bcc's fallback: every call, including attempts that fail and are retried later. */
int kprobe__tcp_retransmit_skb(struct pt_regs *ctx, void *sk, void *skb)
{
    struct bpfkit_flow flow;
    u32 state;
    sock_flow(sk, &flow, &state);
    report(ctx, (u64)sk, &flow, state, skb, TYPE_RETRANSMIT, 0);
    return 0;
}
#endif

#if TLP_KPROBE
/* No tracepoint marks a tail loss probe: only this function does (the probe may still not be
 * sent, as bcc's man page warns). */
int kprobe__tcp_send_loss_probe(struct pt_regs *ctx, void *sk)
{
    struct bpfkit_flow flow;
    u32 state;
    sock_flow(sk, &flow, &state);
    report(ctx, (u64)sk, &flow, state, 0, TYPE_TLP, 0);
    return 0;
}
#endif
