// spin-pinned CPU SECONDS N: N children pinned to one CPU spin for SECONDS of wall time each, so
// that they take turns on it and the scheduler preempts them. Before exiting, each child prints
// what the kernel counted for it in /proc/self/schedstat: "child PID RUN_NS WAIT_NS SLICES"
// (time on the CPU, time runnable but waiting, times it was switched in), the ground truth that
// runqlat's and cpudist's tests compare with. The parent prints "ready PID..." once all children
// are running and waits for them.
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: spin-pinned CPU SECONDS N\n"); return 2; }
  int cpu = atoi(argv[1]);
  double seconds = atof(argv[2]);
  int n = atoi(argv[3]);
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set)) { perror("sched_setaffinity"); return 1; }
  int ready[2];
  if (pipe(ready)) return 1;
  pid_t pids[64];
  if (n > 64) n = 64;
  for (int i = 0; i < n; i++) {
    pids[i] = fork();
    if (pids[i] == 0) {
      close(ready[1]);
      char go;
      if (read(ready[0], &go, 1) != 0) return 1; // the parent's close starts every child at once
      volatile unsigned long sum = 0;
      double end = now() + seconds;
      while (now() < end)
        for (unsigned long k = 0; k < 10000; k++) sum += k;
      char line[128];
      FILE *f = fopen("/proc/self/schedstat", "r");
      unsigned long long run = 0, wait = 0, slices = 0;
      if (f && fgets(line, sizeof line, f)) sscanf(line, "%llu %llu %llu", &run, &wait, &slices);
      printf("child %d %llu %llu %llu\n", getpid(), run, wait, slices);
      fflush(stdout);
      return 0;
    }
  }
  close(ready[0]);
  printf("ready");
  for (int i = 0; i < n; i++) printf(" %d", pids[i]);
  printf("\n");
  fflush(stdout);
  close(ready[1]);
  for (int i = 0; i < n; i++) waitpid(pids[i], NULL, 0);
  return 0;
}
