/* A TCP/UDP flow as the network tools put it in their records: both addresses (IPv4 in the
 * first four bytes), both ports in host byte order, and the address family. Decoded by
 * readFlow() in lib/output/inet.ts, which test/kernel/inet-flow.test.ts keeps in step with this
 * layout.
 *
 * The tracepoints of the TCP state machine (sock:inet_sock_set_state, tcp:tcp_retransmit_skb,
 * tcp:tcp_destroy_sock, tcp:tcp_receive_reset, sock:inet_sk_error_report) all carry the same
 * fields: family, sport and dport already in host order, saddr[4]/daddr[4] and
 * saddr_v6[16]/daddr_v6[16]. BPFKIT_FLOW_FROM_TP copies them from any of those `args`. */
#ifndef BPFKIT_INET_FLOW_H
#define BPFKIT_INET_FLOW_H

struct bpfkit_flow {
    u8 laddr[16];
    u8 raddr[16];
    u16 lport;
    u16 rport;
    u16 family; /* AF_INET 2, AF_INET6 10 */
    u16 pad;
};

/* Tracepoint fields cannot be passed by address to a helper function (args is a context
 * pointer the verifier tracks), hence a macro. The source is the local side: these
 * tracepoints are fired for the socket of this host. */
#define BPFKIT_FLOW_FROM_TP(flow, args)                                             \
    do {                                                                            \
        __builtin_memset(&(flow), 0, sizeof(flow));                                 \
        (flow).family = (args)->family;                                             \
        (flow).lport = (args)->sport;                                               \
        (flow).rport = (args)->dport;                                               \
        if ((args)->family == 10) {                                                 \
            __builtin_memcpy((flow).laddr, (args)->saddr_v6, 16);                   \
            __builtin_memcpy((flow).raddr, (args)->daddr_v6, 16);                   \
        } else {                                                                    \
            __builtin_memcpy((flow).laddr, (args)->saddr, 4);                       \
            __builtin_memcpy((flow).raddr, (args)->daddr, 4);                       \
        }                                                                           \
    } while (0)

#endif /* BPFKIT_INET_FLOW_H */
