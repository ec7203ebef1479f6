// maps-execs: step 1's known workload. Starts /bin/true COUNT times (default 5), one after the
// other, INTERVAL_MS apart (default 300): exactly COUNT execs, each by a child of this process.
// It prints each child's PID, one a line, so that the step can pick their execs out of all the
// machine's. Usage: maps-execs [COUNT [INTERVAL_MS]]
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // dies with the step that started it
  int count = argc > 1 ? atoi(argv[1]) : 5, interval = argc > 2 ? atoi(argv[2]) : 300;
  if (count < 1 || count > 1000 || interval < 0 || interval > 10000) {
    fprintf(stderr, "usage: maps-execs [COUNT 1-1000 [INTERVAL_MS 0-10000]]\n");
    return 2;
  }
  for (int i = 0; i < count; i++) {
    pid_t child = fork();
    if (child < 0) { perror("fork"); return 1; }
    if (child == 0) {
      execl("/bin/true", "true", (char *)NULL);
      _exit(127);
    }
    printf("%d\n", (int)child);
    int status;
    waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) { fprintf(stderr, "maps-execs: /bin/true failed\n"); return 1; }
    if (i + 1 < count) nanosleep(&(struct timespec){ interval / 1000, (interval % 1000) * 1000000L }, NULL);
  }
  return 0;
}
