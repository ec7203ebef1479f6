/* UDP datagrams in known numbers, for pktcount's tests (test/kernel/pktcount.test.ts).
 *
 *   send ADDR PORT N SIZE       N datagrams of SIZE payload bytes to ADDR (IPv4 or IPv6):PORT,
 *                               paced so that no queue on the way overflows; prints "sent N"
 *   recv WAITPORT WAITN PORT... binds [::]:PORT for each PORT (IPv4 too), prints "ready", counts
 *                               datagrams until WAITPORT has WAITN (or 10 s pass with nothing),
 *                               then prints "got PORT N PORT N ..." and exits
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PORTS 8

static int send_mode(const char *addr, int port, long n, int size)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        len = sizeof(*in4);
    } else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        len = sizeof(*in6);
    } else {
        fprintf(stderr, "bad address %s\n", addr);
        return 2;
    }
    int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0) { perror("socket"); return 1; }
    static char payload[65536];
    memset(payload, 'x', sizeof(payload));
    for (long i = 0; i < n; i++) {
        if (sendto(fd, payload, size, 0, (struct sockaddr *)&ss, len) != size) { perror("sendto"); return 1; }
        /* veth's XDP ring holds 256 packets: never get near it. */
        usleep(100);
    }
    printf("sent %ld\n", n);
    return 0;
}

static int recv_mode(int wait_port, long wait_n, int nports, char **ports)
{
    struct pollfd pfd[MAX_PORTS];
    int port[MAX_PORTS];
    long got[MAX_PORTS] = {0};
    int wait_at = -1;
    for (int i = 0; i < nports; i++) {
        port[i] = atoi(ports[i]);
        int fd = socket(AF_INET6, SOCK_DGRAM, 0);
        int zero = 0, big = 4 << 20;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
        struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port[i]), .sin6_addr = in6addr_any };
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) { perror("bind"); return 1; }
        pfd[i] = (struct pollfd){ .fd = fd, .events = POLLIN };
        if (port[i] == wait_port) wait_at = i;
    }
    if (wait_at < 0) { fprintf(stderr, "WAITPORT is not among the ports\n"); return 2; }
    printf("ready\n");
    fflush(stdout);
    char buf[65536];
    while (got[wait_at] < wait_n) {
        if (poll(pfd, nports, 10000) <= 0) break;
        for (int i = 0; i < nports; i++)
            if (pfd[i].revents & POLLIN && recv(pfd[i].fd, buf, sizeof(buf), 0) >= 0) got[i]++;
    }
    /* What the other ports received before the last awaited datagram is queued already. */
    for (int i = 0; i < nports; i++)
        while (recv(pfd[i].fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0) got[i]++;
    printf("got");
    for (int i = 0; i < nports; i++) printf(" %d %ld", port[i], got[i]);
    printf("\n");
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 6 && !strcmp(argv[1], "send")) return send_mode(argv[2], atoi(argv[3]), atol(argv[4]), atoi(argv[5]));
    if (argc >= 5 && argc - 4 <= MAX_PORTS && !strcmp(argv[1], "recv")) return recv_mode(atoi(argv[2]), atol(argv[3]), argc - 4, argv + 4);
    fprintf(stderr, "usage: %s send ADDR PORT N SIZE | recv WAITPORT WAITN PORT...\n", argv[0]);
    return 2;
}
