/* Makes O_DIRECT I/Os of known sizes on DEVICE under the process name COMM, then exits: ground
 * truth for bitesize's histograms. Each SPEC is rSIZExCOUNT (reads) or wSIZExCOUNT (writes):
 * COUNT I/Os of SIZE bytes, one at a time, each waiting for the previous one, at distinct
 * size-aligned offsets, so the block layer sees exactly one request of SIZE bytes per call (no
 * page cache, no readahead, no merging).
 *
 * usage: bitesize-sizes DEVICE COMM SPEC... */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: bitesize-sizes DEVICE COMM SPEC...\n");
    return 2;
  }
  /* The kernel keeps 15 bytes; the test names its processes within that. */
  if (prctl(PR_SET_NAME, argv[2], 0, 0, 0) != 0) { perror("prctl"); return 1; }
  int fd = open(argv[1], O_RDWR | O_DIRECT);
  if (fd < 0) { perror(argv[1]); return 1; }
  unsigned long long size = 0;
  if (ioctl(fd, BLKGETSIZE64, &size) < 0) { perror("BLKGETSIZE64"); return 1; }
  for (int a = 3; a < argc; a++) {
    char op = argv[a][0];
    char *end;
    unsigned long bytes = strtoul(argv[a] + 1, &end, 10);
    long count = *end == 'x' ? atol(end + 1) : 0;
    if ((op != 'r' && op != 'w') || bytes == 0 || bytes % 512 || count <= 0 || bytes > size) {
      fprintf(stderr, "bad SPEC %s\n", argv[a]);
      return 2;
    }
    char *buf;
    if (posix_memalign((void **)&buf, 4096, bytes) != 0) return 1;
    memset(buf, 0x5a, bytes);
    unsigned long long slots = size / bytes;
    for (long i = 0; i < count; i++) {
      off_t at = (off_t)((i % slots) * bytes);
      ssize_t n = op == 'r' ? pread(fd, buf, bytes, at) : pwrite(fd, buf, bytes, at);
      if (n != (ssize_t)bytes) { perror(op == 'r' ? "pread" : "pwrite"); return 1; }
    }
    free(buf);
  }
  close(fd);
  return 0;
}
