/* net-udp: the two ends of step 8's traffic, run inside network namespaces.
 *   net-udp send ADDR PORT N      sends N datagrams of 32 bytes to ADDR:PORT (IPv4), prints "sent N"
 *   net-udp recv PORT_A PORT_B M  listens on both ports, prints "ready", waits until PORT_B has
 *                                 M datagrams, then prints "got PORT_A A PORT_B B" with what each
 *                                 port received (the datagrams to PORT_A, sent first on the same
 *                                 link, have arrived or been dropped by then).
 * Both give up after 10 seconds (alarm), so a lost datagram cannot hang a run. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static long number(const char *text, long max)
{
    char *end;
    long n = strtol(text, &end, 10);
    if (*end || n < 1 || n > max) {
        fprintf(stderr, "net-udp: %s is not a number from 1 to %ld\n", text, max);
        exit(2);
    }
    return n;
}

static int listener(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY) };
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int room = 4 << 20;   /* root may exceed rmem_max: room for every datagram of a run */
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &room, sizeof(room)) < 0) die("socket");
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) die("bind");
    return fd;
}

/* Datagrams waiting on a non-blocking socket, read and counted. */
static long drain(int fd)
{
    char buf[64];
    long n = 0;
    while (recv(fd, buf, sizeof(buf), 0) >= 0)
        n++;
    return n;
}

int main(int argc, char **argv)
{
    alarm(10);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 5 && strcmp(argv[1], "send") == 0) {
        struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(number(argv[3], 65535)) };
        long n = number(argv[4], 100000);
        if (inet_pton(AF_INET, argv[2], &to.sin_addr) != 1) {
            fprintf(stderr, "net-udp: %s is not an IPv4 address\n", argv[2]);
            return 2;
        }
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        char buf[32];
        memset(buf, 'x', sizeof(buf));
        for (long i = 0; i < n; i++) {
            if (sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&to, sizeof(to)) != sizeof(buf)) die("sendto");
            if (i % 64 == 63)
                usleep(1000);   /* a pause now and then, so that no queue on the way overflows */
        }
        printf("sent %ld\n", n);
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "recv") == 0) {
        int port_a = number(argv[2], 65535), port_b = number(argv[3], 65535);
        long want = number(argv[4], 100000), a = 0, b = 0;
        int fa = listener(port_a), fb = listener(port_b);
        printf("ready\n");
        struct pollfd both[2] = { { .fd = fa, .events = POLLIN }, { .fd = fb, .events = POLLIN } };
        while (b < want) {
            if (poll(both, 2, -1) < 0) die("poll");
            a += drain(fa);
            b += drain(fb);
        }
        a += drain(fa);
        printf("got %d %ld %d %ld\n", port_a, a, port_b, b);
        return 0;
    }
    fprintf(stderr, "usage: net-udp send ADDR PORT N | net-udp recv PORT_A PORT_B M\n");
    return 2;
}
