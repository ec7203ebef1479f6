/* The fileslower workload: small pread()s of one cached tmpfs file in a tight loop, so that what a
 * tracer adds per read stands out against the read itself (~0.3 µs: a page-cache copy of 64
 * bytes). Every call is far below any threshold: this is what the timing at each call costs, with
 * nothing to report. The file is made in /dev/shm (tmpfs: no disk, always cached).
 *   preadloop AMOUNT [wait]      AMOUNT: N reads, or @SECONDS (see bench.h) */
#include "bench.h"
#include <fcntl.h>
#include <unistd.h>

#define READ_BYTES 64
#define FILE_BYTES 4096

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: preadloop AMOUNT [wait]\n");
        return 2;
    }
    struct amount a = parse_amount(argv[1]);
    char path[64], buf[FILE_BYTES];
    snprintf(path, sizeof path, "/dev/shm/bpfkit-preadloop-%d", (int)getpid());
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    memset(buf, 'r', sizeof buf);
    if (fd < 0 || write(fd, buf, sizeof buf) != sizeof buf) {
        perror(path);
        return 1;
    }
    unlink(path);
    wait_for_go(argc, argv, 2);
    long done = 0, failed = 0;
    long long start = now_ns();
    while (amount_more(&a, done, start)) {
        long batch = a.count > 0 && a.count - done < 1024 ? a.count - done : 1024;
        for (long i = 0; i < batch; i++)
            if (pread(fd, buf, READ_BYTES, (i * READ_BYTES) % FILE_BYTES) != READ_BYTES)
                failed++;
        done += batch;
    }
    long long elapsed = now_ns() - start;
    close(fd);
    report(done, elapsed);
    if (failed) {
        fprintf(stderr, "preadloop: %ld reads failed\n", failed);
        return 1;
    }
    return 0;
}
