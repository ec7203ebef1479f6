/* tcpconnect-nb: one non-blocking connect() whose handshake is still under way when connect()
 * returns, for tcpconnect's test of the records completed at connect()'s return.
 *
 *   tcpconnect-nb ADDR PORT     connect without waiting (EINPROGRESS), print "nb PID LPORT",
 *                               then read a line from stdin and close the socket
 *
 * The test drops the SYN (an nft rule in a network namespace), so the socket stays in SYN_SENT
 * until it is closed: nothing but the return of connect() can tell the tracer its local port. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "inet.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: tcpconnect-nb ADDR PORT\n");
        return 2;
    }
    struct sockaddr_storage ss;
    socklen_t len = make_addr(argv[1], atoi(argv[2]), &ss);
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        perror("socket");
        return 1;
    }
    if (connect(fd, (struct sockaddr *)&ss, len) == 0 || errno != EINPROGRESS) {
        fprintf(stderr, "tcpconnect-nb: connect did not stay in progress: %s\n", strerror(errno));
        return 1;
    }
    struct sockaddr_storage local;
    socklen_t llen = sizeof(local);
    if (getsockname(fd, (struct sockaddr *)&local, &llen) < 0) {
        perror("getsockname");
        return 1;
    }
    int lport = ntohs(local.ss_family == AF_INET ? ((struct sockaddr_in *)&local)->sin_port
                                                  : ((struct sockaddr_in6 *)&local)->sin6_port);
    printf("nb %d %d\n", getpid(), lport);
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof(line), stdin))
        return 0;
    close(fd);
    return 0;
}
