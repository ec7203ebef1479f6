/* tcpflows: TCP connections that move exactly known byte counts, for tcptop's tests.
 *
 *   tcpflows serve   ADDR PORT N A B          accept N connections on ADDR:PORT (0: any port);
 *                                             on each read exactly A bytes, then send B bytes,
 *                                             then wait for the peer to close
 *   tcpflows connect ADDR PORT N A B [WHEN]   open N connections to ADDR:PORT; on each send A
 *                                             bytes, then read exactly B bytes; close all
 *   tcpflows pair    ADDR N A B [WHEN]        both: the server in this process ("tcpflows-srv"),
 *                                             the client in a child ("tcpflows-cli")
 *   tcpflows refused ADDR PORT N [WHEN]       N connects to ADDR:PORT where nothing listens,
 *                                             each refused (a RST answers the SYN); exit 1 if
 *                                             one is not
 *
 * WHEN is "now" (default), "wait-connect" (read a line from stdin before connecting) or
 * "wait-transfer" (connect, then read a line before moving any byte: the connections exist
 * before the tracer starts). Lines on stdout:
 *   server PID PORT           once listening
 *   client PID LPORT...       once all connections are open (local ports in order)
 *   refused PID N             once all N attempts were refused
 * All N connections stay open until every transfer is done. Sends are write(), reads are
 * read(): each byte moved is counted exactly once by a tracer of what applications read.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "inet.h"

static void wait_line(void)
{
    char line[64];
    if (!fgets(line, sizeof(line), stdin))
        exit(0);
}

static void more_files(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int listen_on(const char *addr, int port, int backlog)
{
    struct sockaddr_storage ss;
    socklen_t len = make_addr(addr, port, &ss);
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    int one = 1;
    if (fd < 0)
        die("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) < 0)
        die("bind");
    if (listen(fd, backlog) < 0)
        die("listen");
    printf("server %d %d\n", getpid(), local_port(fd));
    fflush(stdout);
    return fd;
}

/* Each connection: read A, then send B, then wait for EOF. poll() serves them in any order. */
static void serve(int lfd, int n, long a, long b)
{
    struct pollfd *pfd = calloc(n, sizeof(*pfd));
    long *got = calloc(n, sizeof(*got));
    char buf[65536];
    for (int i = 0; i < n; i++) {
        pfd[i].fd = accept(lfd, NULL, NULL);
        if (pfd[i].fd < 0)
            die("accept");
        pfd[i].events = POLLIN;
    }
    close(lfd);
    for (int open = n; open > 0;) {
        if (poll(pfd, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        for (int i = 0; i < n; i++) {
            if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            /* Never read past A before B is sent: the byte counts stay exact. */
            long want = got[i] < a ? a - got[i] : (long)sizeof(buf);
            ssize_t r = read(pfd[i].fd, buf, want < (long)sizeof(buf) ? want : (long)sizeof(buf));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                if (got[i] < a) {
                    fprintf(stderr, "tcpflows: client closed after %ld of %ld bytes\n", got[i], a);
                    exit(1);
                }
                close(pfd[i].fd);
                pfd[i].fd = -1;
                open--;
                continue;
            }
            got[i] += r;
            if (got[i] == a)
                write_all(pfd[i].fd, b);
            if (got[i] > a) {
                fprintf(stderr, "tcpflows: client sent more than %ld bytes\n", a);
                exit(1);
            }
        }
    }
}

static void client(const char *addr, int port, int n, long a, long b, const char *when)
{
    struct sockaddr_storage ss;
    socklen_t len = make_addr(addr, port, &ss);
    int *fds = calloc(n, sizeof(*fds));
    if (strcmp(when, "wait-connect") == 0)
        wait_line();
    printf("client %d", getpid());
    for (int i = 0; i < n; i++) {
        fds[i] = socket(ss.ss_family, SOCK_STREAM, 0);
        if (fds[i] < 0)
            die("socket");
        if (connect(fds[i], (struct sockaddr *)&ss, len) < 0)
            die("connect");
        printf(" %d", local_port(fds[i]));
    }
    printf("\n");
    fflush(stdout);
    if (strcmp(when, "wait-transfer") == 0)
        wait_line();
    for (int i = 0; i < n; i++) {
        write_all(fds[i], a);
        read_exactly(fds[i], b);
    }
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

static void refused(const char *addr, int port, int n, const char *when)
{
    struct sockaddr_storage ss;
    socklen_t len = make_addr(addr, port, &ss);
    if (strcmp(when, "wait-connect") == 0)
        wait_line();
    for (int i = 0; i < n; i++) {
        int fd = socket(ss.ss_family, SOCK_STREAM, 0);
        if (fd < 0)
            die("socket");
        if (connect(fd, (struct sockaddr *)&ss, len) == 0 || errno != ECONNREFUSED) {
            fprintf(stderr, "tcpflows: connect %d to port %d was not refused\n", i, port);
            exit(1);
        }
        close(fd);
    }
    printf("refused %d %d\n", getpid(), n);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        goto usage;
    more_files();
    setvbuf(stdin, NULL, _IONBF, 0);
    if (strcmp(argv[1], "serve") == 0 && argc == 7) {
        int n = atoi(argv[4]);
        serve(listen_on(argv[2], atoi(argv[3]), n), n, atol(argv[5]), atol(argv[6]));
        return 0;
    }
    if (strcmp(argv[1], "connect") == 0 && (argc == 7 || argc == 8)) {
        client(argv[2], atoi(argv[3]), atoi(argv[4]), atol(argv[5]), atol(argv[6]), argc == 8 ? argv[7] : "now");
        return 0;
    }
    if (strcmp(argv[1], "pair") == 0 && (argc == 6 || argc == 7)) {
        int n = atoi(argv[3]);
        long a = atol(argv[4]), b = atol(argv[5]);
        int lfd = listen_on(argv[2], 0, n);
        int port = local_port(lfd);
        pid_t child = fork();
        if (child < 0)
            die("fork");
        if (child == 0) {
            close(lfd);
            prctl(PR_SET_NAME, "tcpflows-cli");
            client(argv[2], port, n, a, b, argc == 7 ? argv[6] : "now");
            return 0;
        }
        prctl(PR_SET_NAME, "tcpflows-srv");
        serve(lfd, n, a, b);
        int status = 0;
        if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            return 1;
        return 0;
    }
    if (strcmp(argv[1], "refused") == 0 && (argc == 5 || argc == 6)) {
        refused(argv[2], atoi(argv[3]), atoi(argv[4]), argc == 6 ? argv[5] : "now");
        return 0;
    }
usage:
    fprintf(stderr, "usage: tcpflows serve ADDR PORT N A B | connect ADDR PORT N A B [WHEN] | pair ADDR N A B [WHEN]"
                    " | refused ADDR PORT N [WHEN]\n");
    return 2;
}
