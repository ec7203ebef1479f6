/* The biolatency workload: 4 KiB reads with O_DIRECT from DEVICE (a loop device over /dev/shm),
 * one at a time, each waiting for the previous one: one block request per read, no page cache,
 * no readahead, no merging. Offsets walk through the device block by block and wrap around.
 *   dio DEVICE AMOUNT [wait]     AMOUNT: N reads, or @SECONDS (see bench.h) */
#include "bench.h"
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define BLOCK 4096

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: dio DEVICE AMOUNT [wait]\n");
        return 2;
    }
    struct amount a = parse_amount(argv[2]);
    int fd = open(argv[1], O_RDONLY | O_DIRECT);
    unsigned long long size = 0;
    if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size) < 0 || size < BLOCK) {
        perror(argv[1]);
        return 1;
    }
    void *buf;
    if (posix_memalign(&buf, BLOCK, BLOCK))
        return 1;
    long long blocks = size / BLOCK;
    wait_for_go(argc, argv, 3);
    long done = 0;
    long long start = now_ns();
    while (amount_more(&a, done, start)) {
        long batch = a.count > 0 && a.count - done < 64 ? a.count - done : 64;
        for (long i = 0; i < batch; i++) {
            if (pread(fd, buf, BLOCK, ((done + i) % blocks) * BLOCK) != BLOCK) {
                perror("pread");
                return 1;
            }
        }
        done += batch;
    }
    report(done, now_ns() - start);
    return 0;
}
