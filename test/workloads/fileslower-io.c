/* fileslower's test workload: K reads and M writes of BYTES each on a slow file (a FUSE file
 * system that sleeps), L reads of BYTES on a fast one (tmpfs, cached), each timed here with
 * CLOCK_MONOTONIC around the call and printed: "OP FILE BYTES NS" (OP: read or pwrite; FILE:
 * slow or fast; BYTES: the call's return value). Waits for a line on stdin before the first call.
 *   fileslower-io SLOW_PATH K M FAST_PATH L BYTES */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static char out[1 << 16];
static int used;

static void note(const char *op, const char *file, long ret, long long ns)
{
    used += snprintf(out + used, sizeof out - used, "%s %s %ld %lld\n", op, file, ret, ns);
}

int main(int argc, char **argv)
{
    if (argc != 7)
        return 2;
    int k = atoi(argv[2]), m = atoi(argv[3]), l = atoi(argv[5]);
    size_t bytes = atol(argv[6]);
    static char buf[1 << 20];
    if (bytes > sizeof buf)
        return 2;
    int slow = open(argv[1], O_RDWR);
    int fast = open(argv[4], O_RDONLY);
    if (slow < 0 || fast < 0) {
        perror("open");
        return 3;
    }
    char line[16];
    if (!fgets(line, sizeof line, stdin))
        return 4;
    for (int i = 0; i < k; i++) {
        long long t0 = now_ns();
        long ret = read(slow, buf, bytes);
        note("read", "slow", ret, now_ns() - t0);
    }
    for (int i = 0; i < l; i++) {
        long long t0 = now_ns();
        long ret = read(fast, buf, bytes);
        long long t1 = now_ns();
        lseek(fast, 0, SEEK_SET);
        note("read", "fast", ret, t1 - t0);
    }
    for (int i = 0; i < m; i++) {
        long long t0 = now_ns();
        long ret = pwrite(slow, buf, bytes, (off_t)i * bytes);
        note("pwrite", "slow", ret, now_ns() - t0);
    }
    fputs(out, stdout);
    return 0;
}
