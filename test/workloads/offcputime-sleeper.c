// offcputime-sleeper N MS: sleeps N times MS milliseconds in nanosleep(2), every call made from
// sleep_in_nanosleep() itself, then waits for stdin to close before it exits.
//
// Prints "ready PID" and waits for a line on stdin before sleeping (so a tracer filtered on PID
// can be started first), then "done PID WALL_NS" after the last sleep: WALL_NS is the time the
// calls took together (CLOCK_MONOTONIC around each), an upper bound of their time off CPU. It stays until stdin closes so
// that its mappings are there while the tracer names its user stacks.
//
// The system call is made by an instruction inside sleep_in_nanosleep(), not through libc:
// libc is built without frame pointers, and a walk that starts in its nanosleep() skips the
// caller. Here the user stack's first frame is sleep_in_nanosleep itself.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

__attribute__((noinline)) long sleep_in_nanosleep(const struct timespec *req) {
#if defined(__x86_64__)
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"((long)SYS_nanosleep), "D"(req), "S"(0L) : "rcx", "r11", "memory");
  return ret;
#elif defined(__aarch64__)
  register long x8 __asm__("x8") = SYS_nanosleep;
  register long x0 __asm__("x0") = (long)req;
  register long x1 __asm__("x1") = 0;
  __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1) : "memory");
  return x0;
#else
  return syscall(SYS_nanosleep, req, NULL);
#endif
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 20;
  long ms = argc > 2 ? atol(argv[2]) : 50;
  char line[64];
  printf("ready %d\n", getpid());
  fflush(stdout);
  if (!fgets(line, sizeof line, stdin)) return 3;
  struct timespec req = { ms / 1000, (ms % 1000) * 1000000L };
  long long wall = 0;
  for (int i = 0; i < n; i++) {
    long long start = now_ns();
    if (sleep_in_nanosleep(&req) != 0) {
      fprintf(stderr, "nanosleep was interrupted\n");
      return 1;
    }
    wall += now_ns() - start;
  }
  printf("done %d %lld\n", getpid(), wall);
  fflush(stdout);
  while (fgets(line, sizeof line, stdin)) {}
  return 0;
}
