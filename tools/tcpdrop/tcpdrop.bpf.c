/* tcpdrop: TCP packets the kernel drops, each with its flow (from the packet's own headers), the
 * socket's state, the kernel's drop reason and the kernel stack (tools/tcpdrop/README.md).
 *
 * #defines it takes (numbers only; tools/tcpdrop/program.ts computes them):
 *   HOOK_TP, HOOK_RAW_TP, HOOK_KPROBE_SK_SKB_REASON_DROP, HOOK_KPROBE_KFREE_SKB_REASON,
 *   HOOK_KPROBE_TCP_DROP     where drops are seen: exactly one is 1
 *   HAS_REASON, MIN_REASON   the hook gives an enum skb_drop_reason; values below MIN_REASON
 *                            (SKB_NOT_DROPPED_YET, SKB_CONSUMED, and NOT_SPECIFIED as bcc) are skipped
 *   SKIP_REASON              a reason left out (QUEUE_PURGE: a closed socket's queues), or -1
 *   TP_HAS_RX_SK             skb:kfree_skb has rx_sk (6.12+)
 *   RAW_SKB_ARG, RAW_REASON_ARG, RAW_SK_ARG (-1: none)   the raw tracepoint's arguments
 *   SKB_HEAD_OFFSET, SKB_NETWORK_HEADER_OFFSET, SKB_TRANSPORT_HEADER_OFFSET, SKB_SK_OFFSET,
 *   SOCK_STATE_OFFSET        struct fields from the running kernel's BTF, or
 *   SKB_OFFSETS_FROM_HEADERS the kernel headers' (right only when they are this kernel's)
 *   FILTER_IP_VERSION        4 or 6 (-4/-6), 0 for both
 *   EMIT_EVENTS              one record per drop, with its stack (printing)
 *   COUNT_DROPS              counts per reason and state in `drops` (metrics)
 *   USE_RINGBUF/RINGBUF_PAGES   the events channel (bpfkit/events.h)
 *   STACK_ENTRIES            stacks the `stacks` map holds at once (user space frees each it reads)
 */
#if HOOK_TP + HOOK_RAW_TP + HOOK_KPROBE_SK_SKB_REASON_DROP + HOOK_KPROBE_KFREE_SKB_REASON + HOOK_KPROBE_TCP_DROP != 1
#error "exactly one HOOK_* must be 1"
#endif
#define HOOK_KPROBE (HOOK_KPROBE_SK_SKB_REASON_DROP || HOOK_KPROBE_KFREE_SKB_REASON || HOOK_KPROBE_TCP_DROP)

#if HOOK_KPROBE
#include <uapi/linux/ptrace.h>
#endif
#if SKB_OFFSETS_FROM_HEADERS
#include <linux/skbuff.h>
#include <net/sock.h>
#define SKB_HEAD_OFFSET offsetof(struct sk_buff, head)
#define SKB_NETWORK_HEADER_OFFSET offsetof(struct sk_buff, network_header)
#define SKB_TRANSPORT_HEADER_OFFSET offsetof(struct sk_buff, transport_header)
#define SKB_SK_OFFSET offsetof(struct sk_buff, sk)
#define SOCK_STATE_OFFSET offsetof(struct sock, __sk_common.skc_state)
#endif
#if HOOK_TP && HAS_REASON && !SKB_OFFSETS_FROM_HEADERS
/* libbcc declares the tracepoint's fields from its format file, where reason is an `enum
 * skb_drop_reason`: the enum must be complete, and only its size (an int) matters here. The
 * headers' copy (bcc's tcpdrop includes linux/skbuff.h) may be another kernel's, or none. */
enum skb_drop_reason { BPFKIT_SKB_DROP_REASON_ANY };
#endif
#include "bpfkit/inet_flow.h"

/* Our own names: the kernel headers, included on some paths, define the usual ones. */
#define IPPROTO_TCP_ 6
#define AF_INET_ 2
#define AF_INET6_ 10
/* skb->transport_header before anything set it: (u16)~0 (skb_transport_header_was_set()). */
#define HEADER_UNSET 0xffff

struct drop_event {
    u64 ts;             /* bpf_ktime_get_ns() */
    u32 pid;            /* on-CPU process (tgid), as bcc's: often not the socket's owner */
    u32 reason;         /* enum skb_drop_reason; 0 when the hook has none */
    s32 stack_id;       /* in `stacks`; negative: none (-errno of bpf_get_stackid) */
    u8 state;           /* the socket's TCP state; 0 without a socket */
    u8 tcpflags;        /* byte 13 of the TCP header */
    u16 pad;
    char comm[16];
    struct bpfkit_flow flow; /* laddr:lport the packet's source, raddr:rport its destination */
};

struct drop_key {
    u32 reason;
    u32 state;
};

#if EMIT_EVENTS
#define BPFKIT_EVENT struct drop_event
#include "bpfkit/events.h"
BPF_STACK_TRACE(stacks, STACK_ENTRIES);
#endif

#if COUNT_DROPS
/* Reasons (~130) times states (~14) is the most there can be. */
BPF_HASH(drops, struct drop_key, u64, 4096);
/* Drops not counted because `drops` was full (never expected). */
BPF_ARRAY(count_lost, u64, 1);
#endif

/* The flow and flags of an IPv4 or IPv6 TCP packet, from the headers at skb->head + offsets.
 * Returns 0 for anything else: another protocol, a fragment after the first, unreadable bytes. */
static __always_inline int read_tcp_packet(const void *skb, struct bpfkit_flow *flow, u8 *tcpflags)
{
    const unsigned char *head = 0;
    u16 nh = 0, th = 0;
    if (bpf_probe_read_kernel(&head, sizeof(head), (const char *)skb + SKB_HEAD_OFFSET) || !head)
        return 0;
    bpf_probe_read_kernel(&nh, sizeof(nh), (const char *)skb + SKB_NETWORK_HEADER_OFFSET);
    bpf_probe_read_kernel(&th, sizeof(th), (const char *)skb + SKB_TRANSPORT_HEADER_OFFSET);

    u8 ip[40];
    if (bpf_probe_read_kernel(ip, 20, head + nh))
        return 0;
    u8 version = ip[0] >> 4;
    u16 hlen;
    __builtin_memset(flow, 0, sizeof(*flow));
    if (version == 4) {
        /* Fragments after the first carry no TCP header. */
        if (ip[9] != IPPROTO_TCP_ || (((ip[6] & 0x1f) << 8) | ip[7]) != 0)
            return 0;
        hlen = (ip[0] & 0xf) * 4;
        flow->family = AF_INET_;
        __builtin_memcpy(flow->laddr, &ip[12], 4);
        __builtin_memcpy(flow->raddr, &ip[16], 4);
    } else if (version == 6) {
        if (bpf_probe_read_kernel(ip, 40, head + nh))
            return 0;
        /* TCP right after the fixed header; extension headers are not followed. */
        if (ip[6] != IPPROTO_TCP_)
            return 0;
        hlen = 40;
        flow->family = AF_INET6_;
        __builtin_memcpy(flow->laddr, &ip[8], 16);
        __builtin_memcpy(flow->raddr, &ip[24], 16);
    } else {
        return 0;
    }
#if FILTER_IP_VERSION
    if (version != FILTER_IP_VERSION)
        return 0;
#endif
    /* The transport header where the stack set it; right after the IP header otherwise (a drop
     * before the IP layer got that far). */
    u16 at = (th != HEADER_UNSET && th > nh) ? th : nh + hlen;
    u8 tcp[14];
    if (bpf_probe_read_kernel(tcp, sizeof(tcp), head + at))
        return 0;
    flow->lport = (tcp[0] << 8) | tcp[1];
    flow->rport = (tcp[2] << 8) | tcp[3];
    *tcpflags = tcp[13];
    return 1;
}

/* `hint` is a socket the hook names (rx_sk, tcp_drop's sk), or 0; skb->sk comes first. */
static __always_inline int on_drop(void *ctx, const void *skb, const void *hint, u32 reason)
{
#if HAS_REASON
    if (reason < MIN_REASON)
        return 0;
#if SKIP_REASON >= 0
    if (reason == SKIP_REASON)
        return 0;
#endif
#endif
    struct bpfkit_flow flow;
    u8 tcpflags = 0;
    if (!skb || !read_tcp_packet(skb, &flow, &tcpflags))
        return 0;

    const void *sk = 0;
    bpf_probe_read_kernel(&sk, sizeof(sk), (const char *)skb + SKB_SK_OFFSET);
    if (!sk)
        sk = hint;
    u8 state = 0;
    if (sk)
        bpf_probe_read_kernel(&state, sizeof(state), (const char *)sk + SOCK_STATE_OFFSET);

#if COUNT_DROPS
    struct drop_key key = { .reason = reason, .state = state };
    u64 zero = 0;
    u64 *count = drops.lookup_or_try_init(&key, &zero);
    if (count) {
        __sync_fetch_and_add(count, 1);
    } else {
        int idx = 0;
        count_lost.increment(idx);
    }
#endif

#if EMIT_EVENTS
    struct drop_event *ev = bpfkit_event_reserve();
    if (!ev)
        return 0;
    ev->ts = bpf_ktime_get_ns();
    ev->pid = bpf_get_current_pid_tgid() >> 32;
    ev->reason = reason;
    ev->state = state;
    ev->tcpflags = tcpflags;
    ev->pad = 0;
    bpf_get_current_comm(ev->comm, sizeof(ev->comm));
    __builtin_memcpy(&ev->flow, &flow, sizeof(flow));
    ev->stack_id = stacks.get_stackid(ctx, 0);
    bpfkit_event_submit(ctx, ev);
#endif
    return 0;
}

#if HOOK_TP
TRACEPOINT_PROBE(skb, kfree_skb)
{
#if HAS_REASON
    u32 reason = args->reason;
#else
    u32 reason = 0;
#endif
#if TP_HAS_RX_SK
    const void *rx_sk = args->rx_sk;
#else
    const void *rx_sk = 0;
#endif
    return on_drop(args, args->skbaddr, rx_sk, reason);
}
#endif

#if HOOK_RAW_TP
RAW_TRACEPOINT_PROBE(kfree_skb)
{
    const void *skb = (const void *)ctx->args[RAW_SKB_ARG];
#if HAS_REASON
    u32 reason = ctx->args[RAW_REASON_ARG];
#else
    u32 reason = 0;
#endif
#if RAW_SK_ARG >= 0
    const void *rx_sk = (const void *)ctx->args[RAW_SK_ARG];
#else
    const void *rx_sk = 0;
#endif
    return on_drop(ctx, skb, rx_sk, reason);
}
#endif

/* bcc reads these parameters from the registers of the probed call. */
#if HOOK_KPROBE_SK_SKB_REASON_DROP
int kprobe_sk_skb_reason_drop(struct pt_regs *ctx, void *sk, void *skb, u32 reason)
{
    return on_drop(ctx, skb, sk, reason);
}
#endif

#if HOOK_KPROBE_KFREE_SKB_REASON
int kprobe_kfree_skb_reason(struct pt_regs *ctx, void *skb, u32 reason)
{
    return on_drop(ctx, skb, 0, reason);
}
#endif

#if HOOK_KPROBE_TCP_DROP
int kprobe_tcp_drop(struct pt_regs *ctx, void *sk, void *skb)
{
    return on_drop(ctx, skb, sk, 0);
}
#endif
