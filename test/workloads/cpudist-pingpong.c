/* cpudist-pingpong AMOUNT [wait]: two processes pinned to one CPU pass a byte back and forth
 * through two pipes, so that every message is one context switch (the sender blocks reading its
 * reply, the receiver runs): cpudist's bench workload, where a tracer's cost per switch shows.
 * AMOUNT: N messages, or @SECONDS (test/bench/workloads/bench.h). ops = messages = switches. */
#include "../bench/workloads/bench.h"
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: cpudist-pingpong AMOUNT [wait]\n");
        return 2;
    }
    struct amount a = parse_amount(argv[1]);
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    if (sched_setaffinity(0, sizeof set, &set)) {
        perror("sched_setaffinity");
        return 1;
    }
    int ping[2], pong[2];
    if (pipe(ping) || pipe(pong))
        return 1;
    pid_t child = fork();
    if (child == 0) {
        /* Only the parent writes pings and reads pongs: its close is then the child's EOF. */
        close(ping[1]);
        close(pong[0]);
        char c;
        while (read(ping[0], &c, 1) == 1)
            if (write(pong[1], &c, 1) != 1)
                break;
        _exit(0);
    }
    close(ping[0]);
    close(pong[1]);
    wait_for_go(argc, argv, 2);
    long done = 0;
    long long start = now_ns();
    char c = 'x';
    while (amount_more(&a, done, start)) {
        for (int i = 0; i < 64; i++) {
            if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
                return 1;
        }
        done += 128;    /* two messages per round trip */
    }
    long long elapsed = now_ns() - start;
    report(done, elapsed);
    close(ping[1]);
    waitpid(child, NULL, 0);
    return 0;
}
