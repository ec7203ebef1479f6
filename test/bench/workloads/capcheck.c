/* The capable workload: one CAP_SYS_NICE check per operation. Each operation lowers the
 * process's nice value to -1 (past RLIMIT_NICE, set to 0 here, so the kernel asks cap_capable())
 * and sets it back to 0 (raising it checks nothing): two setpriority() calls, one check.
 * Run as root, every check is allowed.
 *   capcheck AMOUNT [wait]      AMOUNT: N operations, or @SECONDS (see bench.h) */
#include "bench.h"
#include <sys/resource.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: capcheck AMOUNT [wait]\n");
        return 2;
    }
    struct amount a = parse_amount(argv[1]);
    struct rlimit none = { 0, 0 };
    if (setrlimit(RLIMIT_NICE, &none)) {
        perror("setrlimit");
        return 1;
    }
    wait_for_go(argc, argv, 2);
    long done = 0;
    long long start = now_ns();
    while (amount_more(&a, done, start)) {
        long batch = a.count > 0 && a.count - done < 1024 ? a.count - done : 1024;
        for (long i = 0; i < batch; i++) {
            if (setpriority(PRIO_PROCESS, 0, -1) != 0) {
                perror("setpriority");
                return 1;
            }
            setpriority(PRIO_PROCESS, 0, 0);
        }
        done += batch;
    }
    report(done, now_ns() - start);
    return 0;
}
