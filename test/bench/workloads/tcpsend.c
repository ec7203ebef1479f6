/* The tcptop workloads, over loopback (127.0.0.1).
 *
 *   tcpsend send AMOUNT SIZE [wait]
 *     One connection; this process ("tcpsend") writes SIZE-byte messages (TCP_NODELAY), a child
 *     ("tcpsend-rx") reads them SIZE bytes at a time: one send and about one receive per message,
 *     the small-message case where a per-call probe costs most. Timed from the first send until
 *     the reader has every byte; ns_per_op is per message sent.
 *
 *   tcpsend flows N [wait]
 *     N connections at once; each side sends one byte and reads one: 2*N flows (a client socket in
 *     this process, a server socket in the child "tcpsend-srv", each a flow of its own process),
 *     held open until one more line arrives on stdin (or stdin closes), then all closed. Prints
 *     "connected N" when every connection is open and "moved N" once each has moved its bytes. */
#include "bench.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int listener(struct sockaddr_in *addr, int backlog)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof *addr;
    if (fd < 0 || bind(fd, (struct sockaddr *)addr, len) < 0 || listen(fd, backlog) < 0 ||
        getsockname(fd, (struct sockaddr *)addr, &len) < 0) {
        perror("listen");
        exit(1);
    }
    return fd;
}

static int connect_to(const struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (const struct sockaddr *)addr, sizeof *addr) < 0) {
        perror("connect");
        exit(1);
    }
    return fd;
}

static int read_exactly(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0)
            return -1;
        got += r;
    }
    return 0;
}

static int send_messages(int argc, char **argv)
{
    struct amount a = parse_amount(argv[2]);
    size_t size = atol(argv[3]);
    char buf[65536];
    if (size < 1 || size > sizeof buf) {
        fprintf(stderr, "SIZE: 1 to %zu\n", sizeof buf);
        return 2;
    }
    memset(buf, 'x', sizeof buf);
    struct sockaddr_in addr;
    int lfd = listener(&addr, 1);
    int status_pipe[2];
    if (pipe(status_pipe) < 0)
        return 1;
    pid_t child = fork();
    if (child == 0) {
        prctl(PR_SET_NAME, "tcpsend-rx");
        close(status_pipe[0]);
        int fd = accept(lfd, NULL, NULL);
        long long total = 0;
        for (;;) {
            ssize_t r = read(fd, buf, size);
            if (r <= 0)
                break;
            total += r;
        }
        /* Tell the sender when the last byte has been read: that is the end of the timing. */
        long long end = now_ns();
        (void)!write(status_pipe[1], &end, sizeof end);
        _exit(0);
    }
    close(status_pipe[1]);
    int fd = connect_to(&addr);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    wait_for_go(argc, argv, 4);
    long done = 0;
    long long start = now_ns();
    while (amount_more(&a, done, start)) {
        long batch = a.count > 0 && a.count - done < 256 ? a.count - done : 256;
        for (long i = 0; i < batch; i++) {
            if (write(fd, buf, size) != (ssize_t)size) {
                perror("write");
                return 1;
            }
        }
        done += batch;
    }
    shutdown(fd, SHUT_WR);
    long long end = 0;
    if (read(status_pipe[0], &end, sizeof end) != sizeof end)
        end = now_ns();
    waitpid(child, NULL, 0);
    report(done, end - start);
    return 0;
}

static int many_flows(int argc, char **argv)
{
    long n = atol(argv[2]);
    struct rlimit lim;
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    if (n < 1 || (rlim_t)n + 16 > lim.rlim_cur) {
        fprintf(stderr, "N: 1 to %ld (open files limit)\n", (long)lim.rlim_cur - 16);
        return 2;
    }
    struct sockaddr_in addr;
    int lfd = listener(&addr, 4096);
    int done_pipe[2];
    if (pipe(done_pipe) < 0)
        return 1;
    pid_t child = fork();
    if (child == 0) {
        prctl(PR_SET_NAME, "tcpsend-srv");
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(done_pipe[1]);
        int *fds = calloc(n, sizeof(int));
        char c;
        for (long i = 0; i < n; i++)
            fds[i] = accept(lfd, NULL, NULL);
        for (long i = 0; i < n; i++) {
            if (read_exactly(fds[i], &c, 1) < 0 || write(fds[i], "s", 1) != 1)
                _exit(1);
        }
        /* Hold every socket until the parent says so (its end of the pipe closes). */
        (void)!read(done_pipe[0], &c, 1);
        _exit(0);
    }
    close(done_pipe[0]);
    close(lfd);
    int *fds = calloc(n, sizeof(int));
    for (long i = 0; i < n; i++)
        fds[i] = connect_to(&addr);
    printf("connected %ld\n", n);
    fflush(stdout);
    wait_for_go(argc, argv, 3);
    char c;
    for (long i = 0; i < n; i++) {
        if (write(fds[i], "c", 1) != 1 || read_exactly(fds[i], &c, 1) < 0) {
            perror("flow");
            return 1;
        }
    }
    printf("moved %ld\n", n);
    fflush(stdout);
    char line[64];
    (void)!fgets(line, sizeof line, stdin);
    for (long i = 0; i < n; i++)
        close(fds[i]);
    close(done_pipe[1]);
    waitpid(child, NULL, 0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "send") == 0)
        return send_messages(argc, argv);
    if (argc >= 3 && strcmp(argv[1], "flows") == 0)
        return many_flows(argc, argv);
    fprintf(stderr, "usage: tcpsend send AMOUNT SIZE [wait] | tcpsend flows N [wait]\n");
    return 2;
}
