// runqlat-tasks CPU SECONDS SPINNERS SLEEPERS [wait]: children pinned to one CPU that compete for
// it for SECONDS of wall time each — SPINNERS spin (the scheduler preempts them), SLEEPERS sleep
// 1 ms at a time and spin 0.2 ms when woken (each run starts with a wakeup) — and the kernel's
// count of their run queue waits, read after each child has exited.
//
// The parent prints "ready PID..." once every child exists and waits (with "wait": until a line
// arrives on stdin, so that a tracer filtered on a child can be started first), lets them go, and
// for each child prints "child PID RUN_NS WAIT_NS SLICES" from /proc/PID/schedstat (time on the
// CPU, time runnable but waiting, times switched in). It reads them while the child is a zombie
// (waitid with WNOWAIT): the child has run for the last time, so nothing it does after the read
// (spin-pinned.c's children read their own file, and may be preempted again before exiting) can
// make the tracer count more than the kernel did.
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void spin_until(double end) {
  volatile unsigned long sum = 0;
  while (now() < end)
    for (unsigned long k = 0; k < 1000; k++) sum += k;
}

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: runqlat-tasks CPU SECONDS SPINNERS SLEEPERS [wait]\n"); return 2; }
  int cpu = atoi(argv[1]);
  double seconds = atof(argv[2]);
  int spinners = atoi(argv[3]), sleepers = atoi(argv[4]);
  int wait_for_go = argc > 5 && strcmp(argv[5], "wait") == 0;
  int n = spinners + sleepers;
  if (n < 1 || n > 64) { fprintf(stderr, "1 to 64 children\n"); return 2; }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set)) { perror("sched_setaffinity"); return 1; }
  int go[2];
  if (pipe(go)) return 1;
  pid_t pids[64];
  for (int i = 0; i < n; i++) {
    pids[i] = fork();
    if (pids[i] < 0) { perror("fork"); return 1; }
    if (pids[i] == 0) {
      close(go[1]);
      char c;
      if (read(go[0], &c, 1) != 0) _exit(1);  // the parent's close starts every child at once
      double end = now() + seconds;
      if (i < spinners) {
        spin_until(end);
      } else {
        struct timespec ms = { 0, 1000000 };
        while (now() < end) {
          nanosleep(&ms, NULL);
          spin_until(now() + 0.0002);
        }
      }
      _exit(0);
    }
  }
  close(go[0]);
  printf("ready");
  for (int i = 0; i < n; i++) printf(" %d", pids[i]);
  printf("\n");
  fflush(stdout);
  if (wait_for_go) {
    char line[64];
    if (!fgets(line, sizeof line, stdin)) return 3;
  }
  close(go[1]);
  for (int i = 0; i < n; i++) {
    siginfo_t info;
    if (waitid(P_PID, pids[i], &info, WEXITED | WNOWAIT)) { perror("waitid"); return 1; }
    char path[64], line[128];
    snprintf(path, sizeof path, "/proc/%d/schedstat", pids[i]);
    FILE *f = fopen(path, "r");
    unsigned long long run = 0, waited = 0, slices = 0;
    if (!f || !fgets(line, sizeof line, f) || sscanf(line, "%llu %llu %llu", &run, &waited, &slices) != 3) {
      fprintf(stderr, "cannot read %s\n", path);
      return 1;
    }
    fclose(f);
    printf("child %d %llu %llu %llu\n", pids[i], run, waited, slices);
    fflush(stdout);
    waitpid(pids[i], NULL, 0);
  }
  return 0;
}
