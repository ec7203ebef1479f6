/* Step 8: an XDP program. It runs for each packet arriving on one interface, before the
 * kernel's network stack, and returns a verdict: XDP_PASS hands the packet on, XDP_DROP
 * discards it there. It reads the packet directly between ctx->data and ctx->data_end, and
 * the verifier accepts each read only after a comparison with data_end proves it in bounds. */
#include <uapi/linux/bpf.h>
#include <uapi/linux/if_ether.h>
#include <uapi/linux/in.h>
#include <uapi/linux/ip.h>
#include <uapi/linux/udp.h>

struct key {
    u8 proto;     /* IP protocol: TCP 6, UDP 17, ICMP 1; 0 for what is not IPv4 (ARP) */
    u8 dropped;   /* 1 when this program dropped the packet */
    u16 port;     /* UDP destination port, else 0 */
};
BPF_HASH(counts, struct key, u64, 1024);
BPF_ARRAY(drop_port, u16, 1);   /* set from user space: UDP to this port is dropped */

int count_and_drop(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct key key = {};
    struct ethhdr *eth = data;
    struct iphdr *ip = data + sizeof(*eth);
    if ((void *)(ip + 1) <= data_end && eth->h_proto == htons(ETH_P_IP)) {
        key.proto = ip->protocol;
        struct udphdr *udp = (void *)ip + ip->ihl * 4;
        if (ip->protocol == IPPROTO_UDP && (void *)(udp + 1) <= data_end)
            key.port = ntohs(udp->dest);
    }
    int zero = 0;
    u16 *drop = drop_port.lookup(&zero);
    key.dropped = key.proto == IPPROTO_UDP && drop && key.port == *drop;
    u64 none = 0, *n = counts.lookup_or_try_init(&key, &none);
    if (n)
        __sync_fetch_and_add(n, 1);
    return key.dropped ? XDP_DROP : XDP_PASS;
}
