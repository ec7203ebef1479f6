/* The syscount workload: getppid() in a tight loop, the cheapest real system call, so that what a
 * tracer adds per call stands out against the call itself (~170 ns here untraced).
 *   getppid AMOUNT [wait]      AMOUNT: N calls, or @SECONDS (see bench.h) */
#include "bench.h"
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: getppid AMOUNT [wait]\n");
        return 2;
    }
    struct amount a = parse_amount(argv[1]);
    wait_for_go(argc, argv, 2);
    long done = 0;
    long long start = now_ns();
    while (amount_more(&a, done, start)) {
        long batch = a.count > 0 && a.count - done < 1024 ? a.count - done : 1024;
        for (long i = 0; i < batch; i++)
            syscall(SYS_getppid);     /* through syscall(2): libc caches nothing, adds nothing */
        done += batch;
    }
    report(done, now_ns() - start);
    return 0;
}
