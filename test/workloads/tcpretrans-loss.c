/* tcpretrans-loss: two TCP connections whose sender-side retransmits are counted by the kernel
 * itself (TCP_INFO's tcpi_total_retrans), for tcpretrans's tests. The test drops one
 * connection's packets for a while (an nft rule on the receiver); the other is the control.
 *
 *   tcpretrans-loss serve ADDR
 *     listen on two ports of ADDR (the lossy one first); accept one connection on each; read
 *     each to EOF; then answer each with the byte count it read ("N\n") and close
 *   tcpretrans-loss send ADDR LOSSY CONTROL MESSAGES SIZE GAP_MS
 *     connect to both ports; read a line from stdin; write MESSAGES messages of SIZE bytes on
 *     each, GAP_MS apart (TCP_NODELAY: each write leaves at once); read a line from stdin; shut
 *     both down for writing, read each answer to EOF, then read each socket's TCP_INFO
 *
 * Lines on stdout:
 *   server PID LOSSY_PORT CONTROL_PORT    once listening
 *   received N1 N2                        bytes read from each, once both ended
 *   client PID LOSSY_LPORT CONTROL_LPORT  once both are connected
 *   written                               after the last message
 *   retrans R1 R2                         tcpi_total_retrans of each, after the answers
 *   answers A1 A2                         what the server said it read
 * Every wait is bounded (60 s); on a timeout or an error it exits 1. Keep MESSAGES * SIZE below
 * one MSS: every retransmitted skb then carries one segment, as the test's arithmetic assumes. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "inet.h"

#define WAIT_MS 60000

static void wait_readable(int fd, const char *what)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n = poll(&p, 1, WAIT_MS);
    if (n < 0)
        die("poll");
    if (n == 0) {
        fprintf(stderr, "timed out waiting for %s\n", what);
        exit(1);
    }
}

static void wait_line(void)
{
    char line[64];
    wait_readable(0, "a line on stdin");
    if (!fgets(line, sizeof(line), stdin)) {
        fprintf(stderr, "stdin closed\n");
        exit(1);
    }
}

/* Reads fd to EOF; returns the bytes read, and the text of the first bytes in `head`. */
static long read_all(int fd, char *head, size_t head_len)
{
    char buf[4096];
    long total = 0;
    for (int reads = 0; reads < 1000000; reads++) {
        wait_readable(fd, "data");
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0)
            die("read");
        if (n == 0)
            return total;
        if (head && total < (long)head_len - 1) {
            size_t room = head_len - 1 - total;
            memcpy(head + total, buf, (size_t)n < room ? (size_t)n : room);
            head[total + ((size_t)n < room ? (size_t)n : room)] = 0;
        }
        total += n;
    }
    fprintf(stderr, "too many reads\n");
    exit(1);
}

static int serve(const char *addr)
{
    int listeners[2], conns[2];
    long got[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        struct sockaddr_storage ss;
        socklen_t len = make_addr(addr, 0, &ss);
        listeners[i] = socket(ss.ss_family, SOCK_STREAM, 0);
        if (listeners[i] < 0 || bind(listeners[i], (struct sockaddr *)&ss, len) < 0 || listen(listeners[i], 4) < 0)
            die("listen");
    }
    printf("server %d %d %d\n", getpid(), local_port(listeners[0]), local_port(listeners[1]));
    fflush(stdout);
    for (int i = 0; i < 2; i++) {
        wait_readable(listeners[i], "a connection");
        conns[i] = accept(listeners[i], NULL, NULL);
        if (conns[i] < 0)
            die("accept");
    }
    /* Both at once: the control connection ends while the lossy one is still blacked out. */
    int ended[2] = {0, 0};
    char buf[4096];
    for (int rounds = 0; !(ended[0] && ended[1]) && rounds < 1000000; rounds++) {
        struct pollfd p[2];
        for (int i = 0; i < 2; i++)
            p[i] = (struct pollfd){.fd = ended[i] ? -1 : conns[i], .events = POLLIN};
        int n = poll(p, 2, WAIT_MS);
        if (n <= 0) {
            fprintf(stderr, "timed out waiting for data\n");
            return 1;
        }
        for (int i = 0; i < 2; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t r = read(conns[i], buf, sizeof(buf));
            if (r < 0)
                die("read");
            if (r > 0) {
                got[i] += r;
                continue;
            }
            char answer[32];
            int len = snprintf(answer, sizeof(answer), "%ld\n", got[i]);
            if (write(conns[i], answer, len) != len)
                die("write");
            close(conns[i]);
            ended[i] = 1;
        }
    }
    if (!(ended[0] && ended[1])) {
        fprintf(stderr, "too many reads\n");
        return 1;
    }
    printf("received %ld %ld\n", got[0], got[1]);
    return 0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static int send_side(const char *addr, int lossy, int control, int messages, int size, int gap_ms)
{
    int fds[2];
    int ports[2] = {lossy, control};
    for (int i = 0; i < 2; i++) {
        struct sockaddr_storage ss;
        socklen_t len = make_addr(addr, ports[i], &ss);
        fds[i] = socket(ss.ss_family, SOCK_STREAM, 0);
        int one = 1;
        if (fds[i] < 0 || setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
            die("socket");
        if (connect(fds[i], (struct sockaddr *)&ss, len) < 0)
            die("connect");
    }
    printf("client %d %d %d\n", getpid(), local_port(fds[0]), local_port(fds[1]));
    fflush(stdout);
    wait_line();
    char *msg = malloc(size);
    if (!msg)
        die("malloc");
    memset(msg, 'r', size);
    for (int m = 0; m < messages; m++) {
        for (int i = 0; i < 2; i++) {
            if (write(fds[i], msg, size) != size)
                die("write");
        }
        if (m + 1 < messages)
            sleep_ms(gap_ms);
    }
    printf("written\n");
    fflush(stdout);
    wait_line();
    long answers[2];
    unsigned retrans[2];
    for (int i = 0; i < 2; i++) {
        if (shutdown(fds[i], SHUT_WR) < 0)
            die("shutdown");
    }
    for (int i = 0; i < 2; i++) {
        char head[32] = "";
        read_all(fds[i], head, sizeof(head));
        answers[i] = strtol(head, NULL, 10);
        /* Everything sent was acknowledged before the answer came: no retransmit can follow. */
        struct tcp_info info;
        socklen_t len = sizeof(info);
        if (getsockopt(fds[i], IPPROTO_TCP, TCP_INFO, &info, &len) < 0)
            die("TCP_INFO");
        retrans[i] = info.tcpi_total_retrans;
        close(fds[i]);
    }
    printf("retrans %u %u\nanswers %ld %ld\n", retrans[0], retrans[1], answers[0], answers[1]);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "serve") == 0)
        return serve(argv[2]);
    if (argc == 8 && strcmp(argv[1], "send") == 0)
        return send_side(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]), atoi(argv[7]));
    fprintf(stderr, "usage: tcpretrans-loss serve ADDR | send ADDR LOSSY CONTROL MESSAGES SIZE GAP_MS\n");
    return 2;
}
