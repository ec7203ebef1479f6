/* pktcount's workload, over loopback (127.0.0.1), where the bench runs pktcount on `lo`
 * (generic XDP: loopback has no native mode).
 *
 *   udpflood send AMOUNT [wait]
 *     AMOUNT 64-byte UDP datagrams from this process to a socket it bound itself and never reads:
 *     once that socket's small buffer is full the kernel drops each datagram at the socket, a
 *     constant cost with or without XDP in front. Every datagram passes lo's receive path, where
 *     XDP runs, once. ns_per_op is per datagram sent, so pps = 1e9 / ns_per_op.
 *
 *   udpflood to ADDR PORT AMOUNT [wait]
 *     The same datagrams to ADDR:PORT (IPv4), for a veth pair between two namespaces: run in one
 *     namespace, sending to the other's address, where XDP on the receiving veth sees each one.
 *     Sending into the veth runs the peer's receive path in this task's softirq, so ns_per_op
 *     includes the receiver's XDP program. */
#include "bench.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static int flood(int tx, const struct sockaddr_in *addr, struct amount amount, int argc, char **argv, int wait_index)
{
    char payload[64];
    memset(payload, 'x', sizeof payload);
    wait_for_go(argc, argv, wait_index);
    long done = 0;
    long long start = now_ns();
    while (amount_more(&amount, done, start)) {
        for (int i = 0; i < 256 && (amount.count == 0 || done < amount.count); i++, done++) {
            if (sendto(tx, payload, sizeof payload, 0, (const struct sockaddr *)addr, sizeof *addr) != (ssize_t)sizeof payload) {
                perror("sendto");
                return 1;
            }
        }
    }
    report(done, now_ns() - start);
    return 0;
}

int main(int argc, char **argv)
{
    int tx = socket(AF_INET, SOCK_DGRAM, 0);
    if (argc >= 5 && strcmp(argv[1], "to") == 0) {
        struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[3])) };
        if (tx < 0 || inet_pton(AF_INET, argv[2], &addr.sin_addr) != 1) {
            fprintf(stderr, "udpflood: bad address %s\n", argv[2]);
            return 2;
        }
        return flood(tx, &addr, parse_amount(argv[4]), argc, argv, 5);
    }
    if (argc < 3 || strcmp(argv[1], "send") != 0) {
        fprintf(stderr, "usage: udpflood send AMOUNT [wait] | udpflood to ADDR PORT AMOUNT [wait]\n");
        return 2;
    }
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    int rx = socket(AF_INET, SOCK_DGRAM, 0);
    int small = 4096;
    setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    if (rx < 0 || tx < 0 || bind(rx, (struct sockaddr *)&addr, len) < 0 || getsockname(rx, (struct sockaddr *)&addr, &len) < 0) {
        perror("socket");
        return 1;
    }
    return flood(tx, &addr, parse_amount(argv[2]), argc, argv, 3);
}
