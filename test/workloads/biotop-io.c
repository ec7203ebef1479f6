/* Makes exactly READS reads of READ_BYTES and WRITES writes of WRITE_BYTES on DEVICE with O_DIRECT,
 * then exits: ground truth for biotop's per-process sums. Each call bypasses the page cache and
 * waits for the one before, so the block layer sees one request per call (no readahead, no
 * writeback, no merging). Offsets are distinct and aligned, from OFFSET_KIB on: workloads running
 * at once on one device use regions apart.
 *
 * With "wait" last, it opens the device, prints "ready PID" and waits for a line on stdin before any
 * I/O: a tracer can then be given its PID (-p) before the work starts.
 *
 * usage: biotop-io DEVICE READS READ_BYTES WRITES WRITE_BYTES OFFSET_KIB [wait] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int run(int fd, char *buf, long n, size_t size, off_t *offset, int write) {
  for (long i = 0; i < n; i++) {
    ssize_t done = write ? pwrite(fd, buf, size, *offset) : pread(fd, buf, size, *offset);
    if (done != (ssize_t)size) { perror(write ? "pwrite" : "pread"); return 1; }
    *offset += (off_t)size;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: biotop-io DEVICE READS READ_BYTES WRITES WRITE_BYTES OFFSET_KIB [wait]\n");
    return 2;
  }
  long reads = atol(argv[2]), writes = atol(argv[4]);
  size_t read_size = (size_t)atol(argv[3]), write_size = (size_t)atol(argv[5]);
  off_t offset = (off_t)atol(argv[6]) * 1024;
  int fd = open(argv[1], O_RDWR | O_DIRECT);
  if (fd < 0) { perror(argv[1]); return 1; }
  size_t biggest = read_size > write_size ? read_size : write_size;
  char *buf;
  if (posix_memalign((void **)&buf, 4096, biggest) != 0) return 1;
  memset(buf, 0x5a, biggest);
  if (argc > 7 && strcmp(argv[7], "wait") == 0) {
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof(line), stdin)) return 1;
  }
  if (run(fd, buf, reads, read_size, &offset, 0) || run(fd, buf, writes, write_size, &offset, 1)) return 1;
  close(fd);
  return 0;
}
