/* runqlat's bench workload: two processes pinned to one CPU pass a byte back and forth through
 * two pipes, so every message is one wakeup and one context switch, and no CPU idles between
 * them: what a tracer adds per context switch stands out.
 *   runqlat-pingpong AMOUNT [wait]   AMOUNT: N context switches, or @SECONDS (see bench.h)
 * The result line counts context switches (two per round trip). */
#include "../bench/workloads/bench.h"
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: runqlat-pingpong AMOUNT [wait]\n");
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
    pid_t echo = fork();
    if (echo == 0) {
        close(ping[1]);
        close(pong[0]);
        char c;
        while (read(ping[0], &c, 1) == 1)
            if (write(pong[1], &c, 1) != 1)
                _exit(1);
        _exit(0);
    }
    close(ping[0]);
    close(pong[1]);
    wait_for_go(argc, argv, 2);
    long done = 0;
    long long start = now_ns();
    char c = 'x';
    while (amount_more(&a, done, start)) {
        if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
            return 1;
        done += 2;
    }
    long long elapsed = now_ns() - start;
    close(ping[1]);
    waitpid(echo, NULL, 0);
    report(done, elapsed);
    return 0;
}
