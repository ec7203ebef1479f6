/* tcpconnlat-timed: N blocking connects to a listener of its own, each timed around connect(),
 * for tcpconnlat's tests: the latency the kernel sees (SYN sent to ESTABLISHED) happens inside
 * connect(), so it can be no longer than the call.
 *
 *   tcpconnlat-timed ADDR PORT N      listen on ADDR:PORT (0: any port), print
 *                                     "listening PID PORT", read a line from stdin, then make N
 *                                     connects to it and print "conn LPORT NS" for each (its local
 *                                     port, and how long connect() took in CLOCK_MONOTONIC ns),
 *                                     then "done"
 *
 * The process is named "connlat-cli". Connections stay open (unaccepted, in the listener's
 * backlog) until the end.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "inet.h"

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: tcpconnlat-timed ADDR PORT N\n");
        return 2;
    }
    int n = atoi(argv[3]);
    prctl(PR_SET_NAME, "connlat-cli");
    struct sockaddr_storage ss;
    socklen_t len = make_addr(argv[1], atoi(argv[2]), &ss);
    int lfd = socket(ss.ss_family, SOCK_STREAM, 0);
    int one = 1;
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
        die("socket");
    if (bind(lfd, (struct sockaddr *)&ss, len) < 0 || listen(lfd, n + 8) < 0)
        die("listen");
    int port = local_port(lfd);
    printf("listening %d %d\n", getpid(), port);
    fflush(stdout);
    char line[64];
    if (!fgets(line, sizeof(line), stdin))
        return 1;

    len = make_addr(argv[1], port, &ss);
    for (int i = 0; i < n; i++) {
        int fd = socket(ss.ss_family, SOCK_STREAM, 0);
        if (fd < 0)
            die("socket");
        long long start = now_ns();
        if (connect(fd, (struct sockaddr *)&ss, len) < 0)
            die("connect");
        long long took = now_ns() - start;
        printf("conn %d %lld\n", local_port(fd), took);
    }
    printf("done\n");
    fflush(stdout);
    return 0;
}
