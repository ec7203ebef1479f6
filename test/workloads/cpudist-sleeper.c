// cpudist-sleeper N MS: prints "ready PID", waits for a line on stdin, then sleeps N times MS
// milliseconds in nanosleep (each sleep one off-CPU period of at least MS ms) and prints "done PID".
// The off-CPU ground truth of cpudist -O's test.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: cpudist-sleeper N MS\n"); return 2; }
  int n = atoi(argv[1]);
  long ms = atol(argv[2]);
  printf("ready %d\n", getpid());
  fflush(stdout);
  char line[16];
  if (!fgets(line, sizeof line, stdin)) return 3;
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  for (int i = 0; i < n; i++) nanosleep(&ts, NULL);
  printf("done %d\n", getpid());
  fflush(stdout);
  return 0;
}
