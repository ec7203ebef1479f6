/* The exitsnoop workload: WORKERS processes each fork() a child that exits at once with _exit(0),
 * waiting for each, until AMOUNT children have ended in all (N, or @SECONDS: see bench.h). No
 * exec: the cost measured is one process's start and end, which is where exitsnoop's probe runs.
 * ops counts children reaped with status 0; any other status makes the exit status 1.
 *   forkexit AMOUNT WORKERS [wait] */
#include "bench.h"
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: forkexit AMOUNT WORKERS [wait]\n");
        return 2;
    }
    struct amount a = parse_amount(argv[1]);
    long workers = atol(argv[2]);
    if (workers < 1)
        workers = 1;
    wait_for_go(argc, argv, 3);
    /* Per-worker counts, shared with the parent. */
    long *done = mmap(NULL, sizeof(long) * 2 * workers, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (done == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    memset(done, 0, sizeof(long) * 2 * workers);
    long long start = now_ns();
    for (long w = 0; w < workers; w++) {
        if (fork() == 0) {
            struct amount mine = a;
            if (a.count > 0)
                mine.count = a.count / workers + (w < a.count % workers ? 1 : 0);
            long n = 0, failed = 0;
            while (amount_more(&mine, n + failed, start)) {
                pid_t pid = fork();
                if (pid == 0)
                    _exit(0);
                int status = 0;
                if (pid > 0 && waitpid(pid, &status, 0) == pid && status == 0)
                    n++;
                else
                    failed++;
            }
            done[2 * w] = n;
            done[2 * w + 1] = failed;
            _exit(0);
        }
    }
    while (wait(NULL) > 0)
        ;
    long long elapsed = now_ns() - start;
    long total = 0, failed = 0;
    for (long w = 0; w < workers; w++) {
        total += done[2 * w];
        failed += done[2 * w + 1];
    }
    report(total, elapsed);
    if (failed) {
        fprintf(stderr, "forkexit: %ld children failed\n", failed);
        return 1;
    }
    return 0;
}
