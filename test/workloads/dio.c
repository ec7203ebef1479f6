/* Makes exactly READS reads and WRITES writes of BLOCK bytes (default 4096) on DEVICE with
 * O_DIRECT, then exits: ground truth for block I/O counters. Each read and write bypasses the page
 * cache and waits for the previous one, so the block layer sees exactly one request per call (no
 * readahead, no writeback, no merging). Reads come first, then writes, at distinct block-aligned
 * offsets within the device.
 *
 * With BATCH > 1 the writes are instead submitted BATCH at a time with one io_submit() (Linux
 * AIO), at adjacent offsets: the block layer then merges them into fewer, larger requests, which
 * is how a test checks that merged I/O is still counted once per request the device completes.
 *
 * usage: dio DEVICE READS WRITES [BLOCK [BATCH]] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int write_batches(int fd, char *buf, size_t block, long writes, long batch, long blocks) {
  aio_context_t ctx = 0;
  if (syscall(SYS_io_setup, batch, &ctx) < 0) { perror("io_setup"); return 1; }
  struct iocb *cbs = calloc(batch, sizeof(*cbs));
  struct iocb **ptrs = calloc(batch, sizeof(*ptrs));
  struct io_event *events = calloc(batch, sizeof(*events));
  long done = 0;
  while (done < writes) {
    long n = writes - done < batch ? writes - done : batch;
    if ((done % blocks) + n > blocks) done = done - (done % blocks) + blocks; /* never wrap inside a batch */
    for (long i = 0; i < n; i++) {
      memset(&cbs[i], 0, sizeof(cbs[i]));
      cbs[i].aio_fildes = fd;
      cbs[i].aio_lio_opcode = IOCB_CMD_PWRITE;
      cbs[i].aio_buf = (unsigned long)(buf + i * block);
      cbs[i].aio_nbytes = block;
      cbs[i].aio_offset = (long long)(((done + i) % blocks) * block);
      ptrs[i] = &cbs[i];
    }
    if (syscall(SYS_io_submit, ctx, n, ptrs) != n) { perror("io_submit"); return 1; }
    for (long got = 0; got < n;) {
      long r = syscall(SYS_io_getevents, ctx, 1, n - got, events, NULL);
      if (r < 0) { perror("io_getevents"); return 1; }
      for (long i = 0; i < r; i++) {
        if (events[i].res != (long long)block) { fprintf(stderr, "aio write: %lld\n", (long long)events[i].res); return 1; }
      }
      got += r;
    }
    done += n;
  }
  syscall(SYS_io_destroy, ctx);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: dio DEVICE READS WRITES [BLOCK [BATCH]]\n");
    return 2;
  }
  long reads = atol(argv[2]), writes = atol(argv[3]);
  size_t block = argc > 4 ? (size_t)atol(argv[4]) : 4096;
  long batch = argc > 5 ? atol(argv[5]) : 1;
  int fd = open(argv[1], O_RDWR | O_DIRECT);
  if (fd < 0) { perror(argv[1]); return 1; }
  unsigned long long size = 0;
  if (ioctl(fd, BLKGETSIZE64, &size) < 0 || size < block * (batch > 0 ? batch : 1)) {
    fprintf(stderr, "%s: too small\n", argv[1]);
    return 1;
  }
  long blocks = (long)(size / block);
  char *buf;
  if (posix_memalign((void **)&buf, 4096, block * (batch > 1 ? batch : 1)) != 0) return 1;
  memset(buf, 0xab, block * (batch > 1 ? batch : 1));
  for (long i = 0; i < reads; i++) {
    if (pread(fd, buf, block, (off_t)(i % blocks) * block) != (ssize_t)block) { perror("pread"); return 1; }
  }
  if (batch > 1) {
    if (write_batches(fd, buf, block, writes, batch, blocks)) return 1;
  } else {
    for (long i = 0; i < writes; i++) {
      if (pwrite(fd, buf, block, (off_t)(i % blocks) * block) != (ssize_t)block) { perror("pwrite"); return 1; }
    }
  }
  close(fd);
  return 0;
}
