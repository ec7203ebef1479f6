/* The opensnoop workload: open() and close() of one existing file in a tight loop, so that what a
 * tracer adds per open stands out against the open itself. The file is made in /dev/shm (tmpfs:
 * no disk), and opened through openat(2) as glibc's open() does; the loop's closes are counted
 * in the cost, not as opens.
 *   openloop AMOUNT [wait]      AMOUNT: N opens, or @SECONDS (see bench.h) */
#include "bench.h"
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: openloop AMOUNT [wait]\n");
        return 2;
    }
    struct amount a = parse_amount(argv[1]);
    char path[64];
    snprintf(path, sizeof path, "/dev/shm/bpfkit-openloop-%d", (int)getpid());
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    close(fd);
    wait_for_go(argc, argv, 2);
    long done = 0, failed = 0;
    long long start = now_ns();
    while (amount_more(&a, done, start)) {
        long batch = a.count > 0 && a.count - done < 1024 ? a.count - done : 1024;
        for (long i = 0; i < batch; i++) {
            fd = open(path, O_RDONLY);
            if (fd >= 0)
                close(fd);
            else
                failed++;
        }
        done += batch;
    }
    long long elapsed = now_ns() - start;
    unlink(path);
    report(done, elapsed);
    if (failed) {
        fprintf(stderr, "openloop: %ld opens failed\n", failed);
        return 1;
    }
    return 0;
}
