/* Ground truth for biosnoop: the O_DIRECT reads and writes given on the command line, in that
 * order, on DEVICE, each waiting for the previous one, so that the block layer sees exactly one
 * request per operation (no page cache, no readahead, no merging; sizes up to the device's
 * max_sectors_kb stay whole). Prints "pid PID TID" first, then one line per operation done:
 *   "R OFFSET BYTES" or "W OFFSET BYTES".
 * Operations: rOFFSET:BYTES or wOFFSET:BYTES, multiples of 512 (O_DIRECT on a 512-byte device).
 *
 * usage: biosnoop-dio DEVICE OP... */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_BYTES (1 << 20)

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: biosnoop-dio DEVICE OP...  (OP: rOFFSET:BYTES or wOFFSET:BYTES)\n");
        return 2;
    }
    int fd = open(argv[1], O_RDWR | O_DIRECT);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    char *buf;
    if (posix_memalign((void **)&buf, 4096, MAX_BYTES) != 0)
        return 1;
    memset(buf, 0x5a, MAX_BYTES);
    printf("pid %d %ld\n", getpid(), (long)syscall(SYS_gettid));
    for (int i = 2; i < argc; i++) {
        char op = argv[i][0];
        long long offset;
        long bytes;
        if ((op != 'r' && op != 'w') || sscanf(argv[i] + 1, "%lld:%ld", &offset, &bytes) != 2 ||
            bytes <= 0 || bytes > MAX_BYTES || offset % 512 || bytes % 512) {
            fprintf(stderr, "bad operation %s\n", argv[i]);
            return 2;
        }
        ssize_t done = op == 'r' ? pread(fd, buf, bytes, offset) : pwrite(fd, buf, bytes, offset);
        if (done != bytes) {
            perror(op == 'r' ? "pread" : "pwrite");
            return 1;
        }
        printf("%c %lld %ld\n", op == 'r' ? 'R' : 'W', offset, bytes);
    }
    close(fd);
    return 0;
}
