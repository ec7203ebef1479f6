/* The statsnoop workload: stat() of one existing file in a tight loop, so that what a tracer adds
 * per call stands out against the call itself. The call is the stat syscall itself (newstat on
 * x86_64), not glibc's stat(), which has been newfstatat since glibc 2.33: bpftrace's packaged
 * statsnoop.bt hooks newstat, statx, newlstat and statfs only, and would see none of them.
 * Where there is no stat syscall (arm64) it is newfstatat. The file is in /dev/shm (tmpfs).
 *   statloop AMOUNT [wait]      AMOUNT: N stats, or @SECONDS (see bench.h) */
#include "bench.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: statloop AMOUNT [wait]\n");
        return 2;
    }
    struct amount a = parse_amount(argv[1]);
    char path[64];
    snprintf(path, sizeof path, "/dev/shm/bpfkit-statloop-%d", (int)getpid());
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    close(fd);
    wait_for_go(argc, argv, 2);
    struct stat st;
    long done = 0, failed = 0;
    long long start = now_ns();
    while (amount_more(&a, done, start)) {
        long batch = a.count > 0 && a.count - done < 1024 ? a.count - done : 1024;
        for (long i = 0; i < batch; i++) {
#ifdef SYS_stat
            if (syscall(SYS_stat, path, &st) != 0)
#else
            if (syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0) != 0)
#endif
                failed++;
        }
        done += batch;
    }
    long long elapsed = now_ns() - start;
    unlink(path);
    if (failed) {
        fprintf(stderr, "statloop: %ld stats failed\n", failed);
        return 1;
    }
    report(done, elapsed);
    return 0;
}
