/* The setuids workload: setresuid(-1, -1, -1) in a tight loop. -1 leaves every id as it is, so
 * each operation is one complete setresuid() syscall that changes nothing (and needs no
 * privilege): the added cost is the tracer's alone.
 *   setuidloop AMOUNT [wait]    AMOUNT: N calls, or @SECONDS (see bench.h) */
#include "bench.h"
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: setuidloop AMOUNT [wait]\n");
        return 2;
    }
    struct amount a = parse_amount(argv[1]);
    wait_for_go(argc, argv, 2);
    long done = 0;
    long long start = now_ns();
    while (amount_more(&a, done, start)) {
        long batch = a.count > 0 && a.count - done < 1024 ? a.count - done : 1024;
        for (long i = 0; i < batch; i++)
            if (syscall(SYS_setresuid, -1, -1, -1) != 0) {
                perror("setresuid");
                return 1;
            }
        done += batch;
    }
    report(done, now_ns() - start);
    return 0;
}
