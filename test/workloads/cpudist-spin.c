// cpudist-spin CPU SECONDS N: N children pinned to one CPU spin for SECONDS of wall time each and
// exit; the parent (pinned elsewhere, so it never takes the children's CPU) reads each child's
// /proc/PID/schedstat once it has exited but before reaping it, and prints
//   "child PID RUN_NS WAIT_NS SLICES"
// the kernel's final counts for the child's whole life, its exit included: time on the CPU, time
// runnable but waiting, times switched in. (spin-pinned.c has each child read its own schedstat
// while it still runs, so the slice in progress and anything after the read are not final.)
// The parent prints "ready PID..." once every child exists and has not yet run its spin.
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

static void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set)) { perror("sched_setaffinity"); exit(1); }
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: cpudist-spin CPU SECONDS N\n"); return 2; }
  int cpu = atoi(argv[1]);
  double seconds = atof(argv[2]);
  int n = atoi(argv[3]);
  if (n > 64) n = 64;
  int ready[2];
  if (pipe(ready)) return 1;
  pid_t pids[64];
  for (int i = 0; i < n; i++) {
    pids[i] = fork();
    if (pids[i] == 0) {
      pin(cpu);
      close(ready[1]);
      char go;
      if (read(ready[0], &go, 1) != 0) return 1; // the parent's close starts every child at once
      volatile unsigned long sum = 0;
      double end = now() + seconds;
      while (now() < end)
        for (unsigned long k = 0; k < 10000; k++) sum += k;
      _exit(0);
    }
  }
  // The parent keeps off the children's CPU where there is another one.
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus > 1) pin(cpu == 0 ? 1 : 0);
  close(ready[0]);
  printf("ready");
  for (int i = 0; i < n; i++) printf(" %d", pids[i]);
  printf("\n");
  fflush(stdout);
  close(ready[1]);
  for (int i = 0; i < n; i++) {
    siginfo_t info;
    // WNOWAIT: the child stays a zombie, so its schedstat is still there and final.
    if (waitid(P_PID, pids[i], &info, WEXITED | WNOWAIT)) { perror("waitid"); return 1; }
    char path[64], line[128];
    snprintf(path, sizeof path, "/proc/%d/schedstat", pids[i]);
    FILE *f = fopen(path, "r");
    unsigned long long run = 0, wait = 0, slices = 0;
    if (f && fgets(line, sizeof line, f)) sscanf(line, "%llu %llu %llu", &run, &wait, &slices);
    if (f) fclose(f);
    printf("child %d %llu %llu %llu\n", pids[i], run, wait, slices);
    fflush(stdout);
    waitpid(pids[i], NULL, 0);
  }
  return 0;
}
