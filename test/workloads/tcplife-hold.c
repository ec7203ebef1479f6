/* tcplife-hold: one TCP connection that lives a known time, for tcplife's tests.
 *
 *   tcplife-hold ADDR A B HOLD_MS [reset]
 *
 * The server listens on ADDR (any port) in this process ("tcplife-srv"); a child ("tcplife-cli")
 * connects, sends A bytes, reads B bytes back, holds the connection HOLD_MS milliseconds, then
 * ends it: by shutdown() and reading to the server's FIN (the server closes when it sees the
 * client's), or with "reset" by a close() with SO_LINGER 0, which resets it (the server's end
 * then dies in softirq, not in any call the server makes). Lines on stdout:
 *   server PID PORT     once listening
 *   client PID LPORT    once connected
 *   span US             the client's measure of the connection's life: from just before
 *                       connect() to just after the end (both ends are closed by then)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "inet.h"

/* Reads until the peer's FIN (0) or a reset (ECONNRESET); anything else is an error. */
static void read_to_end(int fd)
{
    char buf[4096];
    for (;;) {
        ssize_t r = read(fd, buf, sizeof(buf));
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            return;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            die("read");
        fprintf(stderr, "tcplife-hold: %zd bytes more than expected\n", r);
        exit(1);
    }
}

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void client(const char *addr, int port, long a, long b, long hold_ms, int reset)
{
    struct sockaddr_storage ss;
    socklen_t len = make_addr(addr, port, &ss);
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket");
    long long start = now_us();
    if (connect(fd, (struct sockaddr *)&ss, len) < 0)
        die("connect");
    printf("client %d %d\n", getpid(), local_port(fd));
    fflush(stdout);
    write_all(fd, a);
    read_exactly(fd, b);
    struct timespec hold = {hold_ms / 1000, (hold_ms % 1000) * 1000000L};
    while (nanosleep(&hold, &hold) < 0 && errno == EINTR)
        ;
    if (reset) {
        struct linger abort_now = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_now, sizeof(abort_now));
        close(fd);
    } else {
        shutdown(fd, SHUT_WR);
        read_to_end(fd);
        close(fd);
    }
    printf("span %lld\n", now_us() - start);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc != 5 && !(argc == 6 && strcmp(argv[5], "reset") == 0)) {
        fprintf(stderr, "usage: tcplife-hold ADDR A B HOLD_MS [reset]\n");
        return 2;
    }
    long a = atol(argv[2]), b = atol(argv[3]), hold_ms = atol(argv[4]);
    int reset = argc == 6;
    struct sockaddr_storage ss;
    socklen_t len = make_addr(argv[1], 0, &ss);
    int lfd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (lfd < 0)
        die("socket");
    if (bind(lfd, (struct sockaddr *)&ss, len) < 0 || listen(lfd, 1) < 0)
        die("listen");
    int port = local_port(lfd);
    printf("server %d %d\n", getpid(), port);
    fflush(stdout);
    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        close(lfd);
        prctl(PR_SET_NAME, "tcplife-cli");
        client(argv[1], port, a, b, hold_ms, reset);
        return 0;
    }
    prctl(PR_SET_NAME, "tcplife-srv");
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        die("accept");
    close(lfd);
    read_exactly(fd, a);
    write_all(fd, b);
    read_to_end(fd);
    close(fd);
    int status = 0;
    if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return 1;
    return 0;
}
