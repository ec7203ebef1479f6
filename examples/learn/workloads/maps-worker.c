// maps-worker: step 5's known workload. Pinned to CPU (when given), it reads commands from stdin,
// one a line, and answers each on stdout once done:
//   calls N   makes exactly N getppid() system calls; answers N
//   spin MS   makes getppid() calls for MS milliseconds; answers how many it made
// It ends at end of input. getppid is a system call nothing else in this process makes, so a
// program on its tracepoint sees this worker's commands and nothing more.
// Usage: maps-worker [CPU]
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // dies with the step that started it
  if (argc > 1) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(atoi(argv[1]), &set);
    if (sched_setaffinity(0, sizeof(set), &set) < 0) { perror("sched_setaffinity"); return 1; }
  }
  char line[64];
  long n;
  while (fgets(line, sizeof(line), stdin)) {
    long made = 0;
    if (sscanf(line, "calls %ld", &n) == 1) {
      for (; made < n; made++) syscall(SYS_getppid);
    } else if (sscanf(line, "spin %ld", &n) == 1) {
      // The clock is read every 1,000 calls, so the count is exact and the loop stays cheap.
      for (double end = now_ms() + n; now_ms() < end;) for (int i = 0; i < 1000; i++, made++) syscall(SYS_getppid);
    } else {
      fprintf(stderr, "maps-worker: unknown command %s", line);
      return 2;
    }
    printf("%ld\n", made);
    fflush(stdout);
  }
  return 0;
}
