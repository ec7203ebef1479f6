/* The killsnoop workload: kill(getpid(), 0) in a tight loop. Signal 0 checks that the target
 * exists and delivers nothing, so each operation is one complete kill() syscall and no handler.
 *   killself AMOUNT [wait]      AMOUNT: N calls, or @SECONDS (see bench.h) */
#include "bench.h"
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: killself AMOUNT [wait]\n");
        return 2;
    }
    struct amount a = parse_amount(argv[1]);
    wait_for_go(argc, argv, 2);
    pid_t self = getpid();
    long done = 0;
    long long start = now_ns();
    while (amount_more(&a, done, start)) {
        long batch = a.count > 0 && a.count - done < 1024 ? a.count - done : 1024;
        for (long i = 0; i < batch; i++)
            syscall(SYS_kill, self, 0);
        done += batch;
    }
    report(done, now_ns() - start);
    return 0;
}
