/* The network tools' workload: TCP connections opened and closed one after another over
 * loopback (127.0.0.1), the connect/accept/close cycle whose every state change the connection
 * tracers see (tcpconnect, tcpaccept, tcplife, tcpconnlat).
 *
 *   connloop connect AMOUNT [wait]
 *     This process ("connloop") connects, sends one byte, reads one byte and closes; a child
 *     ("connloop-srv") accepts, reads the byte, answers and closes. Timed from the first connect
 *     until the last connection is closed on both sides; ns_per_op is per connection.
 *
 *   connloop refused AMOUNT [wait]
 *     connect() to a loopback port where nothing listens, AMOUNT times (each answered by a RST:
 *     a drop for tcpdrop, a failed connect for tcpconnect); ns_per_op is per attempt. */
#include "bench.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int loopback_listener(struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof *addr;
    if (fd < 0 || bind(fd, (struct sockaddr *)addr, len) < 0 || listen(fd, 128) < 0 ||
        getsockname(fd, (struct sockaddr *)addr, &len) < 0) {
        perror("listen");
        exit(1);
    }
    return fd;
}

static void serve(int lfd)
{
    prctl(PR_SET_NAME, "connloop-srv");
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        char c;
        if (fd < 0)
            _exit(1);
        if (read(fd, &c, 1) == 1)
            (void)!write(fd, &c, 1);
        close(fd);
    }
}

static int connections(struct amount a, int argc, char **argv)
{
    struct sockaddr_in addr;
    int lfd = loopback_listener(&addr);
    pid_t child = fork();
    if (child == 0)
        serve(lfd);
    close(lfd);
    wait_for_go(argc, argv, 3);
    long done = 0;
    long long start = now_ns();
    while (amount_more(&a, done, start)) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        char c = 'x';
        if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || write(fd, &c, 1) != 1 ||
            read(fd, &c, 1) != 1) {
            perror("connection");
            return 1;
        }
        /* The server closes first once it has answered: read its FIN, so that both sides are
         * closed when the next connection starts. */
        (void)!read(fd, &c, 1);
        close(fd);
        done++;
    }
    long long end = now_ns();
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    report(done, end - start);
    return 0;
}

static int refused(struct amount a, int argc, char **argv)
{
    /* A port that was just listened on and closed: nothing listens there now. */
    struct sockaddr_in addr;
    close(loopback_listener(&addr));
    wait_for_go(argc, argv, 3);
    long done = 0;
    long long start = now_ns();
    while (amount_more(&a, done, start)) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0 || errno != ECONNREFUSED) {
            fprintf(stderr, "connloop: connect was not refused\n");
            return 1;
        }
        close(fd);
        done++;
    }
    report(done, now_ns() - start);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "connect") == 0)
        return connections(parse_amount(argv[2]), argc, argv);
    if (argc >= 3 && strcmp(argv[1], "refused") == 0)
        return refused(parse_amount(argv[2]), argc, argv);
    fprintf(stderr, "usage: connloop connect AMOUNT [wait] | connloop refused AMOUNT [wait]\n");
    return 2;
}
