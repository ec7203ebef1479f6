/* net-loop N SIZE: known traffic on the loopback interface, for step 7.
 *   - N UDP datagrams of SIZE bytes to a receiver on 127.0.0.1, each received before the next;
 *   - one UDP datagram to a port nobody listens on, which the kernel answers with one ICMP
 *     "port unreachable";
 *   - one TCP connection to 127.0.0.1: 4 bytes each way ("ping", "pong"), then closed.
 * It prints the ports it used, one line each, after the traffic:
 *   udp PORT N SIZE / closed PORT 1 / tcp SERVER_PORT CLIENT_PORT */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what)
{
    perror(what);
    exit(1);
}

/* A socket of `type` bound to 127.0.0.1 on a port the kernel picks; returns the port. */
static int bound(int type, int *fd)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    if ((*fd = socket(AF_INET, type, 0)) < 0) die("socket");
    if (bind(*fd, (struct sockaddr *)&a, sizeof(a)) < 0) die("bind");
    if (getsockname(*fd, (struct sockaddr *)&a, &len) < 0) die("getsockname");
    return ntohs(a.sin_port);
}

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    return a;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: net-loop N SIZE\n");
        return 2;
    }
    long n = strtol(argv[1], NULL, 10), size = strtol(argv[2], NULL, 10);
    if (n < 1 || n > 1000000 || size < 1 || size > 1400) {
        fprintf(stderr, "net-loop: N must be 1-1000000 and SIZE 1-1400\n");
        return 2;
    }
    alarm(20);   /* a bound on the whole run, whatever happens */
    char buf[1500];
    memset(buf, 'x', sizeof(buf));

    int rx, tx, closed;
    int udp_port = bound(SOCK_DGRAM, &rx);
    bound(SOCK_DGRAM, &tx);
    struct sockaddr_in to = loopback(udp_port);
    for (long i = 0; i < n; i++) {
        if (sendto(tx, buf, size, 0, (struct sockaddr *)&to, sizeof(to)) != size) die("sendto");
        if (recv(rx, buf, sizeof(buf), 0) != size) die("recv");
    }

    /* Bound and closed again: a port that was free a moment ago and is free now. */
    int closed_port = bound(SOCK_DGRAM, &closed);
    close(closed);
    struct sockaddr_in nobody = loopback(closed_port);
    if (sendto(tx, buf, 1, 0, (struct sockaddr *)&nobody, sizeof(nobody)) != 1) die("sendto");

    int listener, client = socket(AF_INET, SOCK_STREAM, 0);
    int tcp_port = bound(SOCK_STREAM, &listener);
    if (listen(listener, 1) < 0) die("listen");
    struct sockaddr_in server = loopback(tcp_port), mine;
    socklen_t len = sizeof(mine);
    if (connect(client, (struct sockaddr *)&server, sizeof(server)) < 0) die("connect");
    if (getsockname(client, (struct sockaddr *)&mine, &len) < 0) die("getsockname");
    int conn = accept(listener, NULL, NULL);
    if (conn < 0) die("accept");
    if (write(client, "ping", 4) != 4 || read(conn, buf, 4) != 4) die("ping");
    if (write(conn, "pong", 4) != 4 || read(client, buf, 4) != 4) die("pong");
    close(client);
    if (read(conn, buf, 1) != 0) die("read end");   /* the client's FIN */
    close(conn);
    close(listener);

    printf("udp %d %ld %ld\nclosed %d 1\ntcp %d %d\n", udp_port, n, size, closed_port, tcp_port, ntohs(mine.sin_port));
    return 0;
}
