/* pktcount: an XDP program. It runs once per packet received on one interface, before the kernel
 * has allocated anything for it (native mode) or just after (generic mode), and returns a verdict:
 * XDP_PASS hands the packet to the network stack, XDP_DROP discards it there and then.
 *
 * It sees raw bytes between ctx->data and ctx->data_end. The verifier accepts a read only when
 * the program has first compared the end of what it reads with data_end, so every header below
 * is checked before its fields are touched; a packet too short for a header is counted as what
 * was recognised so far. tools/pktcount/README.md says more.
 *
 * #defines it takes (numbers only; tools/pktcount/program.ts computes them):
 *   MAX_KEYS        entries of `counts` (protocol and port pairs per interval)
 *   MAX_DROP_RULES  entries of `drops`, which user space fills from --drop
 */
/* Only uapi headers, the kernel's stable interface: the internal ones (linux/ip.h, if_vlan.h)
 * pull in linux/bpf.h, which does not compile against headers of another kernel release. */
#include <uapi/linux/bpf.h>
#include <uapi/linux/in.h>
#include <uapi/linux/if_ether.h>
#include <uapi/linux/ip.h>
#include <uapi/linux/ipv6.h>
#include <uapi/linux/tcp.h>
#include <uapi/linux/udp.h>

/* 802.1Q's tag as it follows the MAC addresses (linux/if_vlan.h is not uapi). */
struct vlan_tag {
    __be16 tci;
    __be16 encapsulated_proto;
};
#define IP_FRAG_OFFSET 0x1fff    /* the fragment offset bits of iphdr.frag_off (net/ip.h) */

/* proto is the IP protocol number for tcp (6), udp (17), icmp (1) and icmpv6 (58), 0 for
 * anything else (ARP, other IP protocols, IPv6 extension headers); port is the destination port
 * in host byte order, 0 where there is none. */
struct pkt_key {
    u8 proto;
    u8 pad;
    u16 port;
};

struct pkt_val {
    u64 packets;
    u64 bytes;      /* whole frames, Ethernet header included */
    u64 dropped;    /* of those packets, how many this program dropped */
};

/* Per CPU: each CPU receives its own packets and adds without atomics; user space sums. */
BPF_PERCPU_HASH(counts, struct pkt_key, struct pkt_val, MAX_KEYS);
BPF_HASH(drops, struct pkt_key, u8, MAX_DROP_RULES);
/* Packets not counted because `counts` was full (a port scan in one interval). */
BPF_PERCPU_ARRAY(missed, u64, 1);

static __always_inline u8 known_proto(u8 proto)
{
    return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_ICMP ||
           proto == IPPROTO_ICMPV6 ? proto : 0;
}

int xdp_pktcount(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct pkt_key key = {};
    void *l4 = NULL;
    u8 proto = 0;

    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end)
        goto count;
    u16 ethertype = eth->h_proto;
    void *next = eth + 1;

    /* Up to two VLAN tags (802.1ad outside 802.1Q); a bounded loop the verifier can unroll. */
#pragma unroll
    for (int i = 0; i < 2; i++) {
        if (ethertype != htons(ETH_P_8021Q) && ethertype != htons(ETH_P_8021AD))
            break;
        struct vlan_tag *vlan = next;
        if ((void *)(vlan + 1) > data_end)
            goto count;
        ethertype = vlan->encapsulated_proto;
        next = vlan + 1;
    }

    if (ethertype == htons(ETH_P_IP)) {
        struct iphdr *ip = next;
        if ((void *)(ip + 1) > data_end)
            goto count;
        proto = ip->protocol;
        /* Only a first fragment carries the ports; the others count with port 0. */
        if (ip->ihl >= 5 && !(ip->frag_off & htons(IP_FRAG_OFFSET)))
            l4 = (void *)ip + ip->ihl * 4;    /* options make the header longer than 20 bytes */
    } else if (ethertype == htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = next;
        if ((void *)(ip6 + 1) > data_end)
            goto count;
        /* Extension headers are not walked: a packet with one counts as "other". */
        proto = ip6->nexthdr;
        l4 = ip6 + 1;
    }
    key.proto = known_proto(proto);

    if (l4 && proto == IPPROTO_TCP) {
        struct tcphdr *tcp = l4;
        if ((void *)(tcp + 1) <= data_end)
            key.port = ntohs(tcp->dest);
    } else if (l4 && proto == IPPROTO_UDP) {
        struct udphdr *udp = l4;
        if ((void *)(udp + 1) <= data_end)
            key.port = ntohs(udp->dest);
    }

count:;
    /* A map lookup, not a comparison with constants: the rules are data, set from user space. */
    int verdict = drops.lookup(&key) ? XDP_DROP : XDP_PASS;
    struct pkt_val zero = {};
    struct pkt_val *val = counts.lookup_or_try_init(&key, &zero);
    if (val) {
        val->packets++;
        val->bytes += data_end - data;
        if (verdict == XDP_DROP)
            val->dropped++;
    } else {
        missed.increment(0);
    }
    return verdict;
}
