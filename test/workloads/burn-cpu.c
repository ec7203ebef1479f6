// burn-cpu SECONDS: spins in burn_cpu() for SECONDS of wall time, a function whose name the
// profilers' tests look for in every sample. Built with -fno-omit-frame-pointer and noinline by
// test/helpers/workloads.ts (burnCpu) so that the user stack is walkable and the frame exists.
// Prints "ready PID" when it starts spinning and "done PID" at the end.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// volatile: the loop's work cannot be folded away, and its time is spent in this frame.
__attribute__((noinline)) unsigned long burn_cpu(double seconds) {
  volatile unsigned long sum = 0;
  double end = now() + seconds;
  while (now() < end)
    for (unsigned long i = 0; i < 200000; i++) sum += i * i;
  return sum;
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 3;
  printf("ready %d\n", getpid());
  fflush(stdout);
  burn_cpu(seconds);
  printf("done %d\n", getpid());
  return 0;
}
