/* tcpdrop-syn: exactly N TCP SYNs to ADDR:PORT, for tcpdrop's tests of packets a firewall drops.
 *
 *   tcpdrop-syn ADDR PORT N
 *
 * Each of the N sockets connects without blocking (the kernel sends its SYN within connect())
 * and is closed at once: a socket closed in SYN_SENT sends nothing more, so no retransmitted SYN
 * can follow (the first would come a second later). Prints "syn PID LPORT..." (each socket's
 * local port, in order) once all are closed. Exit 1 if a connect fails otherwise than "in
 * progress".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "inet.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: tcpdrop-syn ADDR PORT N\n");
        return 2;
    }
    int port = atoi(argv[2]), n = atoi(argv[3]);
    struct sockaddr_storage ss;
    socklen_t len = make_addr(argv[1], port, &ss);
    int *ports = calloc(n > 0 ? n : 1, sizeof(int));
    for (int i = 0; i < n; i++) {
        int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            perror("socket");
            return 1;
        }
        if (connect(fd, (struct sockaddr *)&ss, len) == 0 || errno != EINPROGRESS) {
            fprintf(stderr, "tcpdrop-syn: connect %d: %s\n", i, strerror(errno));
            return 1;
        }
        struct sockaddr_storage local;
        socklen_t llen = sizeof(local);
        if (getsockname(fd, (struct sockaddr *)&local, &llen) != 0) {
            perror("getsockname");
            return 1;
        }
        ports[i] = ntohs(local.ss_family == AF_INET ? ((struct sockaddr_in *)&local)->sin_port
                                                     : ((struct sockaddr_in6 *)&local)->sin6_port);
        close(fd);
    }
    printf("syn %d", getpid());
    for (int i = 0; i < n; i++)
        printf(" %d", ports[i]);
    printf("\n");
    return 0;
}
