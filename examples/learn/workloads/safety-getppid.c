// safety-getppid: calls getppid() N times (argument, default 100000) and prints how long one
// call took on average, "calls=N ns_per_call=X.X", so that step 9 can show what a program on
// sys_enter_getppid adds to every call. getppid is the cheapest system call there is: what a
// program adds to it is nearly all of what is measured.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
  if (n < 1 || n > 100000000) { fprintf(stderr, "safety-getppid: N must be 1-100000000\n"); return 2; }
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  // syscall() rather than getppid(): no C library may answer it without entering the kernel.
  for (long i = 0; i < n; i++) syscall(SYS_getppid);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
  printf("calls=%ld ns_per_call=%.1f\n", n, ns / n);
  return 0;
}
