/* What the TCP workloads share: addresses from text (IPv4 or IPv6), the local port of a socket,
 * and exact byte counts moved. Errors end the program: a workload that cannot do what the test
 * expects must fail loudly, never report less. */
#ifndef WORKLOAD_INET_H
#define WORKLOAD_INET_H
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static inline void die(const char *what)
{
    perror(what);
    exit(1);
}

/* "127.0.0.1" or "::1" and a port → a sockaddr and its length; exit 2 on anything else. */
static inline socklen_t make_addr(const char *text, int port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, text, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        return sizeof(*in4);
    }
    if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        return sizeof(*in6);
    }
    fprintf(stderr, "%s: bad address %s\n", program_invocation_short_name, text);
    exit(2);
}

static inline int local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        die("getsockname");
    return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                         : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static inline void write_all(int fd, long n)
{
    static char buf[65536];
    memset(buf, 'x', sizeof(buf));
    while (n > 0) {
        ssize_t w = write(fd, buf, n < (long)sizeof(buf) ? n : (long)sizeof(buf));
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            die("write");
        n -= w;
    }
}

static inline void read_exactly(int fd, long n)
{
    static char buf[65536];
    while (n > 0) {
        ssize_t r = read(fd, buf, n < (long)sizeof(buf) ? n : (long)sizeof(buf));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            fprintf(stderr, "%s: connection ended %ld bytes early\n", program_invocation_short_name, n);
            exit(1);
        }
        n -= r;
    }
}

#endif
