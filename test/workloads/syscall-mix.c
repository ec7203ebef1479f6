/* Makes an exactly known mix of system calls: ground truth for syscall counters (syscount's tests).
 *
 * usage: syscall-mix [wait] OP...   where each OP runs in order:
 *   wait            read(0) one line first, so a tracer can attach and filter on this PID; start
 *                   the tracer once /proc/PID/syscall shows this process blocked in read (0)
 *   getppid=N       N getppid()
 *   write=N         N one-byte write() to /dev/null (opened at start, before "wait")
 *   enoent=N        N openat() of a path that does not exist: each fails with ENOENT
 *   ebadf=N         N close(-1): each fails with EBADF
 *   nanosleep=N:NS  N nanosleep() of NS nanoseconds each, then one write() to stdout of
 *                   "slept_ns=T\n", T the total measured around the calls (CLOCK_MONOTONIC)
 *   threads=N       N threads, one after the other, each making one getppid() and exiting
 *   sleepers=N      N threads that sleep in nanosleep() until exit_group() kills them
 *
 * Every call goes through syscall(2), so libc adds none, and the process ends with exactly one
 * exit_group(). So "wait getppid=5 write=3" makes, after the read returns: 5 getppid, 3 write,
 * 1 exit_group. (Thread creation makes its own calls: mmap, clone3, futex…; only its getppid
 * calls are exact.) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void *one_getppid(void *arg) {
  (void)arg;
  syscall(SYS_getppid);
  return NULL;
}

static void *sleep_long(void *arg) {
  struct timespec req = { 60, 0 };
  (void)arg;
  syscall(SYS_nanosleep, &req, NULL);
  return NULL;
}

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO: no system call */
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
  int devnull = open("/dev/null", O_WRONLY);
  if (devnull < 0) return 1;
  for (int i = 1; i < argc; i++) {
    const char *op = argv[i];
    const char *eq = strchr(op, '=');
    long n = eq ? atol(eq + 1) : 0;
    if (strcmp(op, "wait") == 0) {
      char line[64];
      if (syscall(SYS_read, 0, line, sizeof line) <= 0) return 1;
    } else if (strncmp(op, "getppid=", 8) == 0) {
      for (long k = 0; k < n; k++) syscall(SYS_getppid);
    } else if (strncmp(op, "write=", 6) == 0) {
      for (long k = 0; k < n; k++) syscall(SYS_write, devnull, "x", 1);
    } else if (strncmp(op, "enoent=", 7) == 0) {
      for (long k = 0; k < n; k++) syscall(SYS_openat, AT_FDCWD, "/nonexistent/bpfkit-syscount", O_RDONLY);
    } else if (strncmp(op, "ebadf=", 6) == 0) {
      for (long k = 0; k < n; k++) syscall(SYS_close, -1);
    } else if (strncmp(op, "nanosleep=", 10) == 0) {
      const char *colon = strchr(op, ':');
      struct timespec req = { 0, colon ? atol(colon + 1) : 1000000 };
      long long total = 0;
      for (long k = 0; k < n; k++) {
        long long t0 = now_ns();
        syscall(SYS_nanosleep, &req, NULL);
        total += now_ns() - t0;
      }
      char out[64];
      int len = snprintf(out, sizeof out, "slept_ns=%lld\n", total);
      syscall(SYS_write, 1, out, len);
    } else if (strncmp(op, "threads=", 8) == 0) {
      for (long k = 0; k < n; k++) {
        pthread_t t;
        if (pthread_create(&t, NULL, one_getppid, NULL) != 0) return 1;
        pthread_join(t, NULL);
      }
    } else if (strncmp(op, "sleepers=", 9) == 0) {
      for (long k = 0; k < n; k++) {
        pthread_t t;
        if (pthread_create(&t, NULL, sleep_long, NULL) != 0) return 1;
      }
    } else {
      return 2;
    }
  }
  syscall(SYS_exit_group, 0);
  return 0;
}
