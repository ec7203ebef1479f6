/* tcptop: TCP bytes sent and received, summed in the kernel per process and connection.
 * User space drains `flows` once per interval; nothing is sent to user space per event.
 * tools/tcptop/README.md says what is traced and why.
 *
 * #defines it takes (numbers only; tools/tcptop/program.ts computes them):
 *   BYTES_FROM_SOCK_TP, BYTES_FROM_FEXIT, BYTES_FROM_KPROBES
 *                       where byte counts come from: exactly one is 1
 *   TRACK_STATE         1 when sock:inet_sock_set_state exists (addresses without struct reads)
 *   SOCK_*_OFFSET, or SOCK_OFFSETS_FROM_HEADERS   struct sock fields (see bpfkit/sock.h)
 *   TCP_RECVMSG_NONBLOCK  1 when tcp_recvmsg still has its `nonblock` argument (before 5.19)
 *   FILTER_PID, FILTER_FAMILY (0 = all), FILTER_CGROUP_MAP, FILTER_MNTNS_MAP, PIN_ID
 *   (and, with FILTER_MNTNS_MAP, the offsets of bpfkit/task.h)
 *   MAX_FLOWS, MAX_SOCKETS
 */

#if BYTES_FROM_SOCK_TP + BYTES_FROM_FEXIT + BYTES_FROM_KPROBES != 1
#error "exactly one of BYTES_FROM_SOCK_TP, BYTES_FROM_FEXIT and BYTES_FROM_KPROBES must be 1"
#endif

#include "bpfkit/sock.h"

/* Our own names: the kernel headers, included on the fallback paths, define the usual ones. */
#define IPPROTO_TCP_ 6
#define MSG_PEEK_ 2
#define MSG_ERRQUEUE_ 0x2000
#define TCP_CLOSE_ 7

/* A connection as the process sees it: local and remote address and port. */
struct addrs_t {
    u16 family;
    u16 lport;          /* host byte order */
    u16 dport;          /* host byte order */
    u16 pad;
    u8 saddr[16];       /* local; IPv4 in the first 4 bytes, network byte order */
    u8 daddr[16];       /* remote */
};

struct flow_key_t {
    u32 pid;
    struct addrs_t addrs;
};

struct flow_val_t {
    u64 rx_bytes;
    u64 tx_bytes;
    char comm[16];      /* the thread that first moved bytes on this flow */
};

/* No preallocation: memory follows the flows really seen, so the table can be sized for tens of
 * thousands of them; and a counter added while user space drains its entry lands in freed
 * memory (lost), never in another flow's reused entry. */
BPF_F_TABLE("hash", struct flow_key_t, struct flow_val_t, flows, MAX_FLOWS, BPF_F_NO_PREALLOC);

/* Addresses by struct sock pointer. A cache: an evicted entry is read again from the socket. */
BPF_TABLE("lru_hash", u64, struct addrs_t, socks, MAX_SOCKETS);

/* Sends and receives not counted because `flows` was full; user space reports them. */
BPF_ARRAY(dropped, u64, 1);

#include "bpfkit/containers.h"

/* For sockets that changed state before tracing began (or were evicted from the cache). */
static __always_inline void read_sock_addrs(const void *sk, u16 family, struct addrs_t *a)
{
    a->family = family;
    a->lport = bpfkit_sock_lport(sk);
    a->dport = bpfkit_sock_dport(sk);
    bpfkit_sock_addrs(sk, family, a->saddr, a->daddr);
}

static __always_inline void count_bytes(const void *sk, u16 family, u32 bytes, bool tx)
{
    u32 pid = bpf_get_current_pid_tgid() >> 32;
#if FILTER_PID
    if (pid != FILTER_PID)
        return;
#endif
#if FILTER_FAMILY
    if (family != FILTER_FAMILY)
        return;
#else
    if (family != BPFKIT_AF_INET && family != BPFKIT_AF_INET6)
        return;
#endif
    if (!bpfkit_container_allowed())
        return;

    struct flow_key_t key = {.pid = pid};
    u64 skaddr = (u64)sk;
    struct addrs_t *known = socks.lookup(&skaddr);
    if (known) {
        key.addrs = *known;
    } else {
        read_sock_addrs(sk, family, &key.addrs);
        /* After close the local port is already released (0): count, but do not cache. */
        if (key.addrs.lport != 0 && key.addrs.dport != 0)
            socks.update(&skaddr, &key.addrs);
    }

    struct flow_val_t *val = flows.lookup(&key);
    if (!val) {
        struct flow_val_t fresh = {};
        if (tx)
            fresh.tx_bytes = bytes;
        else
            fresh.rx_bytes = bytes;
        bpf_get_current_comm(&fresh.comm, sizeof(fresh.comm));
        if (flows.insert(&key, &fresh) == 0)
            return;
        /* Another CPU created it first, or the table is full. */
        val = flows.lookup(&key);
        if (!val) {
            int slot = 0;
            u64 *n = dropped.lookup(&slot);
            if (n)
                __sync_fetch_and_add(n, 1);
            return;
        }
    }
    if (tx)
        __sync_fetch_and_add(&val->tx_bytes, bytes);
    else
        __sync_fetch_and_add(&val->rx_bytes, bytes);
}

#if TRACK_STATE
/* Every TCP state change carries the socket's addresses in stable tracepoint fields: cache them,
 * so that most sockets are never read at struct offsets. Early states (SYN_SENT before the local
 * port is chosen, a SYN_RECV child before its peer is set) have a zero port and are skipped; the
 * ESTABLISHED change that follows has everything. TCP_CLOSE forgets the socket, whose memory
 * may soon hold another one. */
TRACEPOINT_PROBE(sock, inet_sock_set_state)
{
    if (args->protocol != IPPROTO_TCP_)
        return 0;
    u64 skaddr = (u64)args->skaddr;
    if (args->newstate == TCP_CLOSE_) {
        socks.delete(&skaddr);
        return 0;
    }
    if (args->sport == 0 || args->dport == 0)
        return 0;
    struct addrs_t a = {.family = args->family, .lport = args->sport, .dport = args->dport};
    if (args->family == BPFKIT_AF_INET) {
        __builtin_memcpy(a.saddr, args->saddr, 4);
        __builtin_memcpy(a.daddr, args->daddr, 4);
    } else if (args->family == BPFKIT_AF_INET6) {
        __builtin_memcpy(a.saddr, args->saddr_v6, 16);
        __builtin_memcpy(a.daddr, args->daddr_v6, 16);
    } else {
        return 0;
    }
    socks.update(&skaddr, &a);
    return 0;
}
#endif

#if BYTES_FROM_SOCK_TP
/* The socket layer's own accounting (Linux 6.3+): fired once per sendmsg/recvmsg with what it
 * returned, i.e. the bytes the application really handed over or read. */
TRACEPOINT_PROBE(sock, sock_send_length)
{
    if (args->protocol != IPPROTO_TCP_ || args->ret <= 0)
        return 0;
    count_bytes(args->sk, args->family, args->ret, true);
    return 0;
}

/* MSG_PEEK leaves the bytes queued (they are counted when really read); MSG_ERRQUEUE returns
 * timestamps and zerocopy notices, not stream data. */
TRACEPOINT_PROBE(sock, sock_recv_length)
{
    if (args->protocol != IPPROTO_TCP_ || args->ret <= 0)
        return 0;
    if (args->flags & (MSG_PEEK_ | MSG_ERRQUEUE_))
        return 0;
    count_bytes(args->sk, args->family, args->ret, false);
    return 0;
}

#elif BYTES_FROM_FEXIT
/* fexit sees the arguments and the return value together: no entry probe, no per-thread map. */
KRETFUNC_PROBE(tcp_sendmsg, void *sk, void *msg, size_t size, int ret)
{
    if (ret > 0)
        count_bytes(sk, bpfkit_sock_family(sk), ret, true);
    return 0;
}

#if TCP_RECVMSG_NONBLOCK
KRETFUNC_PROBE(tcp_recvmsg, void *sk, void *msg, size_t len, int nonblock, int flags, int *addr_len, int ret)
#else
KRETFUNC_PROBE(tcp_recvmsg, void *sk, void *msg, size_t len, int flags, int *addr_len, int ret)
#endif
{
    if (ret > 0 && !(flags & (MSG_PEEK_ | MSG_ERRQUEUE_)))
        count_bytes(sk, bpfkit_sock_family(sk), ret, false);
    return 0;
}

#else /* BYTES_FROM_KPROBES */
/* Entry saves the socket per thread; return counts what the call returned. tcp_recvmsg's return
 * is what the application read; tcp_cleanup_rbuf, which older tools probe, is called several
 * times per read with a running total and over-counts (bcc issue #5352). */
#include <uapi/linux/ptrace.h>

struct call_t {
    u64 sk;
    int flags;
};
BPF_HASH(send_calls, u32, struct call_t, MAX_SOCKETS);
BPF_HASH(recv_calls, u32, struct call_t, MAX_SOCKETS);

int kprobe__tcp_sendmsg(struct pt_regs *ctx, void *sk)
{
    u32 tid = bpf_get_current_pid_tgid();
    struct call_t call = {.sk = (u64)sk};
    send_calls.update(&tid, &call);
    return 0;
}

int kretprobe__tcp_sendmsg(struct pt_regs *ctx)
{
    u32 tid = bpf_get_current_pid_tgid();
    struct call_t *call = send_calls.lookup(&tid);
    if (!call)
        return 0;
    const void *sk = (const void *)call->sk;
    send_calls.delete(&tid);
    int ret = PT_REGS_RC(ctx);
    if (ret > 0)
        count_bytes(sk, bpfkit_sock_family(sk), ret, true);
    return 0;
}

#if TCP_RECVMSG_NONBLOCK
int kprobe__tcp_recvmsg(struct pt_regs *ctx, void *sk, void *msg, size_t len, int nonblock, int flags)
#else
int kprobe__tcp_recvmsg(struct pt_regs *ctx, void *sk, void *msg, size_t len, int flags)
#endif
{
    u32 tid = bpf_get_current_pid_tgid();
    struct call_t call = {.sk = (u64)sk, .flags = flags};
    recv_calls.update(&tid, &call);
    return 0;
}

int kretprobe__tcp_recvmsg(struct pt_regs *ctx)
{
    u32 tid = bpf_get_current_pid_tgid();
    struct call_t *call = recv_calls.lookup(&tid);
    if (!call)
        return 0;
    const void *sk = (const void *)call->sk;
    int flags = call->flags;
    recv_calls.delete(&tid);
    int ret = PT_REGS_RC(ctx);
    if (ret > 0 && !(flags & (MSG_PEEK_ | MSG_ERRQUEUE_)))
        count_bytes(sk, bpfkit_sock_family(sk), ret, false);
    return 0;
}
#endif
