/* offcputime's bench workload: two processes pass one byte back and forth through two pipes, so
 * that each round trip blocks each side once (two sleeps, two wake-ups, two or more context
 * switches): what a tracer on sched_switch adds shows per round trip.
 *   offcputime-pingpong AMOUNT [wait]     AMOUNT: N round trips, or @SECONDS (bench.h) */
#include "../bench/workloads/bench.h"
#include <sys/wait.h>
#include <unistd.h>

static void xfer(int in, int out, char *c)
{
    if (write(out, c, 1) != 1 || read(in, c, 1) != 1)
        exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: offcputime-pingpong AMOUNT [wait]\n");
        return 2;
    }
    struct amount a = parse_amount(argv[1]);
    int ping[2], pong[2];
    if (pipe(ping) || pipe(pong))
        return 1;
    pid_t child = fork();
    if (child == 0) {
        char c;
        close(ping[1]);
        close(pong[0]);
        /* Echoes until the parent closes its end. */
        while (read(ping[0], &c, 1) == 1)
            if (write(pong[1], &c, 1) != 1)
                return 1;
        return 0;
    }
    close(ping[0]);
    close(pong[1]);
    wait_for_go(argc, argv, 2);
    char c = 'x';
    long done = 0;
    long long start = now_ns();
    while (amount_more(&a, done, start)) {
        long batch = a.count > 0 && a.count - done < 256 ? a.count - done : 256;
        for (long i = 0; i < batch; i++)
            xfer(pong[0], ping[1], &c);
        done += batch;
    }
    long long elapsed = now_ns() - start;
    close(ping[1]);
    waitpid(child, NULL, 0);
    report(done, elapsed);
    return 0;
}
