/* Step 7: a socket filter. It runs for every packet its raw socket would receive: here, every
 * packet on the loopback interface, from the Ethernet header on. It counts packets by IP protocol
 * and destination port and keeps none of them (returns 0: the socket's copy is dropped; the
 * packet itself goes on untouched). */
#include <uapi/linux/if_ether.h>
#include <uapi/linux/if_packet.h>
#include <uapi/linux/in.h>
#include <uapi/linux/ip.h>
#include <uapi/linux/ipv6.h>

struct key {
    u8 proto;   /* IPPROTO_TCP 6, IPPROTO_UDP 17, IPPROTO_ICMP 1, IPPROTO_ICMPV6 58; 0 not IP */
    u8 ipv6;
    u16 port;   /* destination port for TCP and UDP, else 0 */
};
BPF_HASH(counts, struct key, u64, 4096);

int count_packets(struct __sk_buff *skb)
{
    /* On lo each packet passes twice: sent (PACKET_OUTGOING), then received. Count it once. */
    if (skb->pkt_type == PACKET_OUTGOING)
        return 0;
    struct key key = {};
    u32 l4 = 0;
    /* load_byte/load_half read at an offset in the packet (the classic BPF loads: bounds
     * checked by the kernel at run time, big-endian fields returned in host order). */
    u16 ethertype = load_half(skb, offsetof(struct ethhdr, h_proto));
    if (ethertype == ETH_P_IP) {
        key.proto = load_byte(skb, ETH_HLEN + offsetof(struct iphdr, protocol));
        l4 = ETH_HLEN + (load_byte(skb, ETH_HLEN) & 0xf) * 4;  /* ihl: header length in 32-bit words */
    } else if (ethertype == ETH_P_IPV6) {
        key.ipv6 = 1;
        key.proto = load_byte(skb, ETH_HLEN + offsetof(struct ipv6hdr, nexthdr));
        l4 = ETH_HLEN + sizeof(struct ipv6hdr);  /* extension headers not walked */
    }
    if (key.proto == IPPROTO_TCP || key.proto == IPPROTO_UDP)
        key.port = load_half(skb, l4 + 2);  /* tcphdr.dest and udphdr.dest: bytes 2-3 of both */
    u64 zero = 0, *n = counts.lookup_or_try_init(&key, &zero);
    if (n)
        __sync_fetch_and_add(n, 1);
    return 0;
}
