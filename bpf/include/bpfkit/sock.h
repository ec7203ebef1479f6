/* A socket's family, ports and addresses, read from its struct sock (whose first member is
 * struct sock_common) at offsets taken from the running kernel's BTF: lib/kernel/sock-offsets.ts
 * passes them as #defines. Compiled from headers of another kernel, sk->__sk_common.skc_daddr
 * reads whatever sits at that kernel's offset, without any error.
 *
 * Needs SOCK_FAMILY_OFFSET, SOCK_NUM_OFFSET, SOCK_DPORT_OFFSET, SOCK_RCV_SADDR_OFFSET,
 * SOCK_DADDR_OFFSET, SOCK_V6_RCV_SADDR_OFFSET and SOCK_V6_DADDR_OFFSET (byte offsets in struct
 * sock; the two V6 ones are 0 on a kernel without IPv6); or, on a kernel without BTF,
 * SOCK_OFFSETS_FROM_HEADERS 1: offsetof() on the headers libbcc compiles with, right only when
 * they are the running kernel's. */
#ifndef BPFKIT_SOCK_H
#define BPFKIT_SOCK_H

/* Our own names: <net/sock.h>, included on the fallback path, defines the usual ones. */
#define BPFKIT_AF_INET 2
#define BPFKIT_AF_INET6 10

#if SOCK_OFFSETS_FROM_HEADERS
#include <net/sock.h>
#define SOCK_FAMILY_OFFSET offsetof(struct sock, __sk_common.skc_family)
#define SOCK_NUM_OFFSET offsetof(struct sock, __sk_common.skc_num)
#define SOCK_DPORT_OFFSET offsetof(struct sock, __sk_common.skc_dport)
#define SOCK_RCV_SADDR_OFFSET offsetof(struct sock, __sk_common.skc_rcv_saddr)
#define SOCK_DADDR_OFFSET offsetof(struct sock, __sk_common.skc_daddr)
#define SOCK_V6_RCV_SADDR_OFFSET offsetof(struct sock, __sk_common.skc_v6_rcv_saddr)
#define SOCK_V6_DADDR_OFFSET offsetof(struct sock, __sk_common.skc_v6_daddr)
#elif !defined(SOCK_FAMILY_OFFSET) || !defined(SOCK_NUM_OFFSET) || !defined(SOCK_DPORT_OFFSET) || \
    !defined(SOCK_RCV_SADDR_OFFSET) || !defined(SOCK_DADDR_OFFSET) || \
    !defined(SOCK_V6_RCV_SADDR_OFFSET) || !defined(SOCK_V6_DADDR_OFFSET)
#error "include bpfkit/sock.h only with the offsets from lib/kernel/sock-offsets.ts"
#endif

/* AF_INET, AF_INET6, ... (skc_family). */
static __always_inline u16 bpfkit_sock_family(const void *sk)
{
    u16 family = 0;
    bpf_probe_read_kernel(&family, sizeof(family), (const char *)sk + SOCK_FAMILY_OFFSET);
    return family;
}

/* The local port in host byte order (skc_num); 0 once a closed socket released it. */
static __always_inline u16 bpfkit_sock_lport(const void *sk)
{
    u16 lport = 0;
    bpf_probe_read_kernel(&lport, sizeof(lport), (const char *)sk + SOCK_NUM_OFFSET);
    return lport;
}

/* The remote port in host byte order (skc_dport is kept in network order). */
static __always_inline u16 bpfkit_sock_dport(const void *sk)
{
    u16 dport = 0;
    bpf_probe_read_kernel(&dport, sizeof(dport), (const char *)sk + SOCK_DPORT_OFFSET);
    return bpf_ntohs(dport);
}

/* Local and remote addresses in network byte order: 4 bytes each for AF_INET, 16 for AF_INET6;
 * nothing is written for another family. */
static __always_inline void bpfkit_sock_addrs(const void *sk, u16 family, u8 *saddr, u8 *daddr)
{
    const char *base = (const char *)sk;
    if (family == BPFKIT_AF_INET) {
        bpf_probe_read_kernel(saddr, 4, base + SOCK_RCV_SADDR_OFFSET);
        bpf_probe_read_kernel(daddr, 4, base + SOCK_DADDR_OFFSET);
    } else if (family == BPFKIT_AF_INET6) {
        bpf_probe_read_kernel(saddr, 16, base + SOCK_V6_RCV_SADDR_OFFSET);
        bpf_probe_read_kernel(daddr, 16, base + SOCK_V6_DADDR_OFFSET);
    }
}

#endif /* BPFKIT_SOCK_H */
